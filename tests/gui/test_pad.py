"""Strokes drawn with mouse events become an MNIST-style 28x28 input and a real model's prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from scipy import ndimage

from tuner_app.predict import load_model, predict_probabilities
from tuner_app.preprocess import ink_box


def drag(qtbot, widget, points: list[tuple[int, int]]) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
    for x, y in points[1:]:
        qtbot.mouseMove(widget, QPoint(x, y))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))


def vertical_one(x: int = 90) -> list[tuple[int, int]]:
    return [(x, y) for y in range(40, 241, 10)]


def test_strokes_become_a_centred_28x28_input(window, qtbot) -> None:
    panel = window.pad_panel
    drag(qtbot, panel.pad, vertical_one())  # drawn left of centre on purpose
    assert not panel.pad.is_empty()
    image = panel.model_input
    assert image is not None and image.shape == (28, 28)
    assert max(ink_box(image)) == 20
    cy, cx = ndimage.center_of_mass(image)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5
    assert panel.probabilities is None and "No model" in panel.answer.text()


def test_empty_canvas_shows_a_hint(window, qtbot) -> None:
    panel = window.pad_panel
    drag(qtbot, panel.pad, vertical_one())
    panel.pad.clear()
    panel.update_prediction()
    assert panel.model_input is None and panel.probabilities is None
    assert panel.answer.text().startswith("Draw a digit")


def test_stroke_width_changes_the_ink(window, qtbot) -> None:
    panel = window.pad_panel
    panel.stroke.setValue(6)
    drag(qtbot, panel.pad, vertical_one())
    thin = (panel.pad.to_array() < 128).sum()
    panel.pad.clear()
    panel.stroke.setValue(30)
    drag(qtbot, panel.pad, vertical_one())
    assert (panel.pad.to_array() < 128).sum() > 3 * thin


def test_prediction_from_the_cli_projects_trained_model(window, qtbot, cli_project: Path) -> None:
    model_path = cli_project / "best_model.keras"
    window.open_model(model_path)
    panel = window.pad_panel
    qtbot.waitUntil(lambda: panel.model is not None, timeout=60_000)  # loaded in a ModelLoader thread
    drag(qtbot, panel.pad, vertical_one(140))
    assert panel.probabilities is not None
    assert panel.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    expected = predict_probabilities(load_model(model_path), panel.model_input)
    np.testing.assert_allclose(panel.probabilities, expected, rtol=1e-4, atol=1e-6)
    assert int(np.argmax(panel.probabilities)) == 1  # a real model trained on MNIST reads a stroke as 1
    assert "<b>1</b>" in panel.answer.text()
    assert panel.last_latency_ms is not None and panel.last_latency_ms < 500
