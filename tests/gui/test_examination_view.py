"""The "Best model" tab: the matrix and the misclassified digits from examination.json, computed on
request when a project lacks it; clicking a digit puts it on the pad."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tuner_app.model_examination import EXAMINATION_FILE, save_examination, summarise


@pytest.fixture
def examined_project(cli_project: Path, project_copy, mnist) -> Path:
    """A copy of a real project with an examination of made-up answers on the real test labels."""
    project = project_copy(cli_project)
    labels = mnist.y_test[:500].astype(np.int64)
    predicted = labels.copy()
    predicted[[3, 17, 40]] = (labels[[3, 17, 40]] + 1) % 10  # three mistakes
    probabilities = np.full((500, 10), 0.01)
    probabilities[np.arange(500), predicted] = 0.91
    save_examination({**summarise(labels, probabilities), "trial_id": "1"}, project)
    return project


def test_matrix_and_gallery(window, qtbot, examined_project: Path, mnist) -> None:
    window.open_project(examined_project)
    window.tabs.setCurrentWidget(window.examination)
    view = window.examination
    qtbot.waitUntil(lambda: view.gallery.count() == 3, timeout=30_000)
    view.canvas.flush()
    assert "3 of 500 test digits misclassified" in view.status.text()
    assert "trial 1" in view.canvas.ax.get_title() and "99.40 %" in view.canvas.ax.get_title()
    first = view.gallery.item(0)
    assert first.text().startswith(f"{mnist.y_test[3]}→")
    assert window.pad_panel.pad.is_empty()
    view.gallery.itemClicked.emit(first)
    assert not window.pad_panel.pad.is_empty() and window.side.currentIndex() == 1
    seen = window.pad_panel.model_input  # what the model is asked about: that digit, re-centred
    assert seen is not None and np.corrcoef(seen.ravel(), mnist.x_test[3].ravel() / 255)[0, 1] > 0.8


def test_a_damaged_file_is_a_message_not_a_crash(window, examined_project: Path, dialogs) -> None:
    (examined_project / EXAMINATION_FILE).write_text("{not json")
    window.open_project(examined_project)
    assert "cannot be read" in window.examination.status.text() and dialogs == []


@pytest.mark.slow
def test_examine_on_request(window, qtbot, cli_project: Path, project_copy) -> None:
    project = project_copy(cli_project)
    (project / EXAMINATION_FILE).unlink()  # the engine writes it; a project from before did not
    window.open_project(project)
    view = window.examination
    assert view.examine_button.isEnabled() and "No examination recorded" in view.status.text()
    view.examine_button.click()
    qtbot.waitUntil(lambda: not view.busy() and view.gallery.count() > 0, timeout=120_000)
    assert (project / EXAMINATION_FILE).is_file()
    assert view.examination["test_size"] == 10_000
