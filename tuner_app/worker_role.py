"""A worker's part of a distributed search: join the chief, run the trials it hands out, report.

A worker neither locks the project folder nor writes the summary (its chief does); it proves it
shares the chief's folder and search by registering with both before its tuner asks for a trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import keras_tuner as kt

from tuner_app.budget import Budget
from tuner_app.config import SearchConfig
from tuner_app.data import TrainValidation
from tuner_app.device import Device
from tuner_app.distributed import CHIEF_WAIT_S, DistributedError, Heartbeat, wait_for_chief
from tuner_app.events import Event, SearchState
from tuner_app.project_lock import read_holder
from tuner_app.results import read_results
from tuner_app.search_errors import SearchError
from tuner_app.tuners import StopSearch, format_exception


class WorkerSide(Protocol):
    """What a worker needs of the engine that prepared it."""

    config: SearchConfig
    budget: Budget
    project_dir: Path
    worker: str
    identity: dict[str, Any]

    def emit(self, event: str, **fields: Any) -> None: ...
    def build_tuner(self, device: Device) -> kt.Tuner: ...
    def run_trials(self, tuner: kt.Tuner, splits: TrainValidation) -> None: ...


@dataclass(frozen=True)
class WorkerOutcome:
    state: SearchState
    reason: str


def run_worker(engine: WorkerSide, device: Device, splits: TrainValidation) -> WorkerOutcome:
    """Wait for the chief, register, then run its trials until it says stop (or is lost)."""
    config = engine.config
    try:
        if not wait_for_chief(config.oracle, CHIEF_WAIT_S, should_stop=engine.budget.cancelled.is_set):
            return WorkerOutcome(SearchState.STOPPED, "stopped by the user while waiting for the chief")
    except DistributedError as exc:
        raise DistributedError(f"{exc}{search_ended_note(engine.project_dir)}") from None
    from tuner_app.worker_client import (  # gRPC: workers only
        ChiefClient,
        ChiefLost,
        chief_call_timeout,
        register_with_chief,
    )

    chiefs = read_holder(engine.project_dir)  # proves the worker sees the chief's folder
    token = chiefs.token if chiefs is not None else ""
    register_with_chief(config.oracle, engine.worker, engine.identity, CHIEF_WAIT_S, token)
    with Heartbeat(engine.project_dir, engine.worker):
        engine.emit(Event.WORKER_STARTED, device=str(device))
        with chief_call_timeout(CHIEF_WAIT_S):  # building the tuner already asks the chief
            tuner = engine.build_tuner(device)
        tuner.oracle = ChiefClient(
            tuner.oracle, config.oracle, CHIEF_WAIT_S, should_stop=engine.budget.cancelled.is_set
        )
        state, reason = SearchState.FINISHED, "the chief has no more trials"
        try:
            engine.run_trials(tuner, splits)
        except StopSearch as stop:
            state, reason = SearchState.STOPPED, stop.reason
        except ChiefLost as lost:
            state, reason = SearchState.FAILED, f"{lost}{search_ended_note(engine.project_dir)}"
        except Exception as exc:
            state, reason = SearchState.FAILED, format_exception(exc)
        engine.emit(Event.WORKER_FINISHED, state=state, reason=reason)
    if state is SearchState.FAILED:
        raise SearchError(f"The worker failed: {reason}.")
    return WorkerOutcome(state, reason)


def search_ended_note(project_dir: Path) -> str:
    """ " (the search in DIR has ended: ...)" when the chief's log says its last run ended, else "":
    a worker that finds no chief after the search finished has nothing to resume."""
    try:
        snapshot = read_results(project_dir)
    except (OSError, ValueError):
        return ""
    if not snapshot.state.over:
        return ""
    return (
        f" (the search in {project_dir} has ended: {snapshot.state}, {snapshot.reason or 'no reason given'}; "
        "a worker is only needed again if the chief is restarted with --resume)"
    )
