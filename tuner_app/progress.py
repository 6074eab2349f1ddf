"""How many trials a search will run and how long it has left: one rule for the console and the window.

Why `planned_trials` exists: `--max-trials` is a cap, not a plan. A grid over the seed notebook's 5
weight-decay factors runs 5 trials however high the cap, and showing "2/10" with an ETA for 10 misleads.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

COUNTED_TUNERS = ("random", "bayesian", "grid")  # Hyperband's trial count follows from its epochs


def grid_size(hyperparameters: Iterable[Any]) -> int | None:
    """Points in the grid of these hyperparameters; None when one is continuous or conditional."""
    size = 1
    for hp in hyperparameters:
        values = _values(hp)
        if values is None:
            return None
        if values > 1 and getattr(hp, "conditions", None):
            return None  # the product would overcount: depth-dependent units etc.
        size *= values
    return size


def _values(hp: Any) -> int | None:
    """Distinct values of one KerasTuner hyperparameter (by class name: no TensorFlow import here)."""
    kind = type(hp).__name__
    if kind == "Fixed":
        return 1
    if kind == "Boolean":
        return 2
    if kind == "Choice":
        return len(hp.values)
    step = getattr(hp, "step", None)
    if step and getattr(hp, "sampling", "linear") in (None, "linear"):
        return math.floor((hp.max_value - hp.min_value) / step + 1e-9) + 1
    return None


def planned_trials(tuner: str, max_trials: int | None, space: Sequence[Any]) -> int | None:
    """Trials the search will run if nothing stops it early; None for Hyperband (no fixed count)."""
    if tuner not in COUNTED_TUNERS:
        return None
    if tuner == "grid":
        size = grid_size(space)
        if size is not None:
            return min(size, max_trials) if max_trials else size
    return max_trials


def remaining_s(
    *,
    elapsed_s: float,
    trial_durations: Sequence[float],
    total_trials: int | None,
    current_trial_s: float = 0.0,
    time_limit_s: float | None = None,
) -> float | None:
    """Mean trial duration x trials left (less the part of the current trial done), capped by the limit."""
    estimates = []
    if time_limit_s:
        estimates.append(max(time_limit_s - elapsed_s, 0.0))
    if total_trials and trial_durations:
        per_trial = statistics.fmean(trial_durations)
        left = max(total_trials - len(trial_durations), 0) * per_trial
        estimates.append(max(left - min(current_trial_s, per_trial), 0.0))
    return min(estimates) if estimates else None


def total_from_config(config: Mapping[str, Any], planned: int | None) -> int | None:
    """The trial count to show: the recorded plan, else the cap for tuners that count trials."""
    if planned:
        return planned
    return config.get("max_trials") if config.get("tuner") in COUNTED_TUNERS else None
