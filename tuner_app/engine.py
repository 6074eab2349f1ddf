"""The search engine: SearchConfig -> KerasTuner search -> results store, test evaluation, summary.

`SearchEngine.run` does what every role shares (refusals, data, the project folder and its lock,
the device, the search identity), then one role's part: a standalone search runs its trials here, a
chief serves them to workers (tuner_app.chief_role), a worker runs the chief's
(tuner_app.worker_role). The tuner comes from tuner_app.tuner_factory; the final test from
tuner_app.final_test.

Runs in the calling thread; `cancel()` may be called from any other thread (the window's Stop). The
test images are only read after the search has ended, through `load_test`, so model selection can
never see them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from search_spaces import make_hypermodel
from tuner_app import data as data_module
from tuner_app.budget import Budget
from tuner_app.chief_role import keras_tuner_prints_hidden, serve_workers
from tuner_app.config import ConfigError, SearchConfig
from tuner_app.device import Device, configure_device
from tuner_app.disk import DiskFull, as_disk_full, tolerating_disk_full
from tuner_app.distributed import check_port_free, configure_environment
from tuner_app.events import Event, SearchState
from tuner_app.files import sweep_stale_temporaries
from tuner_app.final_test import BEST_MODEL_FILE, best_trial_id, test_best_model
from tuner_app.identity import differences, search_identity
from tuner_app.input_checks import grid_refusal, make_writable_dir, project_write_failure
from tuner_app.progress import budget_trial_cap, planned_trials, trial_cap
from tuner_app.project_lock import ProjectBusy, ProjectLock
from tuner_app.project_state import folder_problem, request_problem
from tuner_app.report import write_summary
from tuner_app.results import read_results
from tuner_app.results_writer import RESULTS_FILE, LogReplaced, ResultsWriter
from tuner_app.search_errors import ProjectDirError, SearchError
from tuner_app.settings import IDENTITY_FIELDS
from tuner_app.tuner_factory import build_tuner, damaged_json_files
from tuner_app.tuners import BudgetWatch, LogLost, StopSearch, format_exception
from tuner_app.worker_role import run_worker

__all__ = [
    "BEST_MODEL_FILE", "ProjectDirError", "SearchEngine", "SearchError", "SearchOutcome",
    "damaged_json_files",
]  # fmt: skip

Listener = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class SearchOutcome:
    state: SearchState
    reason: str
    project_dir: Path
    best_model_path: Path | None
    test_accuracy: float | None
    test_loss: float | None
    test_error: str | None = None  # the best model's test evaluation failed: exit 1, trials kept


class SearchEngine:
    def __init__(
        self,
        config: SearchConfig,
        listener: Listener | None = None,
        load_test: Callable[[], data_module.Split] | None = None,
        worker: str | None = None,
        hypermodel: kt.HyperModel | None = None,
    ):
        """`hypermodel` replaces the family's own (bring your own search space);
        `load_test` replaces the held-out MNIST test images for the final evaluation."""
        self.config = config.validated()
        self.listener = listener
        self.budget = Budget(
            # In distributed mode the chief's oracle alone counts trials (budget_trial_cap), and the
            # chief alone keeps the time limit: a worker stopping mid-trial on its own clock would look
            # lost to the chief. The chief hands out no trial after the limit; running ones finish.
            max_trials=budget_trial_cap(self.config.role, self.config.max_trials),
            time_limit_s=self.config.time_limit_s if self.config.role != "worker" else None,
            target=self.config.target,
        )
        self.project_dir = Path(self.config.project_dir)
        default_worker = {"chief": "chief", "worker": self.config.worker_id}.get(self.config.role)
        self.worker = worker or default_worker or os.environ.get("KERASTUNER_TUNER_ID", "main")
        self.writer = ResultsWriter(self.project_dir, worker=self.worker)
        self._lock: ProjectLock | None = None
        self._log_lost: str | None = None  # why the results log can no longer be written
        self.identity: dict[str, Any] = {}
        self._data: data_module.Mnist | None = None
        self._load_test = load_test
        self._hypermodel = hypermodel
        self._disk_full: DiskFull | None = None  # the first write that failed on a full disk

    def cancel(self) -> None:
        """Ask the search to stop after the current epoch; finished trials are kept."""
        self.budget.cancelled.set()

    def emit(self, event: str, **fields: Any) -> None:
        """Append an event to the results log and pass it to the listener."""
        record = self.writer.append(event, **fields)
        if self.listener is not None:
            self.listener(record)

    def check_project_dir(self) -> None:
        """Refuse to overwrite an earlier search unless asked to resume it, and refuse to resume
        from half a project (the rule is `tuner_app.project_state.folder_problem`)."""
        if self.config.role == "worker":
            return  # workers join the chief's project folder
        problem = folder_problem(self.project_dir, self.config.resume)
        if problem:
            raise ProjectDirError(problem)
        log = self.project_dir / RESULTS_FILE
        if log.exists():  # resumed: appending must work (an immutable or read-only log, say)
            try:
                os.close(os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC))
            except OSError as exc:
                raise ProjectDirError(
                    f"Cannot resume {self.project_dir}: its results log cannot be written "
                    f"({exc.strerror}); make {log} writable, or start again in another --project-dir."
                ) from None

    def _check_space(self) -> None:
        """KerasTuner's grid over a continuous space walks one corner of it: refuse, before anything
        is written, naming the continuous hyperparameter."""
        if self.config.tuner != "grid":
            return
        described = "this hypermodel's space"
        if self._hypermodel is None:
            described = f"the {self.config.family} family's {self.config.space} space"
        hypermodel = self._hypermodel or make_hypermodel(self.config.family, self.config.space)
        refusal = grid_refusal(hypermodel, described)
        if refusal:
            raise ConfigError(refusal)

    def _create_project_dir(self) -> None:
        """Create the folder and prove it writable: a read-only mount or a folder without write
        permission (seen only now by root or on network file systems) is a usage error, not a crash."""
        try:
            make_writable_dir(self.project_dir)
        except OSError as exc:
            problem = project_write_failure(self.project_dir, exc)
            if problem is None:
                raise
            raise ProjectDirError(problem) from None

    def _check_same_search(self) -> None:
        """A resume must be the same search: refuse naming every difference in its identity."""
        snapshot = read_results(self.project_dir)
        recorded = snapshot.identity
        if recorded is None:  # a log written before identities were recorded: compare its config
            recorded = {k: v for k, v in snapshot.config.items() if k in IDENTITY_FIELDS}
        diffs = differences(recorded, self.identity)
        if diffs:
            raise ProjectDirError(
                f"Cannot resume {self.project_dir}: this is not the same search "
                f"({'; '.join(diffs)}). Drop those flags to resume it as it was recorded, or start "
                "the new search in another --project-dir."
            )

    def run(self) -> SearchOutcome:
        """Run the search; a standalone search or a chief holds the project's lock throughout."""
        try:
            return self._run()
        finally:
            if self._lock is not None:
                self._lock.release()

    def _take_lock(self) -> None:
        if self.config.role == "worker":
            return  # workers join their chief's folder and register with the chief instead
        try:
            self._lock = ProjectLock(self.project_dir, self.config.role).acquire()
        except ProjectBusy as busy:
            raise ProjectDirError(str(busy)) from None
        except OSError as exc:  # a lock file made a folder, an immutable one, a read-only mount
            if (full := as_disk_full(exc)) is not None:
                raise SearchError(full.message(self.project_dir)) from None
            raise ProjectDirError(
                f"Cannot lock the project folder {self.project_dir} ({exc.strerror}: {exc.filename}); "
                "fix that file's permissions or choose another --project-dir."
            ) from None

    def _run(self) -> SearchOutcome:
        config = self.config
        splits, device = self._prepare()
        if config.role == "worker":
            done = run_worker(self, device, splits)
            return SearchOutcome(done.state, done.reason, self.project_dir, None, None, None)
        tuner = self.build_tuner(device)
        if config.role == "standalone":  # a chief's oracle counts trials itself (progress.trial_cap)
            ended = [t for t in tuner.oracle.trials.values() if t.status in ("COMPLETED", "FAILED")]
            self.budget.trials_finished = len(ended)
        self.emit(
            Event.SEARCH_STARTED,
            config=config.to_json(),
            identity=self.identity,
            device=str(device),
            data_source=self._data.source,
            train_size=len(splits.train),
            validation_size=len(splits.validation),
            resumed=config.resume,
            planned_trials=planned_trials(
                config.tuner,
                trial_cap(config.tuner, config.role, config.max_trials),
                tuner.oracle.hyperparameters.space,
                config.epochs,
            ),
        )
        state, reason = SearchState.FINISHED, "search space or trial budget exhausted"
        try:
            if config.role == "chief":
                state, reason = self._serve_workers(tuner)
            else:
                self.run_trials(tuner, splits)
        except StopSearch as stop:  # the user's Stop, or a budget (time, target, trials) spent
            state = SearchState.STOPPED if self.budget.cancelled.is_set() else SearchState.FINISHED
            reason = stop.reason
        except (LogLost, LogReplaced) as exc:
            state, reason = SearchState.FAILED, str(exc)
            self._log_lost = reason
        except Exception as exc:  # KerasTuner raises RuntimeError after too many failures
            state, reason = SearchState.FAILED, format_exception(exc)
            if (full := as_disk_full(exc)) is not None:  # tuner_app.disk: stop at the first one
                self._note_disk_full(full)
                reason = full.reason(self.project_dir)
        if self._log_lost is not None:  # nothing more can go where its events went: no test, no summary
            raise SearchError(
                f"The search stopped: {self._log_lost}. Restore the log and continue with --resume, "
                "or start again in another --project-dir"
            )
        outcome = self._finish(tuner, state, reason)
        if self._disk_full is not None:  # (also when only the closing writes found the disk full)
            raise SearchError(self._disk_full.message(self.project_dir))
        if state is SearchState.FAILED:
            raise SearchError(f"The search failed: {reason}. Finished trials are kept.")
        return outcome

    def _prepare(self) -> tuple[data_module.TrainValidation, Device]:
        """What every role does first: refusals before anything is written, the data, the folder
        and its lock, the device and the search identity."""
        config = self.config
        self._check_space()
        if config.role != "standalone":
            if config.role == "chief":  # resumed too: before the project is touched
                check_port_free(config.oracle)
            configure_environment(config.oracle, self.worker)
        # Refusals first, before the folder is created or locked: the folder as it is now (checked
        # again under the lock), then the data.
        if self.project_dir.is_dir() and config.role != "worker":
            problem = request_problem(self.project_dir, config.resume)
            if problem:
                raise ProjectDirError(problem)
        self._data = data_module.load_mnist(config.data_path)
        splits = data_module.split_train_validation(
            self._data, config.validation_size, config.subset, config.seed
        )
        self._create_project_dir()
        self._take_lock()
        if config.role != "worker":  # under the lock: what killed writers left (models of tens of MB)
            sweep_stale_temporaries(self.project_dir)
        self.check_project_dir()
        device = configure_device(config.mixed_precision)
        hypermodel_name = type(self._hypermodel).__qualname__ if self._hypermodel is not None else None
        self.identity = search_identity(config, self._data, splits, hypermodel_name)
        if config.resume and config.role != "worker":
            self._check_same_search()
        keras.utils.set_random_seed(config.seed)
        return splits, device

    def build_tuner(self, device: Device) -> kt.Tuner:
        return build_tuner(
            self.config,
            device,
            writer=self.writer,
            budget=self.budget,
            listener=self.listener,
            hypermodel=self._hypermodel,
        )

    def run_trials(self, tuner: kt.Tuner, splits: data_module.TrainValidation) -> None:
        """KerasTuner's search loop, in this process (a standalone search or a worker)."""
        with keras_tuner_prints_hidden(self.config.role != "standalone"):
            tuner.search(
                splits.train.x,
                splits.train.y,
                validation_data=(splits.validation.x, splits.validation.y),
                epochs=self.config.epochs,
                callbacks=self._callbacks(),
                verbose=0,
            )

    def _serve_workers(self, tuner: kt.Tuner) -> tuple[SearchState, str]:
        return serve_workers(
            tuner,
            address=self.config.oracle,
            project_dir=self.project_dir,
            worker_timeout_s=self.config.worker_timeout_s,
            budget=self.budget,
            identity=self.identity,
            project_token=self._lock.token if self._lock is not None else None,
            emit=self.emit,
        )

    def _callbacks(self) -> list[keras.callbacks.Callback]:
        callbacks: list[keras.callbacks.Callback] = [
            keras.callbacks.TerminateOnNaN(),
            BudgetWatch(self.budget),  # stops within a few batches, not at the epoch's end
        ]
        if self.config.tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(str(self.project_dir / "tensorboard")))
        return callbacks

    def _finish(self, tuner: kt.Tuner, state: SearchState, reason: str) -> SearchOutcome:
        """Evaluate the best model once on the test set, save it, write the summary."""
        best_path, test_acc, test_loss, test_error = None, None, None, None
        best = best_trial_id(self.project_dir)  # the trial the log ranks first (final_test says why)
        if best is not None and self._disk_full is None:  # a full disk: tested on --resume instead
            try:
                test = self._load_test() if self._load_test else data_module.held_out_test(self._data)
                tested = test_best_model(tuner, best, test, self.project_dir, self.emit)
                best_path, test_acc, test_loss = tested.path, tested.accuracy, tested.loss
            except Exception as exc:  # a broken checkpoint must not lose the search's records
                if (full := as_disk_full(exc)) is not None:
                    self._note_disk_full(full)
                    state, reason = SearchState.FAILED, full.reason(self.project_dir)
                else:
                    test_error = f"trial {best}: {format_exception(exc)}"
                    self.emit(Event.TEST_FAILED, trial_id=best, error=test_error)
        # On a full disk these closing writes are best effort: the search still ends with its message.
        with tolerating_disk_full(self._note_disk_full):
            self.emit(Event.SEARCH_FINISHED, state=state, reason=reason, elapsed=self.budget.elapsed())
        with tolerating_disk_full(self._note_disk_full):
            write_summary(read_results(self.project_dir))
        keras.backend.clear_session()
        return SearchOutcome(state, reason, self.project_dir, best_path, test_acc, test_loss, test_error)

    def _note_disk_full(self, full: DiskFull) -> None:
        if self._disk_full is None:
            self._disk_full = full
