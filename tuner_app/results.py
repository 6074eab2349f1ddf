"""The results store: an append-only JSON Lines event log in the project folder, and its reader.

The writer is `tuner_app.results_writer`; this module reads. Why a log of events rather than a file
rewritten per trial: an append of one line is crash-safe (a
kill loses at most the running trial and can leave at most one torn line at the end, which the reader
skips and reports), several worker processes can append to one file under an advisory lock, and a
reader in another process (the window following a headless run) can read only what is new.

Events (one JSON object per line, each with "event", "time" and "worker"): the kinds in
`tuner_app.events.Event`. The reader folds them into frozen records (`tuner_app.records`, like
Optuna's FrozenTrial); a line that is torn, not JSON, or JSON of the wrong shape is skipped,
counted and reported, never raised. Paths inside the log are relative to the project folder, so a
moved or copied project reads its own files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuner_app.events import BadEvent, Event, SearchState, TrialStatus, checked_event
from tuner_app.project_lock import lock_holder
from tuner_app.records import (
    OBJECTIVE,
    EpochRecord,
    ReplicateTestScores,
    SearchSnapshot,
    TrialRecord,
    mean_and_std,
    mean_metric_curve,
)
from tuner_app.results_writer import RESULTS_FILE, LogReplaced, ResultsWriter

__all__ = [  # the writer and the records live in their own modules; importing them from here keeps working
    "OBJECTIVE",
    "RESULTS_FILE",
    "EpochRecord",
    "LogReplaced",
    "ReplicateTestScores",
    "ResultsError",
    "ResultsReader",
    "ResultsWriter",
    "SearchSnapshot",
    "TrialRecord",
    "check_project_folder",
    "mean_and_std",
    "mean_metric_curve",
    "read_results",
]  # fmt: skip


class ResultsError(ValueError):
    """A project folder holds no readable results."""


@dataclass
class _TrialBuilder:
    trial_id: str
    hyperparameters: dict[str, Any]
    worker: str
    started_at: float
    status: TrialStatus = TrialStatus.RUNNING
    executions: list[list[EpochRecord]] = field(default_factory=list)
    finished_at: float | None = None
    error: str | None = None
    attempts: int = 1
    last_event_at: float | None = None
    pruned_at_epoch: int | None = None

    def freeze(self, search_over: bool) -> TrialRecord:
        status = self.status
        if status is TrialStatus.RUNNING and search_over:
            status = TrialStatus.INTERRUPTED
        return TrialRecord(
            trial_id=self.trial_id,
            status=status,
            hyperparameters=dict(self.hyperparameters),
            executions=tuple(tuple(c) for c in self.executions),
            worker=self.worker,
            started_at=self.started_at,
            finished_at=self.finished_at,
            error=self.error,
            attempts=self.attempts,
            last_event_at=self.last_event_at,
            pruned_at_epoch=self.pruned_at_epoch,
        )


class ResultsReader:
    """Reads a project's log incrementally: `poll()` folds in only the lines written since.

    Never raises on the log's content: torn lines, non-JSON and JSON of the wrong shape are counted
    and named in the snapshot's `problems`. A log that was replaced or truncated under the reader
    is read again from its start (and that is reported too).
    """

    def __init__(self, project_dir: str | Path):
        self.project_dir = Path(project_dir)
        self.path = self.project_dir / RESULTS_FILE
        self._version = 0
        self._restarts = 0
        self._restarted = False  # restarted since the last poll that reported a change
        self._reset()

    def _reset(self) -> None:
        self._offset = 0
        self._file_id: tuple[int, int] | None = None
        self._pending = b""
        self._config: dict[str, Any] = {}
        self._identity: dict[str, Any] | None = None
        self._device: str | None = None
        self._planned: int | None = None
        self._state = SearchState.EMPTY
        self._trials: dict[str, _TrialBuilder] = {}
        self._started_at: float | None = None
        self._finished_at: float | None = None
        self._reason: str | None = None
        self._test: dict[str, Any] | None = None
        self._test_error: str | None = None
        self._bad_lines = 0
        self._bad_examples: list[str] = []
        self._notes: list[str] = []
        self._runs: list[list[float | None]] = []
        self._last_time: float | None = None

    @property
    def version(self) -> int:
        """Increases whenever a poll folded in new events."""
        return self._version

    @property
    def state(self) -> SearchState:
        return self._state

    def poll(self) -> bool:
        """Read new complete lines; True when something changed."""
        try:
            with open(self.path, "rb") as handle:
                info = os.fstat(handle.fileno())
                file_id = (info.st_dev, info.st_ino)
                replaced = self._file_id is not None and (
                    file_id != self._file_id or info.st_size < self._offset
                )
                if replaced:
                    self._restart()
                self._file_id = file_id
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            if self._file_id is not None:  # it was there: deleted under us
                self._restart()
                self._version += 1
                return True
            return False
        except OSError as exc:
            note = f"{self.path} could not be read ({exc.strerror or exc})"
            if note not in self._notes:
                self._notes.append(note)
                self._version += 1
                return True
            return False
        if not chunk:
            return self._consume_restart()
        self._restarted = False
        self._offset += len(chunk)
        data = self._pending + chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()  # incomplete last line (still being written, or torn)
        for number, line in enumerate(lines):
            if line.strip():
                self._fold(line, number)
        self._version += 1
        return True

    def _restart(self) -> None:
        restarts = self._restarts + 1
        self._reset()
        self._restarts = restarts
        self._restarted = True

    def _consume_restart(self) -> bool:
        if self._restarted:
            self._restarted = False
            self._version += 1
            return True
        return False

    def _fold(self, line: bytes, number: int) -> None:
        try:
            parsed = checked_event(json.loads(line))
            if parsed is not None:
                self._apply(*parsed)
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and BadEvent are ValueErrors
            self._bad(str(exc) if isinstance(exc, BadEvent) else "not JSON")
        except (TypeError, AttributeError, KeyError) as exc:  # a shape checked_event did not foresee
            self._bad(f"{type(exc).__name__}: {exc}")
        except (OverflowError, RecursionError) as exc:  # a 400-digit number; brackets nested 100,000 deep
            self._bad(f"{type(exc).__name__}: a number or nesting too big to read")

    def _bad(self, why: str) -> None:
        self._bad_lines += 1
        if len(self._bad_examples) < 3:
            self._bad_examples.append(why)

    def snapshot(self, live: bool | None = None) -> SearchSnapshot:
        """The search so far; `live=False` (its process is gone) freezes running trials as interrupted."""
        over = self._state.over or live is False
        problems = list(self._notes)
        if self._restarts:
            problems.append(
                f"{self.path} was deleted, replaced or truncated while it was being read; "
                "what is shown is what the file holds now"
            )
        if self._bad_lines:
            problems.append(
                f"{self._bad_lines} unreadable line(s) in {self.path} were skipped "
                f"({'; '.join(self._bad_examples)})"
            )
        if self._pending.strip():
            problems.append(f"the last line of {self.path} is incomplete (torn write) and was ignored")
        return SearchSnapshot(
            project_dir=self.project_dir,
            config=dict(self._config),
            device=self._device,
            state=self._state,
            trials=tuple(b.freeze(over) for b in sorted(self._trials.values(), key=lambda b: b.trial_id)),
            started_at=self._started_at,
            finished_at=self._finished_at,
            reason=self._reason,
            test=dict(self._test) if self._test else None,
            problems=tuple(problems),
            planned_trials=self._planned,
            test_error=self._test_error,
            identity=dict(self._identity) if self._identity is not None else None,
            live=live if self._state is SearchState.RUNNING else None,
            runs=tuple((float(start), end) for start, end in self._runs),  # type: ignore[arg-type]
            last_event_at=self._last_time,
        )

    def _apply(self, kind: Event, event: Mapping[str, Any]) -> None:
        when = float(event["time"])
        worker = str(event.get("worker", "main"))
        trial_id = event.get("trial_id")
        trial = self._trials.get(trial_id) if isinstance(trial_id, str) else None
        previous, self._last_time = self._last_time, max(when, self._last_time or when)
        if trial is not None:
            trial.last_event_at = when
        if kind is Event.SEARCH_STARTED:
            if self._runs and self._runs[-1][1] is None:  # the run before ended without a word
                self._runs[-1][1] = previous
            self._runs.append([when, None])
            self._config = dict(event["config"])
            if self._identity is None and isinstance(event.get("identity"), dict):
                self._identity = dict(event["identity"])  # the first run's: what resumes must match
            self._device = _text_or_none(event.get("device"))
            planned = event.get("planned_trials")
            self._planned = planned if isinstance(planned, int) and not isinstance(planned, bool) else None
            self._state = SearchState.RUNNING
            self._started_at = self._started_at or when
            self._finished_at = self._reason = None
            self._test_error = None
        elif kind is Event.TRIAL_STARTED:
            attempts = trial.attempts + 1 if trial else 1
            self._trials[trial_id] = _TrialBuilder(
                trial_id=trial_id,
                hyperparameters=dict(event.get("hyperparameters") or {}),
                worker=worker,
                started_at=when,
                attempts=attempts,
                last_event_at=when,
            )
        elif kind is Event.EXECUTION_STARTED and trial and worker == trial.worker:
            trial.executions.append([])
        elif kind is Event.EPOCH and trial and worker == trial.worker:  # not a late lost worker's
            if not trial.executions:
                trial.executions.append([])
            metrics = {k: float(v) for k, v in event["metrics"].items()}
            trial.executions[-1].append(EpochRecord(int(event["epoch"]), metrics))
        elif kind is Event.TRIAL_FINISHED and trial:
            trial.status = TrialStatus.parse(event.get("status", "completed"))
            trial.hyperparameters = dict(event.get("hyperparameters") or trial.hyperparameters)
            trial.finished_at = when
            trial.error = _text_or_none(event.get("error"))
            pruned = event.get("pruned_at_epoch")
            trial.pruned_at_epoch = (
                pruned if isinstance(pruned, int) and not isinstance(pruned, bool) else None
            )
        elif kind is Event.TRIAL_ORPHANED and trial:
            trial.status = TrialStatus.ORPHANED
            trial.error = f"worker {event.get('lost_worker')} was lost mid-trial; re-queued"
        elif kind is Event.TRIAL_RECLAIMED and trial:  # the "lost" worker reported again: still its trial
            trial.status = TrialStatus.RUNNING
            trial.error = None
        elif kind is Event.TEST_EVALUATED:
            self._test = {k: v for k, v in event.items() if k not in ("event", "worker")}
            self._test_error = None
        elif kind is Event.TEST_FAILED:
            self._test_error = _text_or_none(event.get("error")) or "the test evaluation failed"
        elif kind is Event.WORKER_REFUSED:
            note = f"worker {event.get('refused_worker')} was refused: {event.get('reason')}"
            if note not in self._notes:
                self._notes.append(note)
        elif kind is Event.SEARCH_FINISHED:
            self._state = SearchState.parse(event.get("state", "finished"))
            self._finished_at = when
            self._reason = _text_or_none(event.get("reason"))
            if self._runs and self._runs[-1][1] is None:
                self._runs[-1][1] = when


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def check_project_folder(project_dir: str | Path) -> Path:
    """The folder's results log, without reading it; ResultsError (saying what to pick instead)
    when the folder is missing or holds none."""
    project = Path(project_dir)
    if not project.is_dir():
        raise ResultsError(f"Project folder {project} does not exist.")
    path = project / RESULTS_FILE
    if not path.is_file():
        raise ResultsError(
            f"{project} holds no {RESULTS_FILE}: it is not a tuner_app project folder "
            "(pick the folder passed as --project-dir)."
        )
    return path


def read_results(project_dir: str | Path) -> SearchSnapshot:
    """Read a whole project folder; raises ResultsError when it holds no results log."""
    project = Path(project_dir)
    check_project_folder(project)
    reader = ResultsReader(project)
    reader.poll()
    live = None
    if reader.state is SearchState.RUNNING:
        live = lock_holder(project) is not None
    return reader.snapshot(live=live)
