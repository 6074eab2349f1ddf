"""What a search's results log says, as frozen records (like Optuna's FrozenTrial): each trial's
epochs per execution, its scores (mean ± std over replicates), the best trial's test result, and the
whole search's snapshot. `tuner_app.results` reads the log into them; the CLI summary, reports and
the window only read them. Pure data: no file access, no Qt.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tuner_app.events import SearchState, TrialStatus

OBJECTIVE = "val_accuracy"


def mean_and_std(values: Any) -> tuple[float, float] | None:
    """Mean and sample standard deviation (n - 1; 0 for a single value) of replicate scores, the one
    rule for validation (`TrialRecord`) and test (`ReplicateTestScores`) alike; None for no value."""
    values = [float(v) for v in values]
    if not values:
        return None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 0-based, as Keras counts
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the log describes it; every execution (replicate) keeps its own curve."""

    trial_id: str
    status: TrialStatus
    hyperparameters: Mapping[str, Any]
    executions: tuple[tuple[EpochRecord, ...], ...]
    worker: str
    started_at: float
    finished_at: float | None = None
    error: str | None = None
    attempts: int = 1
    #: Time of this trial's last event (start, epoch, end): how long an interrupted trial ran.
    last_event_at: float | None = None
    #: Set when the median stopping rule (--prune) ended the trial early: its score is partial.
    pruned_at_epoch: int | None = None

    # Why cached: a record never changes (frozen), and the table, the ranking and the analysis views
    # ask for these thousands of times per redraw (a sample std costs ~50 us: 1.2 s per 20 s of a
    # 200-trial window followed live, before). cached_property writes the instance's __dict__
    # directly, which a frozen dataclass allows; the cache is not a field, so == and repr ignore it.
    @cached_property
    def execution_scores(self) -> tuple[float, ...]:
        """Best validation accuracy of each execution (KerasTuner's per-execution score)."""
        scores = []
        for curve in self.executions:
            values = [e.metrics.get(OBJECTIVE) for e in curve]
            values = [v for v in values if v is not None and math.isfinite(v)]
            if values:
                scores.append(max(values))
        return tuple(scores)

    @cached_property
    def _score_stats(self) -> tuple[float, float] | None:
        return mean_and_std(self.execution_scores)

    @property
    def mean(self) -> float | None:
        stats = self._score_stats
        return stats[0] if stats else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation over executions (0 for a single one)."""
        stats = self._score_stats
        return stats[1] if stats else None

    @property
    def best_execution(self) -> int | None:
        """The 0-based execution with the highest best validation accuracy, the earliest on a tie:
        the one whose best epoch KerasTuner's trial checkpoint (and so `best_model.keras`) holds."""
        best, best_score = None, -math.inf
        for index, curve in enumerate(self.executions):
            values = [e.metrics.get(OBJECTIVE) for e in curve]
            score = max((v for v in values if v is not None and math.isfinite(v)), default=-math.inf)
            if score > best_score:
                best, best_score = index, score
        return best

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
    def ran_s(self) -> float | None:
        """Seconds the trial ran: its duration, or up to its last event if it never finished
        (interrupted, orphaned), so the window can say how long it ran instead of "…" forever."""
        if self.finished_at is not None:
            return self.finished_at - self.started_at
        if self.status is TrialStatus.RUNNING or self.last_event_at is None:
            return None
        return max(self.last_event_at - self.started_at, 0.0)

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
class ReplicateTestScores:
    """The best trial's replicates (`--executions` > 1), each tested once: what `test_evaluated`
    records beside the one model saved as `best_model.keras` (tuner_app.final_test)."""

    accuracies: tuple[float, ...]  # in execution order (execution 0 first)
    losses: tuple[float, ...]
    mean: float
    std: float  # sample standard deviation, as for validation
    #: The 0-based execution whose weights best_model.keras holds (its test accuracy is `test_accuracy`).
    best_model_execution: int | None
    #: The replicates' ensemble (average prediction, `ensemble_model.keras`) on test; None in logs
    #: written before ensembles were kept.
    ensemble_accuracy: float | None = None

    @classmethod
    def from_test(cls, test: Mapping[str, Any] | None) -> ReplicateTestScores | None:
        """From a `test_evaluated` record; None when it has no replicates (one execution, a log
        written before replicates were tested)."""
        accuracies = (test or {}).get("test_accuracies")
        stats = mean_and_std(accuracies) if isinstance(accuracies, list) else None
        if test is None or stats is None:
            return None
        losses = test.get("test_losses")
        best = test.get("best_model_execution")
        ensemble = test.get("ensemble_test_accuracy")
        return cls(
            accuracies=tuple(float(v) for v in accuracies),
            losses=tuple(float(v) for v in losses) if isinstance(losses, list) else (),
            mean=stats[0],
            std=stats[1],
            best_model_execution=best if isinstance(best, int) and not isinstance(best, bool) else None,
            ensemble_accuracy=float(ensemble) if isinstance(ensemble, (int, float)) else None,
        )


