"""KerasTuner tuners that record every epoch of every execution and obey our budget.

KerasTuner deep-copies callbacks passed to `search()` and keeps no per-epoch history, so recording
happens in the tuner's own hooks (`on_trial_begin`, `on_epoch_end`, `on_trial_end`,
`pre_create_trial`), which run in whichever process trains the trial (the chief's workers too).

A full disk ends the search at the first failed write (`tuner_app.disk.DiskFull`, a FatalError)
instead of failing every following trial: see `tuner_app.disk`.

Replicates (`--executions N`, N > 1) each keep their own best epoch's weights beside KerasTuner's
checkpoint (`execution_checkpoint`), so the final test can evaluate every replicate, not only one:
KerasTuner 1.4.8 gives all executions of a trial one shared `SaveBestEpoch` callback (its
`Tuner.run_trial`), which writes `trial_ID/checkpoint.weights.h5` only when an epoch beats the best
of *all* the trial's executions so far. That file ends as the best epoch of the replicate with the
highest best validation accuracy (the earliest on a tie); after a given execution it need not hold
that execution's weights at all, so copying it per execution would not give the replicates.
Once a trial ends, the replicate files of every ended trial but the best are deleted
(`_drop_unneeded_replicate_checkpoints`): only the best trial's are ever tested.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
from keras_tuner.errors import FailedTrialError, FatalError

from tuner_app.budget import Budget
from tuner_app.disk import (
    DiskFull,
    as_disk_full,
    disk_full_text,
    install_atomic_keras_tuner_json,
    raise_if_disk_full,
    save_checkpoints_safely,
)
from tuner_app.events import Event, TrialStatus
from tuner_app.graph_memory import TrialGraphs
from tuner_app.pruning import MedianStopping
from tuner_app.results import OBJECTIVE, ResultsError, read_results
from tuner_app.results_writer import LogReplaced, ResultsWriter

EXECUTION_CHECKPOINT_GLOB = "execution_*.weights.h5"


def execution_checkpoint(trial_dir: str | Path, execution: int) -> Path:
    """Where a trial's `execution` (0-based, as the log's "execution" fields count) keeps the weights
    of its own best validation epoch, in KerasTuner's trial folder (`keras_tuner/trial_ID/`), in
    Keras's `.weights.h5` format, written like KerasTuner's checkpoint (`tuner_app.disk`). Written
    only when the trial has more than one execution."""
    return Path(trial_dir) / f"execution_{execution}.weights.h5"


class LogLost(FatalError):
    """The results log was deleted or replaced under the search (ResultsWriter's LogReplaced)."""


class StopSearch(FatalError):
    """Raised from a hook to end `search()` cleanly; KerasTuner re-raises FatalError untouched."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BudgetWatch(keras.callbacks.Callback):
    """Ends the epoch within a few batches once the budget says stop (time limit, Stop, Ctrl+C).

    Why: the budget is otherwise checked at epoch ends, and one epoch of a large augmented conv
    net took over 10 minutes on 2 CPU cores, so a time limit or a Stop could be overshot by that
    much. It raises StopSearch (a KerasTuner FatalError, passed through untouched) from the batch
    hook: setting `stop_training` instead would still run the full validation pass, and the partial
    epoch's metrics would look like an epoch's. The trial is recorded as interrupted (re-run on
    --resume). KerasTuner deep-copies callbacks for each execution:
    this one shares its budget on purpose (`__deepcopy__` returns itself).
    """

    EVERY_BATCHES = 10

    def __init__(self, budget: Budget):
        super().__init__()
        self.budget = budget

    def __deepcopy__(self, memo: dict) -> BudgetWatch:
        return self

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # A batch-begin hook (not batch-end) keeps Keras 3's asynchronous batch dispatch on: it is
        # switched off by any callback overriding a batch-end hook, since those need each batch's logs.
        if batch % self.EVERY_BATCHES == 0:
            reason = self.budget.stop_reason(between_trials=False)
            if reason:
                raise StopSearch(reason)


def short_error(message: str | None) -> str | None:
    """The last line of a traceback: what a person needs to read first."""
    if not message:
        return None
    lines = [line for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1].strip()
    kind, sep, text = last.partition(": ")
    return f"{kind.rsplit('.', 1)[-1]}: {text}" if sep and " " not in kind else last


class RecordingMixin:
    """Mixed into a KerasTuner tuner: writes events, stops on budget, fails diverging trials."""

    def __init__(
        self,
        *args: Any,
        writer: ResultsWriter,
        budget: Budget,
        listener: Callable[[dict[str, Any]], None] | None = None,
        pruner: MedianStopping | None = None,
        **kwargs: Any,
    ) -> None:
        """KerasTuner's own arguments, plus where events go, the budget that stops the search and
        the rule that stops hopeless trials early (`--prune`, tuner_app.pruning)."""
        self._writer = writer
        self._budget = budget
        self._listener = listener
        self._pruner = pruner
        self._pruned_at: int | None = None  # the epoch (1-based) the running trial was stopped at
        self._curve: list[float] = []  # the running execution's validation accuracies
        self._execution = -1
        self._graphs = TrialGraphs()
        super().__init__(*args, **kwargs)

    def _emit(self, event: str, **fields: Any) -> None:
        try:
            record = self._writer.append(event, **fields)
        except OSError as exc:  # inside a trial KerasTuner would record the trial as failed
            raise_if_disk_full(exc)
            raise
        except LogReplaced as exc:  # the same: end the search, do not fail trial after trial
            raise LogLost(str(exc)) from None
        if self._listener is not None:
            self._listener(record)

    def pre_create_trial(self) -> None:
        super().pre_create_trial()
        reason = self._budget.stop_reason(between_trials=True)
        if reason:
            raise StopSearch(reason)

    def on_trial_begin(self, trial: kt.engine.trial.Trial) -> None:
        super().on_trial_begin(trial)
        self._graphs.mark()
        self._execution = -1
        self._pruned_at = None
        if self._pruner is not None:
            self._pruner.refresh()
        self._forget_execution_checkpoints(trial)
        self._emit(
            Event.TRIAL_STARTED,
            trial_id=trial.trial_id,
            hyperparameters=dict(trial.hyperparameters.values),
        )

    def _build_and_fit_model(self, trial: kt.engine.trial.Trial, *args: Any, **kwargs: Any):
        # KerasTuner's documented override point, called once per execution (replicate).
        self._execution += 1
        self._curve = []
        self._emit(Event.EXECUTION_STARTED, trial_id=trial.trial_id, execution=self._execution)
        callbacks = list(kwargs.get("callbacks") or [])
        if self.executions_per_trial > 1:  # this replicate's own best epoch (module docstring: why)
            from tuner_app.keras_tuner_seam import SaveBestEpoch  # as tuner_app.disk: loaded when used

            path = execution_checkpoint(self.get_trial_dir(trial.trial_id), self._execution)
            callbacks.append(SaveBestEpoch(objective=self.oracle.objective, filepath=str(path)))
            kwargs["callbacks"] = callbacks
        save_checkpoints_safely(callbacks)  # KerasTuner's checkpoint and ours: atomic, disk-full aware
        return super()._build_and_fit_model(trial, *args, **kwargs)

    def _forget_execution_checkpoints(self, trial: kt.engine.trial.Trial) -> None:
        """A trial run again (a retry, a trial re-run on --resume, a lost worker's trial re-queued)
        starts without the replicate checkpoints of its earlier attempt, so a completed trial's
        files are all from its last run. (A worker whose trial was taken over writes no checkpoint
        after that: its epoch-end call to the chief is refused first, `on_epoch_end`.)"""
        for stale in self._replicate_files(trial.trial_id):
            try:
                stale.unlink(missing_ok=True)
            except OSError as exc:
                raise_if_disk_full(exc)
                raise

    def _replicate_files(self, trial_id: str) -> list[Path]:
        """The replicate checkpoints (`execution_checkpoint`) on disk for `trial_id`."""
        return sorted(Path(self.get_trial_dir(trial_id)).glob(EXECUTION_CHECKPOINT_GLOB))

    def run_trial(self, trial: kt.engine.trial.Trial, *args: Any, **kwargs: Any):
        try:
            return super().run_trial(trial, *args, **kwargs)
        except Exception as exc:  # a full disk ends the search; KerasTuner would fail the trial
            raise_if_disk_full(exc)
            raise

    def on_epoch_end(self, trial, model, epoch: int, logs: dict[str, Any] | None = None) -> None:
        confirm_running = getattr(self.oracle, "confirm_running", None)  # a worker's ChiefClient
        if confirm_running is not None:  # before this epoch's checkpoint (KerasTuner saves it after)
            confirm_running(trial.trial_id)
        super().on_epoch_end(trial, model, epoch, logs=logs)
        metrics = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
        self._emit(
            Event.EPOCH,
            trial_id=trial.trial_id,
            execution=self._execution,
            epoch=int(epoch),
            metrics=metrics,
        )
        loss = metrics.get("loss")
        if loss is None or not math.isfinite(loss):
            raise FailedTrialError(
                f"training diverged: loss is {loss} at epoch {epoch + 1} (learning rate too high?)"
            )
        reason = self._budget.stop_reason(between_trials=False)
        if reason:
            raise StopSearch(reason)
        self._prune_if_hopeless(model, int(epoch), metrics.get(OBJECTIVE))

    def _prune_if_hopeless(self, model: keras.Model, epoch: int, score: float | None) -> None:
        """Median stopping: end this execution's fit after `epoch` if it is below the median."""
        if self._pruner is None or score is None or not math.isfinite(score):
            return
        self._curve.append(score)
        if self._pruner.should_stop(epoch, self._curve):
            model.stop_training = True  # Keras ends fit() after this epoch; the trial completes
            self._pruned_at = epoch + 1

    def search(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().search(*args, **kwargs)
        finally:  # a StopSearch from inside fit skips on_trial_end, which normally releases
            self._graphs.release()

    def on_trial_end(self, trial: kt.engine.trial.Trial) -> None:
        full = None
        try:
            # A write KerasTuner caught inside the trial (its trial.json, say) failed on a full disk:
            # end the search now, the trial unrecorded (it stays running in KerasTuner's state and
            # is re-run on --resume), instead of failing it and every trial after it.
            text = disk_full_text(trial.message) if trial.status != "COMPLETED" else None
            if text:
                full = DiskFull(text)
            else:  # the oracle scores it, may mark it FAILED, retry it, or end the search
                super().on_trial_end(trial)
        except Exception as exc:
            full = as_disk_full(exc)
            if full is None:
                raise
        finally:
            self._graphs.release()
            if full is None:
                self._record_trial_end(trial)
                self._drop_unneeded_replicate_checkpoints()
        if full is not None:
            raise full

    def _drop_unneeded_replicate_checkpoints(self) -> None:
        """Delete the replicate checkpoints of every ended trial but the best one.

        Why: only the best trial's replicates are tested (tuner_app.final_test), and a trial that
        has ended below the best can never become the best (its score is final, and the best only
        rises), so its files are dead weight: 3 replicates of the dense 3x1024 model are ~105 MB a
        trial, 21 GB over a 200-trial night. KerasTuner's own checkpoint of each trial stays (any
        trial's model can still be put on the pad). Running trials (other workers') are left alone.
        """
        if self.executions_per_trial < 2:
            return
        try:
            snapshot = read_results(self._writer.path.parent)
        except (ResultsError, OSError):  # the log's own trouble is reported where it is written
            return
        best = snapshot.best(1)
        keep = best[0].trial_id if best else None
        for record in snapshot.trials:
            if record.trial_id == keep or record.status is TrialStatus.RUNNING:
                continue
            for path in self._replicate_files(record.trial_id):
                try:
                    path.unlink(missing_ok=True)
                except OSError:  # a read-only or vanished file: disk space, not correctness
                    continue

    def _record_trial_end(self, trial: kt.engine.trial.Trial) -> None:
        ended = self.oracle.get_trial(trial.trial_id)
        status = TrialStatus.parse(ended.status)
        score = ended.score if ended.score is not None and math.isfinite(ended.score) else None
        self._budget.trials_finished += 1
        self._emit(
            Event.TRIAL_FINISHED,
            trial_id=trial.trial_id,
            status=status,
            score=score,
            error=short_error(ended.message),
            hyperparameters=dict(ended.hyperparameters.values),
            **({"pruned_at_epoch": self._pruned_at} if self._pruned_at is not None else {}),
        )
        target = self._budget.target
        if status is TrialStatus.COMPLETED and target is not None and score is not None and score >= target:
            self._budget.target_reached = score


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


class RecordingTuner(RecordingMixin, kt.Tuner):
    """KerasTuner's Tuner around the given oracle (random, Bayesian or grid), recorded. KerasTuner's
    RandomSearch, BayesianOptimization and GridSearch classes differ from Tuner only in the oracle
    their `__init__` builds; ours comes from tuner_app.oracles."""


class HyperbandAround(kt.Hyperband):
    """KerasTuner's Hyperband tuner (its per-bracket epochs, its warm-started models) around the given
    oracle: `kt.Hyperband.__init__` only builds a HyperbandOracle from its arguments (checked in
    tuner_app.keras_tuner_seam.layout_problems), which this one is given instead."""

    def __init__(self, oracle: kt.Oracle, hypermodel: kt.HyperModel | None = None, **kwargs: Any) -> None:
        kt.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)


class RecordingHyperband(RecordingMixin, HyperbandAround):
    """KerasTuner's Hyperband, recorded."""


def make_tuner(
    kind: str,
    *,
    oracle: kt.Oracle,
    writer: ResultsWriter,
    budget: Budget,
    listener: Callable[[dict[str, Any]], None] | None = None,
    **kwargs: Any,
) -> kt.Tuner:
    """The recording tuner for `oracle` (an oracle of `kind`, tuner_app.oracles.make_oracle), with
    KerasTuner's tuner arguments in `kwargs`, writing to `writer`."""
    install_atomic_keras_tuner_json()
    cls = RecordingHyperband if kind == "hyperband" else RecordingTuner
    return cls(oracle=oracle, writer=writer, budget=budget, listener=listener, **kwargs)


def format_exception(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()
