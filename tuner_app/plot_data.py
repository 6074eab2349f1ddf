"""Snapshot -> plot data: the first of two stages (as in Optuna's plots), pure and Qt-free.

Why separate: what a plot shows (which curves, which means, which error bars) is testable without a
display, and any renderer (the window's matplotlib canvases, a PNG export, a notebook) draws the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tuner_app.results import SearchSnapshot, TrialRecord, mean_metric_curve

CURVE_METRICS = ("accuracy", "val_accuracy", "loss", "val_loss")
#: The curves plot's choice: (train metric, validation metric, axis label).
CURVE_CHOICES = {
    "accuracy": ("accuracy", "val_accuracy", "accuracy"),
    "loss": ("loss", "val_loss", "loss (cross-entropy)"),
}
HINTON_WEIGHT_DECAY = 0.9847  # 3-layer NN 500+300, weight decay (Hinton 2005, LeCun's MNIST table)


@dataclass(frozen=True)
class Series:
    """One line: x values (1-based epochs or trial numbers) and y values."""

    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class MetricCurves:
    """A metric of one trial: each execution (replicate) faint, their mean bold."""

    trial_id: str
    metric: str
    executions: tuple[Series, ...]
    mean: Series


@dataclass(frozen=True)
class ErrorBarPoint:
    x: float
    mean: float
    std: float
    replicates: int
    trial_id: str


def metric_curves(trial: TrialRecord, metric: str) -> MetricCurves:
    executions = []
    for curve in trial.executions:
        points = [
            (e.epoch + 1, e.metrics[metric])
            for e in curve
            if metric in e.metrics and math.isfinite(e.metrics[metric])
        ]
        if points:
            executions.append(Series(*map(tuple, zip(*points, strict=True))))
    mean = mean_metric_curve(trial, metric)
    mean_series = Series(tuple(e + 1 for e, _ in mean), tuple(v for _, v in mean))
    return MetricCurves(trial.trial_id, metric, tuple(executions), mean_series)


def curves_for(
    snapshot: SearchSnapshot, trial_ids: list[str], metrics: tuple[str, ...] = CURVE_METRICS
) -> dict[str, list[MetricCurves]]:
    """metric -> curves of each selected trial that has any epoch of it."""
    by_id = {t.trial_id: t for t in snapshot.trials}
    out: dict[str, list[MetricCurves]] = {m: [] for m in metrics}
    for trial_id in trial_ids:
        trial = by_id.get(trial_id)
        if trial is None:
            continue
        for metric in metrics:
            curves = metric_curves(trial, metric)
            if curves.executions:
                out[metric].append(curves)
    return out


def default_selection(snapshot: SearchSnapshot) -> list[str]:
    """What to show when nothing is selected: the running trial(s) once they have a line (two
    epochs), else the best one, else the latest trial with any epoch.

    Why not a running trial at once: at a trial's start it has no epoch or one, and switching to it
    replaced a picture of real curves by empty axes or a single dot; the previous one stays."""
    running = [
        t.trial_id
        for t in snapshot.trials
        if t.status == "running" and len(mean_metric_curve(t, "val_accuracy")) >= 2
    ]
    if running:
        return running
    best = snapshot.best(1)
    if best:
        return [best[0].trial_id]
    with_data = [t.trial_id for t in snapshot.trials if t.epochs_done]
    return with_data[-1:]


def all_trial_curves(snapshot: SearchSnapshot, metric: str) -> list[tuple[str, Series]]:
    """Every trial's mean curve of `metric` (the faint background of the curves plot)."""
    out = []
    for trial in snapshot.trials:
        mean = mean_metric_curve(trial, metric)
        if mean:
            out.append((trial.trial_id, Series(tuple(e + 1.0 for e, _ in mean), tuple(v for _, v in mean))))
    return out


def best_so_far(snapshot: SearchSnapshot) -> Series:
    """Best mean validation accuracy so far against trial number, in the order trials finished."""
    pairs = snapshot.best_so_far()
    return Series(tuple(float(n) for n, _ in pairs), tuple(v for _, v in pairs))


def trial_scores(snapshot: SearchSnapshot) -> Series:
    """Each finished trial's own mean score against its finishing number (the dots under the line)."""
    finished = sorted(snapshot.completed(), key=lambda t: t.finished_at or 0.0)
    return Series(
        tuple(float(i) for i in range(1, len(finished) + 1)), tuple(t.mean or 0.0 for t in finished)
    )


def weight_decay_points(snapshot: SearchSnapshot, name: str = "l2") -> list[ErrorBarPoint]:
    """Completed trials with an L2 factor: mean ± std of validation accuracy over replicates."""
    points = []
    for trial in snapshot.completed():
        factor = trial.user_hyperparameters().get(name)
        if not isinstance(factor, int | float) or factor <= 0 or trial.mean is None:
            continue
        points.append(
            ErrorBarPoint(
                float(factor), trial.mean, trial.std or 0.0, len(trial.execution_scores), trial.trial_id
            )
        )
    return sorted(points, key=lambda p: p.x)