@dataclass(frozen=True)
class SearchSnapshot:
    """Everything the log says so far; what the CLI summary and the window display."""

    project_dir: Path
    config: Mapping[str, Any]
    device: str | None
    state: SearchState
    trials: tuple[TrialRecord, ...]
    started_at: float | None
    finished_at: float | None
    reason: str | None
    test: Mapping[str, Any] | None
    problems: tuple[str, ...] = ()
    planned_trials: int | None = None  # what the search means to run (a grid's size), not the cap
    test_error: str | None = None  # why the best model's test evaluation failed, if it did
    identity: Mapping[str, Any] | None = None  # what defines the search (see tuner_app.identity)
    #: Whether a process still holds the project (tuner_app.project_lock), asked only while the log
    #: says "running": False means it was killed or crashed, and its running trials are interrupted.
    live: bool | None = None
    #: (start, end) of each run of the search (a resume starts a new one); end is None while it runs
    #: or when it ended without a search_finished (killed), then `last_event_at` is its last sign.
    runs: tuple[tuple[float, float | None], ...] = ()
    last_event_at: float | None = None

    def search_time_s(self, now: float) -> float | None:
        """Seconds spent searching: the sum of the runs, not the idle time between a stop and a
        resume. The run still going counts up to `now`; a run whose process is gone up to its last event."""
        if not self.runs:
            return None
        total = 0.0
        for index, (start, end) in enumerate(self.runs):
            if end is None:
                going = index == len(self.runs) - 1 and self.state == "running" and self.live is not False
                end = now if going else (self.last_event_at or start)
            total += max(end - start, 0.0)
        return total

    @property
    def test_replicates(self) -> ReplicateTestScores | None:
        """The tested trial's replicates on the test set (mean ± std), or None (see ReplicateTestScores)."""
        return ReplicateTestScores.from_test(self.test)

    @property
    def best_model_path(self) -> Path | None:
        """The saved best model, always inside this folder (older logs recorded absolute paths)."""
        if not self.test or not self.test.get("model_path"):
            return None
        return self.project_dir / Path(str(self.test["model_path"])).name

    @property
    def ensemble_model_path(self) -> Path | None:
        """The best trial's replicates as one model (tuner_app.final_test), inside this folder; None
        for a search of one execution per trial."""
        if not self.test or not self.test.get("ensemble_model_path"):
            return None
        return self.project_dir / Path(str(self.test["ensemble_model_path"])).name

    def status_counts(self) -> dict[str, int]:
        """Trials per status name, in the order each status first appears (summary.json keeps it)."""
        counts: dict[str, int] = {}
        for trial in self.trials:
            counts[str(trial.status)] = counts.get(str(trial.status), 0) + 1
        return counts

    def completed(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.status is TrialStatus.COMPLETED and t.mean is not None]

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
