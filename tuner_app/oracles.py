"""The oracles our searches use: KerasTuner's own, extended the way KerasTuner shows it.

KerasTuner's docs and tests extend an oracle by subclassing it and overriding `populate_space`, with
`@keras_tuner.synchronized` on methods that gRPC threads may call at once. Three extensions:

- `StartPointMixin`: a fresh random or Bayesian search's first trials are the family's known-good
  points, `START` first (tuner_app.start_point says why); later trials are the oracle's own.
- `ChiefMixin`: the chief's record of its workers (who last called when, which trial a lost worker
  left, who was told to stop) and the re-queue / reclaim of a lost worker's trial, all under the
  oracle's own lock, so the chief's gRPC handlers and its poll loop need no second lock;
- `GridWalkMixin`: a resumed grid search goes on where it stopped (KerasTuner's forgets its walk).

The classes are named, one per (role, algorithm), and passed to the tuner as `Tuner(oracle=...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cmp_to_key
from typing import Any

import keras_tuner as kt

from tuner_app.keras_tuner_seam import Trial, TrialStatus, restore_grid_walk, retry_queue
from tuner_app.start_point import STARTING_TUNERS, start_values


class LateReport(Exception):
    """A worker reported on a trial that is no longer its own; the call is refused with this."""


class StartPointMixin:
    """Trial k of a search is `starts[k]` (with defaults for what it does not name) while k is
    below their number; then the oracle's own. A resumed search goes on where it was."""

    def __init__(self, *args: Any, starts: Sequence[Mapping[str, Any]] = (), **kwargs: Any) -> None:
        self.starts = [dict(point) for point in starts if point]
        super().__init__(*args, **kwargs)

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        made = len(self.trials)  # trials created so far (a retried one is not re-populated)
        if made >= len(self.starts):
            return super().populate_space(trial_id)
        return {
            "status": TrialStatus.RUNNING,
            "values": start_values(self.hyperparameters, self.starts[made]),
        }


class ChiefMixin:
    """What a chief must know about its workers to survive losing one, kept with the trials it
    protects and changed only under the oracle's lock (KerasTuner's `@synchronized`, reentrant
    per thread). KerasTuner itself would wait forever for a lost worker's trial."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_call: dict[str, float] = {}  # worker -> when it last called
        self.lost_by: dict[str, str] = {}  # re-queued trial id -> the worker that lost it
        self.released: set[str] = set()  # workers told to stop
        self.workers_seen = False
        self.stopping = False  # the chief's budget is spent: hand out no new trials

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        # KerasTuner's reload re-queues the trials that were running: remember whose they were, so a
        # worker that outlived a chief restart gets its own trial back, and nobody else takes it
        # while that worker is alive (tuner_app.chief decides who is).
        self.lost_by.update({trial_id: worker for worker, trial_id in state["ongoing_trials"].items()})

    @kt.synchronized
    def trial_for(self, worker: str, now: float, alive: Callable[[str], bool]) -> tuple[Trial, bool]:
        """The trial to hand `worker`, and whether it should wait (IDLE) rather than stop: once the
        last trial is out, others may still lose one that then needs a taker. A queued trial whose
        own worker is `alive` (it will report on it again) is kept for that worker."""
        self.workers_seen = True
        self.last_call[worker] = now
        kept: list[str] = []
        if self.stopping:
            trial = Trial(self.get_space(), status=TrialStatus.STOPPED)
        else:
            queue = retry_queue(self)
            kept = [t for t in queue if self.lost_by.get(t) not in (None, worker) and alive(self.lost_by[t])]
            queue[:] = [t for t in queue if t not in kept]
            try:
                trial = self.create_trial(worker)
            finally:
                queue[:0] = kept  # KerasTuner takes from the end: these wait at the front
        if trial.status != TrialStatus.STOPPED:
            return trial, False
        waiting = not self.stopping and (bool(kept) or any(w != worker for w in self.ongoing_trials))
        if not waiting:
            self.released.add(worker)
        return trial, waiting

    @kt.synchronized
    def heard_about(
        self, trial_id: str, caller: str | None, now: float, timeout_s: float
    ) -> tuple[str | None, str | None]:
        """A worker (`caller`, None without a call header) reported on `trial_id`: note it is alive
        and give back its re-queued trial if nobody took it. Returns (the worker the trial was given
        back to, or None; why the report is refused because another worker runs the trial, or None).
        Nothing here raises: an exception inside `@synchronized` would leave its lock held."""
        owner = next((w for w, t in self.ongoing_trials.items() if t.trial_id == trial_id), None)
        lost_by = self.lost_by.get(trial_id)
        claimant = caller or lost_by  # tests drive the servicer without a call header
        queue = retry_queue(self)
        returned = None
        # Its own worker still runs it: the one declared lost, or one that outlived a chief restart.
        if owner is None and trial_id in queue and claimant is not None and lost_by in (None, claimant):
            owner = returned = claimant
            self.lost_by.pop(trial_id, None)
            queue.remove(trial_id)
            trial = self.trials[trial_id]
            trial.status = TrialStatus.RUNNING
            self.ongoing_trials[owner] = trial
            self.tuner_ids.add(owner)
            self.save()
        if caller is not None and caller != owner:
            taker = f"worker {owner}" if owner else "another worker"
            return returned, (
                f"trial {trial_id} was given to {taker} after worker {caller} was silent for "
                f"{timeout_s:.0f} s (--worker-timeout), or it ended; this worker's run is dropped"
            )
        if owner is not None:
            self.last_call[owner] = now
        return returned, None

    @kt.synchronized
    def requeue_lost(self, alive: Callable[[str], bool]) -> list[tuple[str, str]]:
        """Give the trials of workers that are not `alive` back to the queue; (trial id, worker)
        for each one re-queued."""
        requeued = []
        for worker, trial in list(self.ongoing_trials.items()):
            if alive(worker):
                continue
            self.ongoing_trials.pop(worker, None)
            self.tuner_ids.discard(worker)
            self.last_call.pop(worker, None)
            queue = retry_queue(self)
            if trial.trial_id not in queue:
                queue.append(trial.trial_id)
            self.lost_by[trial.trial_id] = worker
            requeued.append((trial.trial_id, worker))
        if requeued:
            self.save()
        return requeued

    @kt.synchronized
    def workers(self, also: set[str]) -> set[str]:
        """Every worker that may still ask for a trial (known to KerasTuner or to us, plus `also`),
        less those told to stop."""
        return (set(self.tuner_ids) | set(self.last_call) | also) - self.released

    @kt.synchronized
    def running_workers(self) -> list[str]:
        return list(self.ongoing_trials)

    @kt.synchronized
    def queued_trials(self) -> list[str]:
        return list(retry_queue(self))

    # KerasTuner leaves these unsynchronized; the chief's gRPC threads call them while others
    # change the space or the trials.
    @kt.synchronized
    def get_space(self):
        return super().get_space()

    @kt.synchronized
    def update_space(self, hyperparameters):
        return super().update_space(hyperparameters)

    @kt.synchronized
    def get_trial(self, trial_id):
        return super().get_trial(trial_id)

    @kt.synchronized
    def get_best_trials(self, num_trials=1):
        return super().get_best_trials(num_trials)


class StartingRandomSearchOracle(StartPointMixin, kt.oracles.RandomSearchOracle):
    """Random search whose first trial is the start point."""


class StartingBayesianOptimizationOracle(StartPointMixin, kt.oracles.BayesianOptimizationOracle):
    """Bayesian optimization whose first trial is the start point."""


class ChiefRandomSearchOracle(ChiefMixin, StartingRandomSearchOracle):
    """A chief's random search."""


