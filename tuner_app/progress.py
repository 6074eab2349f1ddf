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
HYPERBAND_FACTOR = 3  # KerasTuner's default, which the engine keeps


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


def hyperband_trials(max_epochs: int, factor: int = HYPERBAND_FACTOR, min_epochs: int = 1) -> int:
    """Trials in one Hyperband iteration, by KerasTuner's own rule (HyperbandOracle 1.4.8).

    Every round of successive halving is new trials (the promoted ones resume from a checkpoint),
    so the count is the sum over brackets and rounds of `_get_size`; `_get_num_brackets` gives the
    brackets. Fewer run if the space is too small for distinct random draws.
    """
    brackets, epochs = 0, float(max_epochs)
    while epochs >= min_epochs:
        epochs /= factor
        brackets += 1
    end_size = math.ceil(1 + math.log(max_epochs, factor))
    return sum(
        math.ceil(end_size / (bracket + 1) * factor ** (bracket - round_))
        for bracket in range(brackets)
        for round_ in range(bracket + 1)
    )


def budget_trial_cap(role: str, max_trials: int | None) -> int | None:
    """The trial count the engine's Budget stops at: a standalone search's --max-trials.

    In distributed mode the chief's oracle alone counts trials, so neither the chief's nor a worker's
    Budget counts them.
    """
    return max_trials if role == "standalone" else None


def trial_cap(tuner: str, role: str, max_trials: int | None) -> int | None:
    """The --max-trials that bounds this search's trial count; None when nothing caps it.

    Random, Bayesian and grid hand it to KerasTuner's oracle, which keeps it in every role. Hyperband's
    oracle takes no trial count (its epochs set it), so only the Budget caps it: a standalone
    Hyperband stops at --max-trials, a chief's runs all its brackets.
    """
    if tuner == "hyperband":
        return budget_trial_cap(role, max_trials)
    return max_trials


def planned_trials(
    tuner: str, max_trials: int | None, space: Sequence[Any], max_epochs: int | None = None
) -> int | None:
    """Trials the search will run if nothing stops it early, `max_trials` being its `trial_cap`."""
    if tuner == "hyperband":
        if not max_epochs:
            return None
        planned = hyperband_trials(max_epochs)
        return min(planned, max_trials) if max_trials else planned
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
    current_trial_total_s: float | None = None,
) -> float | None:
    """Mean trial duration x trials left (less the part of the current trial done), capped by the limit.

    `current_trial_total_s`, the running trial's own projected length (its epochs so far), replaces
    the mean for that trial: known points differ greatly in cost (a 2-epoch small CNN, then a long
    augmented recipe), so earlier trials alone said "ETA 5s" for a trial that ran 22 minutes."""
    estimates = []
    if time_limit_s:
        estimates.append(max(time_limit_s - elapsed_s, 0.0))
    if total_trials and current_trial_total_s is not None:
        per_trial = statistics.fmean(trial_durations) if trial_durations else current_trial_total_s
        after = max(total_trials - len(trial_durations) - 1, 0) * per_trial
        estimates.append(max(current_trial_total_s - current_trial_s, 0.0) + after)
    elif total_trials and trial_durations:
        per_trial = statistics.fmean(trial_durations)
        left = max(total_trials - len(trial_durations), 0) * per_trial
        estimates.append(max(left - min(current_trial_s, per_trial), 0.0))
    return min(estimates) if estimates else None


def total_from_config(config: Mapping[str, Any], planned: int | None) -> int | None:
    """The trial count to show: the recorded plan, else the cap for tuners that count trials."""
    if planned:
        return planned
    return config.get("max_trials") if config.get("tuner") in COUNTED_TUNERS else None
