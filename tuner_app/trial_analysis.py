"""What the analysis views show, computed from a snapshot (the first of Optuna's two plotting stages).

Parallel coordinates, hyperparameter importance and slice plots are pure functions of a
SearchSnapshot and the search space, tested on hand-built snapshots (values, not pixels); the
window's matplotlib canvases only draw what they return. No Qt here.

The space (which values a hyperparameter can take, and whether it is sampled on a log scale) comes
from KerasTuner's own record of it, `keras_tuner/oracle.json`; a project without it (or a snapshot
built by hand) falls back to what the trials' values show.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuner_app.results import SearchSnapshot, TrialRecord

#: Below this many completed trials a forest fit on a handful of points ranks noise: the view says
#: so instead of drawing bars (Optuna's fANOVA evaluator has no floor; W&B asks for "enough runs").
MIN_TRIALS_FOR_IMPORTANCE = 8
IMPORTANCE_METHOD = (
    "permutation importance of a random forest (scikit-learn), score: mean validation accuracy"
)


@dataclass(frozen=True)
class HyperparameterInfo:
    """One axis: numeric (with range and scale) or categorical (with its values, in order)."""

    name: str
    categorical: bool
    values: tuple[Any, ...] = ()  # categorical: every value, in the space's order
    low: float | None = None
    high: float | None = None
    log: bool = False


def read_space(project_dir: str | Path) -> dict[str, HyperparameterInfo]:
    """The search space KerasTuner recorded in the project (empty if there is none readable)."""
    state = Path(project_dir) / "keras_tuner"
    for path in [state / "oracle.json", *sorted(state.glob("*/oracle.json"))]:
        try:
            space = json.loads(path.read_text())["hyperparameters"]["space"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        return parse_space(space)
    return {}


def parse_space(space: Sequence[Mapping[str, Any]]) -> dict[str, HyperparameterInfo]:
    """KerasTuner's serialised HyperParameters space -> one HyperparameterInfo per name."""
    out: dict[str, HyperparameterInfo] = {}
    for entry in space:
        kind, config = entry.get("class_name"), entry.get("config", {})
        name = config.get("name")
        if not isinstance(name, str):
            continue
        if kind in ("Int", "Float"):
            out[name] = HyperparameterInfo(
                name,
                False,
                low=_number(config.get("min_value")),
                high=_number(config.get("max_value")),
                log=config.get("sampling") in ("log", "reverse_log"),
            )
        elif kind == "Choice":
            values = tuple(config.get("values") or ())
            numeric = all(_is_number(v) for v in values) and bool(config.get("ordered"))
            if numeric:
                out[name] = HyperparameterInfo(name, False, values, min(values), max(values), False)
            else:
                out[name] = HyperparameterInfo(name, True, values)
        elif kind == "Boolean":
            out[name] = HyperparameterInfo(name, True, (False, True))
        elif kind == "Fixed":
            out[name] = HyperparameterInfo(name, True, (config.get("value"),))
    return out


def infer_space(trials: Sequence[TrialRecord]) -> dict[str, HyperparameterInfo]:
    """The space as the trials show it: numbers are numeric (log when positive and spanning more
    than a factor of 20), anything else categorical in the order first seen."""
    seen: dict[str, list[Any]] = {}
    for trial in trials:
        for name, value in trial.user_hyperparameters().items():
            seen.setdefault(name, [])
            if value not in seen[name]:
                seen[name].append(value)
    out = {}
    for name, values in seen.items():
        if values and all(_is_number(v) for v in values):
            low, high = min(values), max(values)
            log = low > 0 and high / low > 20
            out[name] = HyperparameterInfo(name, False, (), float(low), float(high), log)
        else:
            out[name] = HyperparameterInfo(name, True, tuple(values))
    return out


def space_for(snapshot: SearchSnapshot, space: Mapping[str, HyperparameterInfo] | None = None):
    """The recorded space for the names the trials use, inferred where it lacks one; in the order
    the trials first name them."""
    inferred = infer_space(snapshot.trials)
    recorded = dict(space or {})
    merged: dict[str, HyperparameterInfo] = {}
    for name, guess in inferred.items():
        info = recorded.get(name, guess)
        if info.categorical and guess.values:  # values the space did not list (a changed space)
            extra = tuple(v for v in guess.values if v not in info.values)
            info = HyperparameterInfo(name, True, info.values + extra)
        merged[name] = info
    return merged


# -- parallel coordinates ---------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    name: str
    ticks: tuple[tuple[float, str], ...]  # (position in [0, 1], label)
    log: bool


