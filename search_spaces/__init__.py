"""KerasTuner search spaces (HyperModels) for MNIST, by family name.

The registry names classes by path and imports them on demand, so listing the families (for
`--help` or a usage error) does not pay for importing TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from search_spaces._common import MnistHyperModel

FAMILIES: dict[str, str] = {
    "dense": "search_spaces.dense:DenseHyperModel",
    "weight_decay": "search_spaces.weight_decay:WeightDecayHyperModel",
    "conv": "search_spaces.conv:ConvHyperModel",
}
SPACES = ("full", "notebook")
#: Older names still accepted: "seed" was the notebook's configuration before "seed" meant only the
#: random seed.
SPACE_ALIASES = {"seed": "notebook"}


def canonical_space(name: str) -> str:
    """The space's current name (`seed` -> `notebook`); unknown names are returned unchanged."""
    return SPACE_ALIASES.get(name, name)


def hypermodel_class(family: str) -> type[MnistHyperModel]:
    """The family's HyperModel class; raises KeyError naming the known families."""
    try:
        module_name, class_name = FAMILIES[family].split(":")
    except KeyError:
        raise KeyError(f"Unknown family {family!r}; choose one of {', '.join(FAMILIES)}.") from None
    return getattr(importlib.import_module(module_name), class_name)


def make_hypermodel(family: str, space: str = "full", **kwargs: Any) -> MnistHyperModel:
    return hypermodel_class(family)(space=canonical_space(space), **kwargs)


__all__ = ["FAMILIES", "SPACES", "SPACE_ALIASES", "canonical_space", "hypermodel_class", "make_hypermodel"]
