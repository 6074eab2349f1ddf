"""Hand-built snapshots for testing the pure plot and analysis data (values, not pixels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tuner_app.events import SearchState, TrialStatus
from tuner_app.results import EpochRecord, SearchSnapshot, TrialRecord


def trial(
    trial_id: str,
    hps: dict[str, Any],
    val: list[float] | list[list[float]],
    status: str = "completed",
    start: float = 0.0,
) -> TrialRecord:
    """A trial whose executions have these validation accuracies per epoch (loss = 1 - accuracy)."""
    runs = val if val and isinstance(val[0], list) else [val]
    executions = tuple(
        tuple(
            EpochRecord(e, {"val_accuracy": v, "accuracy": v, "loss": 1 - v, "val_loss": 1 - v})
            for e, v in enumerate(run)
        )
        for run in runs
    )
    end = start + 10.0 if status != "running" else None
    return TrialRecord(trial_id, TrialStatus.parse(status), hps, executions, "main", start, end)


def snapshot(trials: list[TrialRecord], state: str = "finished", **config: Any) -> SearchSnapshot:
    return SearchSnapshot(
        project_dir=Path("/nonexistent"),
        config={"family": "dense", "tuner": "random", "max_trials": len(trials), **config},
        device="CPU",
        state=SearchState.parse(state),
        trials=tuple(trials),
        started_at=0.0,
        finished_at=100.0,
        reason=None,
        test=None,
    )
