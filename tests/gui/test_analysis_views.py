"""The analysis tabs draw what tuner_app.trial_analysis computes; brushing an axis selects trials."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt

from tests.test_trial_analysis import SPACE, _search


def _widget_point(canvas, axis: int, y: float) -> QPoint:
    x_px, y_px = canvas.ax.transData.transform((axis, y))
    ratio = canvas._target_size[2]
    return QPoint(round(x_px / ratio), round((canvas.figure.bbox.height - y_px) / ratio))


def test_parallel_brushing_selects_trials(window, qtbot, cli_project: Path) -> None:
    window.open_project(cli_project)
    window.tabs.setCurrentWidget(window.parallel)
    canvas = window.parallel
    canvas.flush()
    assert canvas.data is not None and len(canvas.data.lines) == 2
    assert len(canvas.lines.get_segments()) >= 2
    score_axis = len(canvas.data.axes) - 1
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=_widget_point(canvas, score_axis, 0.9))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=_widget_point(canvas, score_axis, 1.02))
    best = window.snapshot.best(1)[0].trial_id
    assert window._selection == [best]  # the top of the score axis: the best trial
    canvas.flush()
    assert canvas.selected.get_segments()  # drawn bold


def test_importance_view_names_the_method(qtbot) -> None:
    from tuner_app.gui.analysis_plots import ImportanceCanvas

    canvas = ImportanceCanvas()
    qtbot.addWidget(canvas)
    canvas.set_space(SPACE)
    search = _search()
    canvas.render(search, [])
    canvas.wait()
    canvas.flush()
    texts = [t.get_text() for t in canvas.ax.texts]
    assert any("permutation importance of a random forest" in t and "30 completed trials" in t for t in texts)
    assert [label.get_text() for label in canvas.ax.get_yticklabels()][-1] == "lr"  # on top: the largest


def test_importance_too_few_trials_says_so(window, cli_project: Path) -> None:
    window.open_project(cli_project)
    window.tabs.setCurrentWidget(window.importance)
    window.importance.wait()
    window.importance.flush()
    assert "needs 8 completed trials, has 2" in window.importance.note.get_text()


def test_slices_view(window, cli_project: Path) -> None:
    window.open_project(cli_project)
    window.tabs.setCurrentWidget(window.slices)
    window.slices.flush()
    panels = window.slices.panels
    assert panels and all(len(points.get_xdata()) >= 1 for _, points, _ in panels.values())
    logs = [name for name, (ax, _, _) in panels.items() if ax.get_xscale() == "log"]
    assert logs and all("learning_rate" in name for name in logs)
