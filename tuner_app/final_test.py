"""The best model, tested once: the trial the results log ranks first, evaluated on the held-out
test images, saved as `best_model.keras`.

One rule for "the best trial": the reader's ranking (tuner_app.results, mean validation accuracy
over executions), the one the table, the console and summary.json show. KerasTuner's own
`oracle.get_best_trials` is not asked, so the model tested is always the one the user sees on top.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras_tuner as kt

from tuner_app.data import Split
from tuner_app.disk import as_disk_full
from tuner_app.events import Event
from tuner_app.files import unique_suffix
from tuner_app.model_examination import write_examination
from tuner_app.results import read_results

BEST_MODEL_FILE = "best_model.keras"

Emit = Callable[..., None]


@dataclass(frozen=True)
class TestedModel:
    path: Path
    accuracy: float
    loss: float


def best_trial_id(project_dir: Path) -> str | None:
    """The id of the completed trial the results log ranks first, or None before any completed."""
    best = read_results(project_dir).best(1)
    return best[0].trial_id if best else None


def test_best_model(
    tuner: kt.Tuner, trial_id: str, test: Split, project_dir: Path, emit: Emit
) -> TestedModel:
    """Load `trial_id`'s checkpoint, evaluate it once on `test`, save it, log `test_evaluated`, and
    write its examination (tuner_app.model_examination) from the same predictions' test set."""
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
    emit(Event.TEST_EVALUATED, **fields)
    try:  # the confusion matrix and the misclassified digits, for the window's "Best model" view
        write_examination(model, test, project_dir, trial_id=trial_id)
    except Exception as exc:  # the window computes it on request; a full disk still ends the search
        if as_disk_full(exc) is not None:
            raise
    return TestedModel(path, test_acc, test_loss)


def _save_atomically(model: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{unique_suffix()}.tmp.keras")
    try:
        model.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
