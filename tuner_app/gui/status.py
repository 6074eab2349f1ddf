"""Status-bar text from a snapshot: search state, elapsed time and ETA (Qt-free, so it is testable)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tuner_app.formatting import format_duration, format_status_counts
from tuner_app.progress import remaining_s, total_from_config
from tuner_app.report import format_test_result
from tuner_app.results import SearchSnapshot, TrialRecord


def elapsed_s(snapshot: SearchSnapshot, now: float | None = None) -> float | None:
    """Search time: the sum of the search's runs (SearchSnapshot.search_time_s), so the idle hours
    between a stop and a resume do not count; a snapshot without recorded runs spans start to end."""
    now = now or time.time()
    if snapshot.runs:
        return snapshot.search_time_s(now)
    if snapshot.started_at is None:
        return None
    end = snapshot.finished_at if snapshot.state != "running" else now
    return max((end or snapshot.started_at) - snapshot.started_at, 0.0)


def eta_s(snapshot: SearchSnapshot, now: float | None = None) -> float | None:
    """Remaining time of a running search (tuner_app.progress's rule, as the console uses)."""
    if snapshot.state != "running":
        return None
    now = now or time.time()
    running = [t for t in snapshot.trials if t.status == "running"]
    return remaining_s(
        elapsed_s=elapsed_s(snapshot, now) or 0.0,
        trial_durations=[t.duration for t in snapshot.trials if t.duration is not None],
        total_trials=total_from_config(snapshot.config, snapshot.planned_trials),
        current_trial_s=now - running[0].started_at if running else 0.0,
        time_limit_s=snapshot.config.get("time_limit_s"),
        current_trial_total_s=_projected_length(running[0], snapshot.config) if running else None,
    )


def _projected_length(trial: TrialRecord, config: Mapping[str, Any]) -> float | None:
    """The running trial's length from its own epochs so far, as the console projects it: a long
    recipe after a quick first trial is not "ETA 0s". Timed to its last logged epoch, not to now,
    so the projection holds still between epochs. None before its first epoch, or for Hyperband
    (whose trials vary their epochs)."""
    epochs_done = sum(len(curve) for curve in trial.executions)
    epochs, executions = config.get("epochs"), config.get("executions") or 1
    if not epochs_done or config.get("tuner") == "hyperband" or not isinstance(epochs, int):
        return None
    if trial.last_event_at is None:
        return None
    return (trial.last_event_at - trial.started_at) / epochs_done * epochs * executions


def status_text(snapshot: SearchSnapshot | None, now: float | None = None) -> str:
    """One line for the status bar. A log that says "running" whose process no longer holds the
    project (`snapshot.live is False`) is a search that was killed or crashed: said so."""
    if snapshot is None:
        return "No project open"
    total = total_from_config(snapshot.config, snapshot.planned_trials)
    trials = format_status_counts(snapshot.status_counts(), total)
    running = snapshot.state == "running"
    if running and snapshot.live is False:
        text = f"Search not running (its process ended without finishing; resume to continue) · {trials}"
    else:
        runs = f" in {len(snapshot.runs)} runs" if len(snapshot.runs) > 1 else ""
        took = format_duration(elapsed_s(snapshot, now))
        text = f"Search {snapshot.state} · {trials} · search time {took}{runs}"
        if running:
            text += f" · ETA {format_duration(eta_s(snapshot, now))}"
        elif snapshot.reason:
            text += f" ({snapshot.reason})"
    if snapshot.test and snapshot.test.get("test_accuracy") is not None:
        # Short: it shares a 1366-px status bar with the device (the details are in the tooltip).
        text += f" · best model test {100 * snapshot.test['test_accuracy']:.2f} %"
        replicates = snapshot.test_replicates
        if replicates is not None:  # --executions > 1: every replicate of the best trial was tested
            text += (
                f" ({len(replicates.accuracies)} replicates "
                f"{100 * replicates.mean:.2f} ± {100 * replicates.std:.2f} %"
            )
            if replicates.ensemble_accuracy is not None:
                text += f", ensemble {100 * replicates.ensemble_accuracy:.2f} %"
            text += ")"
    if snapshot.test_error:
        text += " · test evaluation FAILED"
    if snapshot.problems:
        text += f" · {len(snapshot.problems)} problem(s) in the log (hover for details)"
    return text


def status_details(snapshot: SearchSnapshot | None) -> str:
    """The status bar's tooltip: what the one line can only count."""
    if snapshot is None:
        return ""
    lines = []
    if snapshot.test and snapshot.test.get("test_accuracy") is not None:
        lines.append(f"Test: {format_test_result(snapshot.test)}")
    if snapshot.test_error:
        lines.append(f"Test evaluation failed: {snapshot.test_error}")
    lines += [f"Log problem: {problem}" for problem in snapshot.problems]
    return "\n".join(lines)
