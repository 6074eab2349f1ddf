"""A chief's part of a distributed search: serve the oracle to the workers until the search ends.

KerasTuner's chief would serve from `search()`; ours serves from tuner_app.chief's loop (lost
workers, refused workers, a clean end) and logs what happens to the workers' trials.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras_tuner as kt

from tuner_app.budget import Budget
from tuner_app.events import Event, SearchState


def keras_tuner_prints_hidden(enabled: bool = True) -> contextlib.AbstractContextManager:
    """KerasTuner 1.4.8 prints condition values when it sends them over gRPC (a stray debug print
    in conditions.Parent.to_proto); our console keeps its own reference to the real stdout."""
    return contextlib.redirect_stdout(io.StringIO()) if enabled else contextlib.nullcontext()


def serve_workers(
    tuner: kt.Tuner,
    *,
    address: str,
    project_dir: Path,
    worker_timeout_s: float,
    budget: Budget,
    identity: dict[str, Any],
    project_token: str | None,
    emit: Callable[..., None],
) -> tuple[SearchState, str]:
    """Serve the oracle to the workers; how the search ended and why. Trials orphaned by a lost
    worker leave it stopped (a --resume with a worker finishes them), as does the user's Stop."""
    tuner.save()

    def orphaned(trial_id: str, worker_id: str) -> None:
        emit(Event.TRIAL_ORPHANED, trial_id=trial_id, lost_worker=worker_id)

    def reclaimed(trial_id: str, worker_id: str) -> None:
        emit(Event.TRIAL_RECLAIMED, trial_id=trial_id, returned_worker=worker_id)

    def refused(worker_id: str, reason: str) -> None:
        emit(Event.WORKER_REFUSED, refused_worker=worker_id, reason=reason)

    from tuner_app.chief import serve_chief  # gRPC and KerasTuner internals: chief only

    with keras_tuner_prints_hidden():
        left = serve_chief(
            tuner.oracle,
            address,
            project_dir,
            worker_timeout_s,
            on_orphan=orphaned,
            on_return=reclaimed,
            should_stop=lambda: budget.stop_reason(between_trials=False) is not None,
            identity=identity,
            on_refuse=refused,
            project_token=project_token,
        )
    if left:
        return SearchState.STOPPED, (
            f"trial(s) {', '.join(left)} orphaned by a lost worker and no worker left to re-run "
            "them; restart the chief with --resume and at least one worker to finish them"
        )
    state = SearchState.STOPPED if budget.cancelled.is_set() else SearchState.FINISHED
    return state, budget.stop_reason(between_trials=False) or "all trials done"
