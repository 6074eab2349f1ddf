"""The best model examined: values from known predictions, a real model on real MNIST, the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tuner_app.model_examination import (
    EXAMINATION_FILE,
    ExaminationError,
    examine,
    read_examination,
    save_examination,
    summarise,
    write_examination,
)


class FixedModel:
    """Answers with the probabilities it was given (predict's signature)."""

    def __init__(self, probabilities: np.ndarray):
        self.probabilities = probabilities

    def predict(self, x, batch_size=None, verbose=0):
        return self.probabilities[: len(x)]


def _one_hot(classes: list[int], confidence: list[float]) -> np.ndarray:
    out = np.full((len(classes), 10), 0.0)
    for row, (c, p) in enumerate(zip(classes, confidence, strict=True)):
        out[row] = (1 - p) / 9
        out[row, c] = p
    return out


def test_summary_values() -> None:
    labels = np.array([0, 1, 1, 7, 7, 7])
    probabilities = _one_hot([0, 1, 7, 7, 1, 7], [0.9, 0.8, 0.6, 0.99, 0.95, 0.7])
    result = summarise(labels, probabilities)
    assert result["test_size"] == 6 and result["accuracy"] == pytest.approx(4 / 6)
    assert (
        result["confusion"][1][7] == 1 and result["confusion"][7][1] == 1 and result["confusion"][7][7] == 2
    )
    assert result["per_class_accuracy"][1] == 0.5 and result["per_class_accuracy"][7] == pytest.approx(2 / 3)
    assert result["per_class_accuracy"][3] is None  # no image of a 3
    assert [m["index"] for m in result["misclassified"]] == [4, 2]  # most confident mistake first
    assert result["misclassified"][0] == {"index": 4, "true": 7, "predicted": 1, "probability": 0.95}


def test_logits_become_probabilities() -> None:
    logits = np.array([[5.0, -1.0] + [0.0] * 8, [0.0, 3.0] + [0.0] * 8])
    result = examine(FixedModel(logits), np.zeros((2, 28, 28)), np.array([1, 1]))
    assert result["misclassified"][0]["predicted"] == 0 and 0 < result["misclassified"][0]["probability"] < 1


def test_write_and_read_atomically(tmp_path: Path) -> None:
    class Split:
        x = np.zeros((3, 28, 28))
        y = np.array([2, 2, 5])

    path = write_examination(FixedModel(_one_hot([2, 5, 5], [0.9] * 3)), Split(), tmp_path, trial_id="04")
    assert path == tmp_path / EXAMINATION_FILE
    assert [p.name for p in tmp_path.iterdir()] == [EXAMINATION_FILE]  # no temporary file left
    read = read_examination(tmp_path)
    assert read["trial_id"] == "04" and read["misclassified"][0]["index"] == 1


def test_missing_and_damaged_files(tmp_path: Path) -> None:
    assert read_examination(tmp_path) is None
    (tmp_path / EXAMINATION_FILE).write_text('{"confusion": [[1, 2]]')
    with pytest.raises(ExaminationError, match="cannot be read"):
        read_examination(tmp_path)
    save_examination({"confusion": [[0] * 10] * 9, "misclassified": []}, tmp_path)
    with pytest.raises(ExaminationError, match="10x10"):
        read_examination(tmp_path)


@pytest.mark.slow
def test_a_real_model_on_real_test_images(finished_project: Path, mnist) -> None:
    from tuner_app.data import held_out_test
    from tuner_app.predict import load_model

    model = load_model(finished_project / "best_model.keras")
    test = held_out_test(mnist)
    result = examine(model, test.x[:2000], test.y[:2000])
    assert sum(map(sum, result["confusion"])) == 2000
    assert len(result["misclassified"]) == 2000 - sum(result["confusion"][c][c] for c in range(10))
    assert result["accuracy"] > 0.3  # a 1-epoch model on 1,000 images: far from chance (0.1)
