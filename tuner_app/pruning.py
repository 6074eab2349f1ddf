"""`--prune`: the median stopping rule, which ends hopeless trials after a few epochs.

The rule (Golovin et al. 2017, "Google Vizier", section 3.2.2; Optuna's MedianPruner is the same
idea): stop a trial at epoch e when its best validation accuracy so far is below the median, over
the finished trials that reached epoch e, of their running-average validation accuracy up to e.
It needs no model of the space and never stops a trial that is doing at least as well as the
typical finished one. Nothing is stopped before `min_trials` trials have finished or before
`warmup_epochs` epochs.

Why: on a 2-core CPU a random search spends most of its night on trials that are plainly worse
after an epoch (a tiny learning rate, a wrong optimizer). Hyperband stops trials early by its own
brackets, so `--prune` is for random, Bayesian and grid searches. benchmarks/pruning.py measures
whether it helps.

The finished trials come from the results log, so a resumed search and every worker of a
distributed one judge against the same trials.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from tuner_app.results import OBJECTIVE, ResultsReader, mean_metric_curve

MIN_TRIALS = 3
WARMUP_EPOCHS = 1


class MedianStopping:
    """Decides, epoch by epoch, whether a running trial is below the median of finished ones."""

    def __init__(
        self, project_dir: str | Path, min_trials: int = MIN_TRIALS, warmup_epochs: int = WARMUP_EPOCHS
    ) -> None:
        self.min_trials = min_trials
        self.warmup_epochs = warmup_epochs
        self._reader = ResultsReader(project_dir)
        self._curves: list[list[float]] = []  # finished trials' mean validation accuracy per epoch

    def refresh(self) -> None:
        """Read the trials finished since the last call (a trial's start is the time to call it)."""
        try:
            self._reader.poll()
        except OSError:
            return  # the log is unreadable right now: keep judging by what was read before
        finished = self._reader.snapshot().completed()
        self._curves = [[value for _, value in mean_metric_curve(t, OBJECTIVE)] for t in finished]

    @property
    def finished_trials(self) -> int:
        return len(self._curves)

    def threshold(self, epoch: int) -> float | None:
        """The median running average at 0-based `epoch`, or None while the rule does not apply."""
        if epoch < self.warmup_epochs:
            return None
        averages = [statistics.fmean(c[: epoch + 1]) for c in self._curves if len(c) > epoch]
        if len(averages) < self.min_trials:
            return None
        return statistics.median(averages)

    def should_stop(self, epoch: int, curve: Sequence[float]) -> bool:
        """Whether a trial whose validation accuracies so far are `curve` stops after `epoch`."""
        limit = self.threshold(epoch)
        return limit is not None and bool(curve) and max(curve[: epoch + 1]) < limit
