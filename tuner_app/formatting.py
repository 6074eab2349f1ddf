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


def trial_label(trial_id: str) -> str:
    """How a trial is named everywhere (console, table, plots, summaries): KerasTuner's own trial id,
    as the project's files (`keras_tuner/trial_ID`) spell it. Progress counts ("2 of 6") are written
    apart from it (`progress_count`) so they never read as an id."""
    return f"trial {trial_id}"


def progress_count(done: int, total: int | None) -> str:
    """A progress counter that cannot be mistaken for a trial id: "[2 of 6]" or "[2]"."""
    return f"[{done} of {total}]" if total else f"[{done}]"


def format_status_counts(counts: dict[str, int], total: int | None = None) -> str:
    """ "5 completed, 1 interrupted of 6": what each trial became, and of how many planned."""
    order = ("completed", "running", "interrupted", "failed", "invalid", "stopped", "orphaned")
    names = sorted(counts, key=lambda s: order.index(s) if s in order else len(order))
    text = ", ".join(f"{counts[name]} {name}" for name in names if counts[name]) or "0 trials"
    return f"{text} of {total}" if total else text


def format_percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def format_mean_std(trial: TrialRecord) -> str:
    if trial.mean is None:
        return "-"
    if len(trial.execution_scores) > 1:
        return f"{100 * trial.mean:.2f} ± {100 * (trial.std or 0):.2f} %"
    return f"{100 * trial.mean:.2f} %"
