"""KerasTuner search spaces (HyperModels) for MNIST, by family name."""

from __future__ import annotations

from search_spaces._common import SPACES, MnistHyperModel
from search_spaces.conv import ConvHyperModel
from search_spaces.dense import DenseHyperModel
from search_spaces.weight_decay import WeightDecayHyperModel

FAMILIES: dict[str, type[MnistHyperModel]] = {
    "dense": DenseHyperModel,
    "weight_decay": WeightDecayHyperModel,
    "conv": ConvHyperModel,
}


def make_hypermodel(family: str, space: str = "full", **kwargs) -> MnistHyperModel:
    """The family's HyperModel; raises KeyError naming the known families for an unknown one."""
    try:
        cls = FAMILIES[family]
    except KeyError:
        raise KeyError(f"Unknown family {family!r}; choose one of {', '.join(FAMILIES)}.") from None
    return cls(space=space, **kwargs)


__all__ = ["FAMILIES", "SPACES", "MnistHyperModel", "make_hypermodel"]
