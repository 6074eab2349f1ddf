"""The results store: an append-only JSON Lines event log in the project folder, and its reader.

Why a log of events rather than a file rewritten per trial: an append of one line is crash-safe (a
kill loses at most the running trial and can leave at most one torn line at the end, which the reader
skips and reports), several worker processes can append to one file under an advisory lock, and a
reader in another process (the window following a headless run) can read only what is new.

Events (one JSON object per line, each with "event", "time" and "worker"):
search_started, trial_started, execution_started, epoch, trial_finished, test_evaluated,
search_finished. The reader folds them into frozen records, like Optuna's FrozenTrial.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_FILE = "results.jsonl"
OBJECTIVE = "val_accuracy"


class ResultsError(ValueError):
    """A project folder holds no readable results."""


class ResultsWriter:
    """Appends events to the project's log; every line is flushed to disk before it returns."""

    def __init__(self, project_dir: str | Path, worker: str = "main"):
        self.path = Path(project_dir) / RESULTS_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.worker = worker

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"event": event, "time": time.time(), "worker": self.worker, **fields}
        line = (json.dumps(record, default=_json_default, allow_nan=True) + "\n").encode()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # several workers may share one project folder
            try:
                _repair_torn_tail(fd)
                os.write(fd, line)
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return record


def _repair_torn_tail(fd: int) -> None:
    """After a crash mid-write, end the torn line so the next event starts on a line of its own."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 0-based, as Keras counts
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the log describes it; every execution (replicate) keeps its own curve."""

    trial_id: str
    status: str  # running, completed, failed, invalid, interrupted, orphaned
    hyperparameters: Mapping[str, Any]
    executions: tuple[tuple[EpochRecord, ...], ...]
    worker: str
    started_at: float
    finished_at: float | None = None
    error: str | None = None
    attempts: int = 1

    @property
    def execution_scores(self) -> tuple[float, ...]:
        """Best validation accuracy of each execution (KerasTuner's per-execution score)."""
        scores = []
        for curve in self.executions:
            values = [e.metrics.get(OBJECTIVE) for e in curve]
            values = [v for v in values if v is not None and math.isfinite(v)]
            if values:
                scores.append(max(values))
        return tuple(scores)

    @property
    def mean(self) -> float | None:
        scores = self.execution_scores
        return statistics.fmean(scores) if scores else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation over executions (0 for a single one)."""
        scores = self.execution_scores
        if not scores:
            return None
        return statistics.stdev(scores) if len(scores) > 1 else 0.0

    @property
    def best_epoch(self) -> int | None:
        """1-based epoch where the validation accuracy, averaged over executions, peaks."""
        mean_curve = mean_metric_curve(self, OBJECTIVE)
        if not mean_curve:
            return None
        best = max(mean_curve, key=lambda pair: pair[1])
        return best[0] + 1

    @property
    def duration(self) -> float | None:
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def epochs_done(self) -> int:
        return sum(len(curve) for curve in self.executions)

    def user_hyperparameters(self) -> dict[str, Any]:
        """Hyperparameters without KerasTuner's internal "tuner/..." bookkeeping."""
        return {k: v for k, v in self.hyperparameters.items() if not k.startswith("tuner/")}


def mean_metric_curve(trial: TrialRecord, metric: str) -> list[tuple[int, float]]:
    """(epoch, mean over executions) for the epochs every execution that reached them reported."""
    by_epoch: dict[int, list[float]] = {}
    for curve in trial.executions:
        for record in curve:
            value = record.metrics.get(metric)
            if value is not None and math.isfinite(value):
                by_epoch.setdefault(record.epoch, []).append(value)
    return [(epoch, statistics.fmean(vals)) for epoch, vals in sorted(by_epoch.items())]


@dataclass(frozen=True)
class SearchSnapshot:
    """Everything the log says so far; what the CLI summary and the window display."""

    project_dir: Path
    config: Mapping[str, Any]
    device: str | None
    state: str  # empty, running, finished, stopped, failed
    trials: tuple[TrialRecord, ...]
    started_at: float | None
    finished_at: float | None
    reason: str | None
    test: Mapping[str, Any] | None
    problems: tuple[str, ...] = ()
    planned_trials: int | None = None  # what the search means to run (a grid's size), not the cap

    def completed(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.status == "completed" and t.mean is not None]

    def best(self, n: int = 1) -> list[TrialRecord]:
        return sorted(self.completed(), key=lambda t: t.mean or 0.0, reverse=True)[:n]

    def best_so_far(self) -> list[tuple[int, float]]:
        """(trial number, best mean validation accuracy so far) in the order trials finished."""
        out, best = [], -math.inf
        finished = sorted(self.completed(), key=lambda t: t.finished_at or 0.0)
        for number, trial in enumerate(finished, start=1):
            best = max(best, trial.mean or -math.inf)
            out.append((number, best))
        return out


