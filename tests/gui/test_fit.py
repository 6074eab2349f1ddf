"""The window fits a 1280x720 screen: splitters and scroll areas, no overlap at the minimum size."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import QWidget

from tuner_app.gui.main_window import initial_size

DECORATIONS = QSize(20, 60)  # title bar, frame and a panel on a 1280x720 laptop screen


def _global_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size())


def test_minimum_size_fits_1280x720(window) -> None:
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 - DECORATIONS.width(), hint
    assert hint.height() <= 720 - DECORATIONS.height(), hint


def test_initial_size_never_exceeds_the_screen() -> None:
    assert initial_size(QSize(1366, 740)) == (1366, 740)
    assert initial_size(QSize(2560, 1400)) == (1560, 960)


def test_nothing_overlaps_at_1280x660(window, qtbot, cli_project: Path) -> None:
    window.open_project(cli_project)
    window.resize(1280 - DECORATIONS.width(), 720 - DECORATIONS.height())
    qtbot.wait(50)
    assert window.width() <= 1280 and window.height() <= 720
    panel = window.pad_panel
    window.side.setCurrentIndex(1)  # the pad's tab
    qtbot.wait(50)
    parts = [panel.pad, panel.preview, panel.bars, panel.model_label, panel.stroke]
    rects = [_global_rect(w) for w in parts]
    for i, first in enumerate(rects):
        for second in rects[i + 1 :]:
            assert not first.intersects(second), (first, second)
    for widget in (window.table, window.tabs, window.side):  # each keeps a usable size
        assert widget.width() >= 280 and widget.height() >= 200, (widget, widget.size())
    for canvas in (window.curves, window.progress):
        assert canvas.minimumSize().width() <= canvas.width() or not canvas.isVisible()
    table, plots = _global_rect(window.table), _global_rect(window.tabs)
    assert not table.intersects(plots)
