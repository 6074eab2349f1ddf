"""Begin a fresh random or Bayesian search at the family's known-good point, then search as usual.

Why: KerasTuner's first trials are random draws, and on a 2-core CPU a bad first draw (a tiny SGD
learning rate, a huge augmented network) spends minutes learning nothing: the conv family's first
random trial at seed 0 reached 31.6 % after one epoch (benchmarks/time_to_99.py). Each family
declares `START`, a configuration measured on this machine (docs/design.md's probes), and the
oracle's first trial uses it (tuner_app.oracles.StartPointMixin; later known points follow it,
`starting_points`), so a search is never worse than that point. Any hyperparameter a known point
does not name keeps its default. `--no-start-point` turns this off; Hyperband (whose brackets
choose their own trials) is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras_tuner as kt

STARTING_TUNERS = ("random", "bayesian")


def start_values(space: kt.HyperParameters, start: Mapping[str, Any]) -> dict[str, Any]:
    """Values for every hyperparameter active under `start` (conditions follow the chosen parents).

    Start values the space has not seen yet (KerasTuner only learns e.g. `units_2` once a build
    reaches a third layer) are passed on too: a build that declares them keeps a preset value.
    """
    hps = space.copy()
    hps.values = {}
    for hp in hps.space:
        if hps.is_active(hp):
            value = start.get(hp.name, hp.default)
            hps.values[hp.name] = value if _allowed(hp, value) else hp.default
    known = {hp.name for hp in hps.space}
    return {**{k: v for k, v in start.items() if k not in known}, **hps.values}


def _allowed(hp: Any, value: Any) -> bool:
    kind = type(hp).__name__
    if kind in ("Choice", "Fixed"):
        return value in hp.values
    if kind == "Boolean":
        return isinstance(value, bool)
    return hp.min_value <= value <= hp.max_value  # Int, Float
