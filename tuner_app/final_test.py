"""The best model, tested once: the trial the results log ranks first, evaluated on the held-out
test images, saved as `best_model.keras`.

One rule for "the best trial": the reader's ranking (tuner_app.results, mean validation accuracy
over executions), the one the table, the console and summary.json show. KerasTuner's own
`oracle.get_best_trials` is not asked, so the model tested is always the one the user sees on top.

A trial with replicates (`--executions N`, N > 1) is ranked by their mean, so its test figure is a
mean too: each replicate's own best epoch (kept by tuner_app.tuners, `execution_checkpoint`) is
evaluated once on the test set, and `test_evaluated` records the N accuracies with their mean and
sample standard deviation beside the single `test_accuracy` of `best_model.keras`. The replicates
together are also one more model: their ensemble (the average of their predicted probabilities),
saved as `ensemble_model.keras` and tested once (`ensemble_test_accuracy`). It is not a selection:
every trial with replicates gets one, and the best trial is still chosen on validation alone. On the
conv family three replicates' ensemble is the way past 99.6 % test on a CPU (README, results table).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt
import numpy as np

from tuner_app.data import Split
from tuner_app.disk import as_disk_full
from tuner_app.events import Event
from tuner_app.files import unique_suffix
from tuner_app.model_examination import write_examination
from tuner_app.results import ReplicateTestScores, TrialRecord, mean_and_std, read_results
from tuner_app.tuners import execution_checkpoint

BEST_MODEL_FILE = "best_model.keras"
ENSEMBLE_MODEL_FILE = "ensemble_model.keras"

Emit = Callable[..., None]


@dataclass(frozen=True)
class TestedModel:
    path: Path
    accuracy: float
    loss: float
    #: Every replicate of the trial tested (None for a trial of one execution, or one whose
    #: replicate checkpoints were not kept: a project searched before they were).
    replicates: ReplicateTestScores | None = None


def best_trial_id(project_dir: Path) -> str | None:
    """The id of the completed trial the results log ranks first, or None before any completed."""
    best = read_results(project_dir).best(1)
    return best[0].trial_id if best else None


def test_best_model(
    tuner: kt.Tuner, trial_id: str, test: Split, project_dir: Path, emit: Emit
) -> TestedModel:
    """Load `trial_id`'s checkpoint, evaluate it once on `test`, save it, log `test_evaluated`, and
    write its examination (tuner_app.model_examination) from the same predictions' test set.

    What `best_model.keras` is (unchanged by replicates): KerasTuner's trial checkpoint, the best
    validation epoch over all the trial's executions, i.e. the best epoch of the replicate with the
    highest best validation accuracy (the earliest such replicate on a tie; KerasTuner's one
    `SaveBestEpoch` for all executions saves only on a strict improvement). With replicates, that
    replicate is `best_model_execution` (0-based) in the event, its accuracy `test_accuracy`; each
    replicate's checkpoint, that one included, is evaluated once more for `test_accuracies`.
    """
    trial = tuner.oracle.get_trial(trial_id)
    with warnings.catch_warnings():  # the checkpoint's optimizer state is not needed
        warnings.simplefilter("ignore", UserWarning)
        model = tuner.load_model(trial)
    test_loss, test_acc = (float(v) for v in model.evaluate(test.x, test.y, verbose=0))
    path = project_dir / BEST_MODEL_FILE
    _save_atomically(model, path)
    fields: dict[str, Any] = dict(
        trial_id=trial_id,
        test_accuracy=test_acc,
        test_loss=test_loss,
        test_size=len(test),
        model_path=BEST_MODEL_FILE,  # relative to the project: a moved copy loads its own
        parameters=int(model.count_params()),
    )
    fields.update(_test_replicates(tuner, trial, test, project_dir))
    emit(Event.TEST_EVALUATED, **fields)
    try:  # the confusion matrix and the misclassified digits, for the window's "Best model" view
        write_examination(model, test, project_dir, trial_id=trial_id)
    except Exception as exc:  # the window computes it on request; a full disk still ends the search
        if as_disk_full(exc) is not None:
            raise
    return TestedModel(path, test_acc, test_loss, ReplicateTestScores.from_test(fields))


def replicate_checkpoints(tuner: kt.Tuner, trial_id: str) -> list[Path] | None:
    """Each execution's own checkpoint of `trial_id`, in execution order, when the tuner runs more
    than one execution per trial and every one is on disk; None otherwise (then only
    `best_model.keras` is tested, as before replicates were kept)."""
    executions = int(getattr(tuner, "executions_per_trial", 1) or 1)
    if executions < 2:
        return None
    trial_dir = tuner.get_trial_dir(trial_id)
    paths = [execution_checkpoint(trial_dir, k) for k in range(executions)]
    return paths if all(p.is_file() for p in paths) else None


def _test_replicates(tuner: kt.Tuner, trial: Any, test: Split, project_dir: Path) -> dict[str, Any]:
    """The `test_evaluated` fields of the trial's replicates, each evaluated once, and of their
    ensemble, saved beside the best model (empty if the trial has no replicates)."""
    paths = replicate_checkpoints(tuner, trial.trial_id)
    if paths is None:
        return {}
    members = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for checkpoint in paths:
            model = tuner.load_model(trial)  # the trial's model, built, with this replicate's weights
            model.load_weights(checkpoint)
            members.append(model)
    losses, accuracies, probabilities = [], [], []
    for model in members:  # evaluate, as for best_model.keras: its loss includes any weight penalty
        loss, accuracy = (float(v) for v in model.evaluate(test.x, test.y, verbose=0))
        losses.append(loss)
        accuracies.append(accuracy)
        probabilities.append(model.predict(test.x, batch_size=1024, verbose=0).astype(np.float64))
    ensemble_loss, ensemble_accuracy = _cross_entropy_and_accuracy(np.mean(probabilities, axis=0), test.y)
    _save_atomically(ensemble_of(members), project_dir / ENSEMBLE_MODEL_FILE)
    mean, std = mean_and_std(accuracies) or (None, None)
    record = _trial_record(project_dir, trial.trial_id)
    return dict(
        test_accuracies=accuracies,
        test_losses=losses,
        test_accuracy_mean=mean,
        test_accuracy_std=std,
        best_model_execution=record.best_execution if record is not None else None,
        replicate_checkpoints=[_relative(p, project_dir) for p in paths],
        ensemble_test_accuracy=ensemble_accuracy,
        ensemble_test_loss=ensemble_loss,
        ensemble_model_path=ENSEMBLE_MODEL_FILE,
    )


def _cross_entropy_and_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Cross-entropy and accuracy of predicted class probabilities, as Keras's sparse categorical
    loss (clipped at Keras's epsilon; no weight penalty: an ensemble has no one set of weights)
    and accuracy compute them."""
    labels = np.asarray(labels, dtype=np.int64)
    chosen = probabilities[np.arange(len(labels)), labels]
    loss = float(-np.mean(np.log(np.clip(chosen, keras.config.epsilon(), 1.0))))
    accuracy = float(np.mean(np.argmax(probabilities, axis=1) == labels))
    return loss, accuracy


def ensemble_of(members: list[Any]) -> keras.Model:
    """One model whose output is the average of `members`' outputs (same input, same classes):
    what the pad and any Keras user load like a single model."""
    inputs = keras.Input(shape=tuple(members[0].inputs[0].shape[1:]), name="image")
    outputs = [
        keras.Model(member.inputs[0], member.outputs[0], name=f"replicate_{k + 1}")(inputs)
        for k, member in enumerate(members)
    ]
    return keras.Model(inputs, keras.layers.Average(name="digit")(outputs), name="ensemble")


def _trial_record(project_dir: Path, trial_id: str) -> TrialRecord | None:
    return next((t for t in read_results(project_dir).trials if t.trial_id == trial_id), None)


def _relative(path: Path, project_dir: Path) -> str:
    try:
        return Path(os.path.relpath(path, project_dir)).as_posix()
    except ValueError:  # another drive (Windows): keep it whole
        return str(path)


def _save_atomically(model: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{unique_suffix()}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
