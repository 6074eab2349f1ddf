"""Status-bar text from a snapshot: search state, elapsed time and ETA (Qt-free, so it is testable)."""

from __future__ import annotations

import time

from tuner_app.formatting import format_duration
from tuner_app.progress import remaining_s, total_from_config
from tuner_app.results import SearchSnapshot


def elapsed_s(snapshot: SearchSnapshot, now: float | None = None) -> float | None:
    if snapshot.started_at is None:
        return None
    end = snapshot.finished_at if snapshot.state != "running" else (now or time.time())
    return max((end or snapshot.started_at) - snapshot.started_at, 0.0)


def eta_s(snapshot: SearchSnapshot, now: float | None = None) -> float | None:
    """Remaining time of a running search (tuner_app.progress's rule, as the console uses)."""
    if snapshot.state != "running":
        return None
    now = now or time.time()
    running = [now - t.started_at for t in snapshot.trials if t.status == "running"]
    return remaining_s(
        elapsed_s=elapsed_s(snapshot, now) or 0.0,
        trial_durations=[t.duration for t in snapshot.trials if t.duration is not None],
        total_trials=total_from_config(snapshot.config, snapshot.planned_trials),
        current_trial_s=running[0] if running else 0.0,
        time_limit_s=snapshot.config.get("time_limit_s"),
    )


def status_text(snapshot: SearchSnapshot | None, now: float | None = None) -> str:
    """One line for the status bar. A log that says "running" whose process no longer holds the
    project (`snapshot.live is False`) is a search that was killed or crashed: said so."""
    if snapshot is None:
        return "No project open"
    done = sum(1 for t in snapshot.trials if t.status != "running")
    total = total_from_config(snapshot.config, snapshot.planned_trials)
    trials = f"{done}/{total} trials" if total else f"{done} trials"
    running = snapshot.state == "running"
    if running and snapshot.live is False:
        text = f"Search not running (its process ended without finishing; resume to continue) · {trials}"
    else:
        text = f"Search {snapshot.state} · {trials} · elapsed {format_duration(elapsed_s(snapshot, now))}"
        if running:
            text += f" · ETA {format_duration(eta_s(snapshot, now))}"
        elif snapshot.reason:
            text += f" ({snapshot.reason})"
    if snapshot.test and snapshot.test.get("test_accuracy") is not None:
        text += f" · best model test accuracy {100 * snapshot.test['test_accuracy']:.2f} %"
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
    if snapshot.test_error:
        lines.append(f"Test evaluation failed: {snapshot.test_error}")
    lines += [f"Log problem: {problem}" for problem in snapshot.problems]
    return "\n".join(lines)