@dataclass(frozen=True)
class ParallelLine:
    trial_id: str
    positions: tuple[float | None, ...]  # per axis, in [0, 1]; None where the trial lacks the hp
    score: float


@dataclass(frozen=True)
class ParallelCoordinates:
    axes: tuple[Axis, ...]  # the hyperparameters, then the score
    lines: tuple[ParallelLine, ...]  # completed trials, worst first (the best is drawn on top)
    score_range: tuple[float, float]


def position(info: HyperparameterInfo, value: Any) -> float | None:
    """Where a value sits on its axis, 0 to 1 (log axes in log space); None if it has none."""
    if value is None:
        return None
    if info.categorical:
        if value not in info.values:
            return None
        count = len(info.values)
        return 0.5 if count == 1 else info.values.index(value) / (count - 1)
    if not _is_number(value) or info.low is None or info.high is None:
        return None
    low, high, x = float(info.low), float(info.high), float(value)
    if info.log and low > 0 and x > 0:
        low, high, x = math.log10(low), math.log10(high), math.log10(x)
    return 0.5 if high == low else min(max((x - low) / (high - low), 0.0), 1.0)


def _ticks(info: HyperparameterInfo) -> tuple[tuple[float, str], ...]:
    if info.categorical:
        return tuple((position(info, v) or 0.0, str(v)) for v in info.values)
    if info.low is None or info.high is None:
        return ()
    return ((0.0, _short(info.low)), (1.0, _short(info.high)))


def parallel_coordinates(
    snapshot: SearchSnapshot, space: Mapping[str, HyperparameterInfo] | None = None
) -> ParallelCoordinates:
    """One line per completed trial through its hyperparameters and its score."""
    infos = space_for(snapshot, space)
    completed = sorted(snapshot.completed(), key=lambda t: t.mean or 0.0)
    scores = [t.mean for t in completed if t.mean is not None]
    low, high = (min(scores), max(scores)) if scores else (0.0, 1.0)
    axes = [Axis(name, _ticks(info), info.log) for name, info in infos.items()]
    axes.append(Axis("val. accuracy", ((0.0, f"{100 * low:.2f} %"), (1.0, f"{100 * high:.2f} %")), False))
    lines = []
    for trial in completed:
        hps = trial.user_hyperparameters()
        positions = [position(info, hps.get(name)) for name, info in infos.items()]
        score = trial.mean or 0.0
        positions.append(0.5 if high == low else (score - low) / (high - low))
        lines.append(ParallelLine(trial.trial_id, tuple(positions), score))
    return ParallelCoordinates(tuple(axes), tuple(lines), (low, high))


def trials_in_range(data: ParallelCoordinates, axis: int, low: float, high: float) -> list[str]:
    """The trials whose line crosses `axis` between `low` and `high` (positions in [0, 1])."""
    low, high = min(low, high), max(low, high)
    return [
        line.trial_id
        for line in data.lines
        if line.positions[axis] is not None and low <= line.positions[axis] <= high  # type: ignore[operator]
    ]


# -- importance -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Importance:
    names: tuple[str, ...]  # most important first
    values: tuple[float, ...]  # shares of the total, summing to 1 (0 where none matters)
    trials: int  # completed trials it rests on
    method: str
    note: str | None = None  # why nothing is shown (too few trials, nothing varies)


def encode(trials: Sequence[TrialRecord], infos: Mapping[str, HyperparameterInfo]) -> list[list[float]]:
    """One row of numbers per trial for the forest: log10 on log axes, categories by index, -1 for a
    hyperparameter the trial does not have (conditional ones, such as a layer's units)."""
    rows = []
    for trial in trials:
        hps = trial.user_hyperparameters()
        row = []
        for name, info in infos.items():
            value = hps.get(name)
            if value is None:
                row.append(-1.0)
            elif info.categorical:
                row.append(float(info.values.index(value)) if value in info.values else -1.0)
            elif _is_number(value):
                row.append(math.log10(value) if info.log and value > 0 else float(value))
            else:
                row.append(-1.0)
        rows.append(row)
    return rows


def import_forest_library() -> Any:
    """scikit-learn's random forest, imported on first use (a window that never shows importance,
    and the CLI, do not pay for it; the window imports it before its event loop runs: imported on
    a worker thread, it held the GIL and stalled the window 264 ms)."""
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor


