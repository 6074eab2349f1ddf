"""Status-bar text from a snapshot: search state, elapsed time and ETA (Qt-free, so it is testable)."""

from __future__ import annotations

import statistics
import time

from tuner_app.config import format_duration
from tuner_app.results import SearchSnapshot


def elapsed_s(snapshot: SearchSnapshot, now: float | None = None) -> float | None:
    if snapshot.started_at is None:
        return None
    end = snapshot.finished_at if snapshot.state != "running" else (now or time.time())
    return max((end or snapshot.started_at) - snapshot.started_at, 0.0)


def eta_s(snapshot: SearchSnapshot, now: float | None = None) -> float | None:
    """Remaining time of a running search: mean trial duration x trials left, capped by the time limit."""
    if snapshot.state != "running":
        return None
    now = now or time.time()
    elapsed = elapsed_s(snapshot, now) or 0.0
    config = snapshot.config
    estimates = []
    limit = config.get("time_limit_s")
    if limit:
        estimates.append(max(limit - elapsed, 0.0))
    durations = [t.duration for t in snapshot.trials if t.duration is not None]
    total = config.get("max_trials") if config.get("tuner") in ("random", "bayesian", "grid") else None
    if total and durations:
        per_trial = statistics.fmean(durations)
        running = [now - t.started_at for t in snapshot.trials if t.status == "running"]
        in_trial = min(running[0], per_trial) if running else 0.0
        estimates.append(max(max(total - len(durations), 0) * per_trial - in_trial, 0.0))
    return min(estimates) if estimates else None


def status_text(snapshot: SearchSnapshot | None, now: float | None = None) -> str:
    if snapshot is None:
        return "No project open"
    done = sum(1 for t in snapshot.trials if t.status != "running")
    total = snapshot.config.get("max_trials")
    trials = f"{done}/{total} trials" if total else f"{done} trials"
    text = f"Search {snapshot.state} · {trials} · elapsed {format_duration(elapsed_s(snapshot, now))}"
    if snapshot.state == "running":
        text += f" · ETA {format_duration(eta_s(snapshot, now))}"
    elif snapshot.reason:
        text += f" ({snapshot.reason})"
    if snapshot.test and snapshot.test.get("test_accuracy") is not None:
        text += f" · best model test accuracy {100 * snapshot.test['test_accuracy']:.2f} %"
    return text