class ChiefBayesianOptimizationOracle(ChiefMixin, StartingBayesianOptimizationOracle):
    """A chief's Bayesian optimization."""


class ChiefHyperbandOracle(ChiefMixin, kt.oracles.HyperbandOracle):
    """A chief's Hyperband."""


class GridWalkMixin:
    """A grid search that a resume continues where it stopped.

    KerasTuner's grid oracle finds the next combination from its walk (the tried trials in grid
    order, and those whose successor is still to be looked at), which it keeps only in memory: a
    reloaded grid oracle had no walk, answered "stopped", and a `--resume` of an unfinished grid
    ran no trial. The walk is rebuilt from the reloaded trials: every tried combination, sorted the
    way the oracle compares them, each one's successor looked at again (one already tried is
    skipped by the oracle itself).
    """

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        tried = [trial_id for trial_id in self.start_order if trial_id in self.trials]
        values = {trial_id: self.trials[trial_id].hyperparameters.values for trial_id in tried}
        try:
            tried.sort(key=cmp_to_key(lambda a, b: self._compare(values[a], values[b])))
        except ValueError:  # a value the space no longer offers: the identity check refuses such a resume
            return
        restore_grid_walk(self, tried)


class ResumableGridSearchOracle(GridWalkMixin, kt.oracles.GridSearchOracle):
    """KerasTuner's grid search, resumable (GridWalkMixin)."""


class ChiefGridSearchOracle(ChiefMixin, ResumableGridSearchOracle):
    """A chief's grid search."""


ORACLES: dict[tuple[bool, str], type[kt.Oracle]] = {
    (False, "random"): StartingRandomSearchOracle,
    (False, "bayesian"): StartingBayesianOptimizationOracle,
    (False, "hyperband"): kt.oracles.HyperbandOracle,
    (False, "grid"): ResumableGridSearchOracle,
    (True, "random"): ChiefRandomSearchOracle,
    (True, "bayesian"): ChiefBayesianOptimizationOracle,
    (True, "hyperband"): ChiefHyperbandOracle,
    (True, "grid"): ChiefGridSearchOracle,
}


def forget_ended_trials(oracle: kt.Oracle) -> list[str]:
    """Take trials that had already ended out of a reloaded oracle's retry queue; their ids.

    KerasTuner's `end_trial` saves oracle.json before it drops the trial from `ongoing_trials`, and
    nothing saves again at the end of a search, so a reload re-queued the last finished trial (or
    one that ended just before a crash) and a --resume ran it a second time, overwriting its
    checkpoint. A trial still INVALID stays queued: that is KerasTuner's retry."""
    queue = retry_queue(oracle)
    ended = [t for t in queue if oracle.trials[t].status in (TrialStatus.COMPLETED, TrialStatus.FAILED)]
    queue[:] = [t for t in queue if t not in ended]
    return ended


def make_oracle(kind: str, chief: bool, starts: Sequence[Mapping[str, Any]] = (), **kwargs: Any) -> kt.Oracle:
    """The oracle for a search of `kind` (KerasTuner's oracle arguments in `kwargs`); `starts` are
    used by random and Bayesian searches only (Hyperband's brackets choose their own trials)."""
    cls = ORACLES[(chief, kind)]
    if kind in STARTING_TUNERS:
        kwargs["starts"] = starts
    return cls(**kwargs)