def permutation_drops(model: Any, x: Any, y: Any, repeats: int, seed: int) -> Any:
    """Each column's mean drop in R² when it is shuffled (`repeats` shuffles): scikit-learn's
    permutation importance, with every shuffled copy predicted in one call.

    Why not sklearn.inspection.permutation_importance: it predicts each copy separately, tree by
    tree through joblib; for 200 trials that was 0.2 s of pure Python on the importance thread, and
    while it held the GIL the window's event loop stalled up to 244 ms.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    n, columns = x.shape
    copies = np.repeat(x[None, :, :], columns * repeats, axis=0)  # (columns * repeats, n, columns)
    for column in range(columns):
        for repeat in range(repeats):
            copies[column * repeats + repeat, :, column] = rng.permutation(x[:, column])
    predicted = model.predict(np.concatenate([x, copies.reshape(-1, columns)])).reshape(-1, n)
    total = float(np.sum((y - y.mean()) ** 2)) or 1.0
    r2 = 1.0 - np.sum((predicted - y[None, :]) ** 2, axis=1) / total
    return (r2[0] - r2[1:]).reshape(columns, repeats).mean(axis=1)


def importance(
    snapshot: SearchSnapshot,
    space: Mapping[str, HyperparameterInfo] | None = None,
    min_trials: int = MIN_TRIALS_FOR_IMPORTANCE,
    seed: int = 0,
) -> Importance:
    """Which hyperparameters explain the score: a random forest fit on the completed trials, each
    hyperparameter's permutation importance (how much the forest's R² drops when that column is
    shuffled), as shares of the total. Needs `min_trials` completed trials."""
    # A pruned trial's score is that of fewer epochs: it would teach the forest the budget, not the
    # hyperparameters (Optuna's evaluators likewise use only complete trials).
    completed = [t for t in snapshot.completed() if t.pruned_at_epoch is None]
    infos = {n: i for n, i in space_for(snapshot, space).items() if not i.categorical or len(i.values) > 1}
    count = len(completed)
    if count < min_trials:
        note = f"needs {min_trials} completed trials, has {count}"
        return Importance((), (), count, IMPORTANCE_METHOD, note)
    rows = encode(completed, infos)
    varying = [i for i in range(len(infos)) if len({row[i] for row in rows}) > 1]
    scores = [t.mean or 0.0 for t in completed]
    if not varying or len(set(scores)) < 2:
        return Importance((), (), count, IMPORTANCE_METHOD, "no hyperparameter or score varies")
    import numpy as np

    RandomForestRegressor = import_forest_library()

    names = list(infos)
    x = np.array([[row[i] for i in varying] for row in rows])
    y = np.array(scores)
    forest = RandomForestRegressor(n_estimators=64, min_samples_leaf=1, random_state=seed).fit(x, y)
    drops = permutation_drops(forest, x, y, repeats=5, seed=seed)
    raw = {names[i]: max(float(v), 0.0) for i, v in zip(varying, drops, strict=True)}
    for name in names:
        raw.setdefault(name, 0.0)
    total = sum(raw.values())
    shares = {n: (v / total if total > 0 else 0.0) for n, v in raw.items()}
    ordered = sorted(shares, key=lambda n: shares[n], reverse=True)
    return Importance(tuple(ordered), tuple(shares[n] for n in ordered), count, IMPORTANCE_METHOD)


# -- slices -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slice:
    """Score against one hyperparameter: numeric x (log axis where the space samples on a log
    scale), or categories at 0..n-1 with their labels."""

    name: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    trial_ids: tuple[str, ...]
    log: bool
    categories: tuple[str, ...] = ()


def slices(snapshot: SearchSnapshot, space: Mapping[str, HyperparameterInfo] | None = None) -> list[Slice]:
    """One slice per hyperparameter that completed trials used, in the space's order."""
    out = []
    completed = snapshot.completed()
    for name, info in space_for(snapshot, space).items():
        xs, ys, ids = [], [], []
        for trial in completed:
            value = trial.user_hyperparameters().get(name)
            if value is None or trial.mean is None:
                continue
            if info.categorical:
                if value not in info.values:
                    continue
                xs.append(float(info.values.index(value)))
            elif _is_number(value):
                xs.append(float(value))
            else:
                continue
            ys.append(trial.mean)
            ids.append(trial.trial_id)
        if xs:
            labels = tuple(str(v) for v in info.values) if info.categorical else ()
            out.append(
                Slice(name, tuple(xs), tuple(ys), tuple(ids), info.log and not info.categorical, labels)
            )
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: Any) -> float | None:
    return float(value) if _is_number(value) else None


def _short(value: float) -> str:
    return f"{value:.3g}"
