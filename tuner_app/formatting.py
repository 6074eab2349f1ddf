"""How durations and accuracies read to a person: one spelling for the console, the window and reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuner_app.results import TrialRecord


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def format_percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def format_mean_std(trial: TrialRecord) -> str:
    if trial.mean is None:
        return "-"
    if len(trial.execution_scores) > 1:
        return f"{100 * trial.mean:.2f} ± {100 * (trial.std or 0):.2f} %"
    return f"{100 * trial.mean:.2f} %"