@dataclass
class _TrialBuilder:
    trial_id: str
    hyperparameters: dict[str, Any]
    worker: str
    started_at: float
    status: str = "running"
    executions: list[list[EpochRecord]] = field(default_factory=list)
    finished_at: float | None = None
    error: str | None = None
    attempts: int = 1

    def freeze(self, search_over: bool) -> TrialRecord:
        status = self.status
        if status == "running" and search_over:
            status = "interrupted"
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
        )


class ResultsReader:
    """Reads a project's log incrementally: `poll()` folds in only the lines written since."""

    def __init__(self, project_dir: str | Path):
        self.project_dir = Path(project_dir)
        self.path = self.project_dir / RESULTS_FILE
        self._offset = 0
        self._pending = b""
        self._config: dict[str, Any] = {}
        self._device: str | None = None
        self._planned: int | None = None
        self._state = "empty"
        self._trials: dict[str, _TrialBuilder] = {}
        self._started_at: float | None = None
        self._finished_at: float | None = None
        self._reason: str | None = None
        self._test: dict[str, Any] | None = None
        self._bad_lines = 0
        self._version = 0

    @property
    def version(self) -> int:
        """Increases whenever a poll folded in new events."""
        return self._version

    def poll(self) -> bool:
        """Read new complete lines; True when something changed."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except FileNotFoundError:
            return False
        if not chunk:
            return False
        self._offset += len(chunk)
        data = self._pending + chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()  # incomplete last line (still being written, or torn)
        changed = False
        for line in lines:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                self._bad_lines += 1
                continue
            self._apply(event)
            changed = True
        if changed:
            self._version += 1
        return changed

    def snapshot(self) -> SearchSnapshot:
        over = self._state in ("finished", "stopped", "failed")
        problems = []
        if self._bad_lines:
            problems.append(f"{self._bad_lines} unreadable line(s) in {self.path} were skipped")
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
        )

    def _apply(self, event: Mapping[str, Any]) -> None:
        kind = event.get("event")
        when = float(event.get("time", 0.0))
        worker = str(event.get("worker", "main"))
        trial_id = event.get("trial_id")
        trial = self._trials.get(trial_id) if trial_id is not None else None
        if kind == "search_started":
            self._config = dict(event.get("config", {}))
            self._device = event.get("device")
            self._planned = event.get("planned_trials")
            self._state = "running"
            self._started_at = self._started_at or when
            self._finished_at = self._reason = None
        elif kind == "trial_started":
            attempts = trial.attempts + 1 if trial else 1
            self._trials[trial_id] = _TrialBuilder(
                trial_id=trial_id,
                hyperparameters=dict(event.get("hyperparameters", {})),
                worker=worker,
                started_at=when,
                attempts=attempts,
            )
        elif kind == "execution_started" and trial and worker == trial.worker:
            trial.executions.append([])
        elif kind == "epoch" and trial and worker == trial.worker:  # not a late lost worker's
            if not trial.executions:
                trial.executions.append([])
            metrics = {k: float(v) for k, v in event.get("metrics", {}).items()}
            trial.executions[-1].append(EpochRecord(int(event.get("epoch", 0)), metrics))
        elif kind == "trial_finished" and trial:
            trial.status = str(event.get("status", "completed"))
            trial.hyperparameters = dict(event.get("hyperparameters") or trial.hyperparameters)
            trial.finished_at = when
            trial.error = event.get("error")
        elif kind == "trial_orphaned" and trial:
            trial.status = "orphaned"
            trial.error = f"worker {event.get('lost_worker')} was lost mid-trial; re-queued"
        elif kind == "trial_reclaimed" and trial:  # the "lost" worker reported again: still its trial
            trial.status = "running"
            trial.error = None
        elif kind == "test_evaluated":
            self._test = {k: v for k, v in event.items() if k not in ("event", "worker")}
        elif kind == "search_finished":
            self._state = str(event.get("state", "finished"))
            self._finished_at = when
            self._reason = event.get("reason")


def read_results(project_dir: str | Path) -> SearchSnapshot:
    """Read a whole project folder; raises ResultsError when it holds no results log."""
    project = Path(project_dir)
    if not project.is_dir():
        raise ResultsError(f"Project folder {project} does not exist.")
    reader = ResultsReader(project)
    if not reader.path.is_file():
        raise ResultsError(
            f"{project} holds no {RESULTS_FILE}: it is not a tuner_app project folder "
            "(pick the folder passed as --project-dir)."
        )
    reader.poll()
    return reader.snapshot()
