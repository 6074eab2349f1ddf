"""The best model, examined on the test set: confusion matrix, per-class accuracy, its mistakes.

Why a file in the project (`examination.json`): the engine evaluates the best model on the test set
once, at the end of a search; recording what it got wrong at the same time lets the window show the
matrix and the misclassified digits without loading TensorFlow and 10,000 images again. Projects
from before it (or whose engine did not write it) get it computed on request, by the same function.
Written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from tuner_app.files import unique_suffix

EXAMINATION_FILE = "examination.json"
FORMAT_VERSION = 1
NUM_CLASSES = 10


class ExaminationError(ValueError):
    """The examination file cannot be read; the message names it and why."""


def examine(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int = 1024) -> dict[str, Any]:
    """Classify `x` with `model` and compare with the labels `y`.

    Returns a JSON-ready dict: `test_size`, `accuracy`, `confusion` (10x10 counts, rows = true
    label, columns = prediction), `per_class_accuracy` (10 values, None for a class with no image)
    and `misclassified`: one {"index", "true", "predicted", "probability"} per wrong answer (index
    into the test set, probability the model gave its wrong answer), most confident first.
    """
    labels = np.asarray(y).astype(np.int64).reshape(-1)
    if len(labels) == 0:
        raise ValueError("examine() needs at least one test image")
    probabilities = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)
    probabilities = probabilities.reshape(len(labels), -1)
    if probabilities.min() < 0 or not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        shifted = np.exp(probabilities - probabilities.max(axis=1, keepdims=True))  # logits
        probabilities = shifted / shifted.sum(axis=1, keepdims=True)
    return summarise(labels, probabilities)


def summarise(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """The examination from labels and class probabilities (pure: what `examine` records)."""
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    totals = confusion.sum(axis=1)
    per_class = [float(confusion[c, c] / totals[c]) if totals[c] else None for c in range(NUM_CLASSES)]
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")]
    misclassified = [
        {
            "index": int(i),
            "true": int(labels[i]),
            "predicted": int(predicted[i]),
            "probability": round(float(probabilities[i, predicted[i]]), 6),
        }
        for i in order
    ]
    return {
        "version": FORMAT_VERSION,
        "test_size": len(labels),
        "accuracy": float(np.trace(confusion) / len(labels)),
        "confusion": confusion.tolist(),
        "per_class_accuracy": per_class,
        "misclassified": misclassified,
    }


def write_examination(
    model: Any, test_split: Any, project_dir: str | Path, trial_id: str | None = None
) -> Path:
    """Examine `model` on `test_split` (anything with `.x` and `.y`, such as data.Split) and write
    PROJECT/examination.json atomically (temporary name + os.replace); returns its path."""
    result = examine(model, test_split.x, test_split.y)
    result["trial_id"] = trial_id
    result["written_at"] = time.time()
    return save_examination(result, project_dir)


def save_examination(result: dict[str, Any], project_dir: str | Path) -> Path:
    """Write an examination dict to PROJECT/examination.json, atomically."""
    path = Path(project_dir) / EXAMINATION_FILE
    temporary = path.with_name(f".{EXAMINATION_FILE}.{unique_suffix()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def read_examination(project_dir: str | Path) -> dict[str, Any] | None:
    """The project's examination, None if it has none; ExaminationError if the file is unusable."""
    path = Path(project_dir) / EXAMINATION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ExaminationError(f"{path} cannot be read ({exc}); delete it to compute it again.") from None
    problem = _shape_problem(data)
    if problem:
        raise ExaminationError(f"{path} is not an examination ({problem}); delete it to compute it again.")
    return data


def _shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    confusion = data.get("confusion")
    if not (
        isinstance(confusion, list)
        and len(confusion) == NUM_CLASSES
        and all(isinstance(row, list) and len(row) == NUM_CLASSES for row in confusion)
    ):
        return "no 10x10 confusion matrix"
    if not isinstance(data.get("misclassified"), list):
        return "no list of misclassified images"
    for item in data["misclassified"]:
        if not isinstance(item, dict) or not all(
            k in item for k in ("index", "true", "predicted", "probability")
        ):
            return "a misclassified entry without index, true, predicted and probability"
    return None
