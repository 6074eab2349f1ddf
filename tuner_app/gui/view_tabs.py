"""The window's plot tabs: curves, best so far, parallel coordinates, importance, slices, weight decay
and the best model's examination; which of them redraws, and when.

Only the visible canvas redraws, only when what it shows changed, and at most once per
PLOT_INTERVAL_S while data streams in (a redraw costs ~0.1 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QTabWidget, QWidget

from tuner_app.gui.analysis_plots import AnalysisCanvas, ImportanceCanvas, ParallelCanvas, SliceCanvas
from tuner_app.gui.examination_view import ExaminationView
from tuner_app.gui.plots import CurvesCanvas, CurvesView, PlotCanvas, ProgressCanvas, WeightDecayCanvas
from tuner_app.plot_data import best_so_far, trial_scores, weight_decay_points
from tuner_app.results import SearchSnapshot
from tuner_app.trial_analysis import read_space

PLOT_INTERVAL_S = 2.0

#: What the plots show, asked for at each redraw: the snapshot, the selected trial ids and the
#: follower's version (it moves each time the follower emits a new snapshot).
ShownData = tuple[SearchSnapshot | None, list[str], int]


class ViewTabs(QTabWidget):
    """The plot tabs. They hold no data: `shown` says what to draw when a redraw is due."""

    def __init__(self, shown: Callable[[], ShownData], parent: QWidget | None = None):
        super().__init__(parent)
        self._shown = shown
        self._plot_keys: dict[PlotCanvas, Any] = {}
        self.curves = CurvesCanvas(size=(8, 3.6))
        self.progress = ProgressCanvas(size=(8, 3.6))
        self.weight_decay = WeightDecayCanvas(size=(8, 3.6))
        self.curves_view = CurvesView(self.curves)
        self.curves_view.changed.connect(self.refresh_plots)
        self.addTab(self.curves_view, "Curves")
        self.addTab(self.progress, "Best so far")
        self.parallel = ParallelCanvas()
        self.importance = ImportanceCanvas()
        self.slices = SliceCanvas()
        self.addTab(self.parallel, "Parallel coordinates")
        self.addTab(self.importance, "Importance")
        self.addTab(self.slices, "Slices")
        self.addTab(self.weight_decay, "Weight decay")
        self.examination = ExaminationView()
        self.addTab(self.examination, "Best model")
        self._space: dict = {}
        self._plot_timer = QTimer(self)
        self._plot_timer.setSingleShot(True)
        self._plot_timer.timeout.connect(self.refresh_plots)
        self._last_plot = 0.0
        self.currentChanged.connect(lambda _i: self.refresh_plots())

    def new_project(self) -> None:
        """Another project: every view is drawn afresh, and its search space read again."""
        self._plot_keys.clear()
        self.set_space({})

    def load_space(self, snapshot: SearchSnapshot) -> None:
        """The project's search space, read once it exists."""
        if not self._space and snapshot.trials:
            self.set_space(read_space(snapshot.project_dir))  # KerasTuner writes it with the first trial

    def set_space(self, space: dict) -> None:
        self._space = space
        for canvas in (self.parallel, self.importance, self.slices):
            canvas.set_space(space)
            self._plot_keys.pop(canvas, None)

    def schedule_plots(self) -> None:
        """At most one plot redraw per PLOT_INTERVAL_S while data streams in (a redraw costs ~0.1 s)."""
        if self._plot_timer.isActive():
            return
        wait = PLOT_INTERVAL_S - (time.monotonic() - self._last_plot)
        if wait <= 0 or not self._plot_keys:  # a newly opened project is drawn at once
            self.refresh_plots()
        else:
            self._plot_timer.start(int(wait * 1000))

    def current_canvas(self) -> PlotCanvas:
        widget = self.currentWidget()
        return getattr(widget, "canvas", widget)

    def refresh_plots(self) -> None:
        """Render only the visible canvas, and only when what it shows changed."""
        self._plot_timer.stop()
        canvas = self.current_canvas()
        if not isinstance(canvas, PlotCanvas) or canvas is self.examination.canvas:
            return  # the examination view draws when its record changes
        snapshot, selection, version = self._shown()
        if snapshot is None:
            key: Any = None
        elif canvas is self.curves:
            options = (self.curves.metric_name, self.curves.log_scale)
            key = (version, tuple(selection), options)
        elif canvas is self.progress:
            key = (best_so_far(snapshot), trial_scores(snapshot))
        elif isinstance(canvas, AnalysisCanvas):
            key = (version, tuple(selection), len(self._space))
        else:
            key = tuple(weight_decay_points(snapshot))
        if canvas in self._plot_keys and self._plot_keys[canvas] == key:
            return
        self._plot_keys[canvas] = key
        self._last_plot = time.monotonic()
        canvas.render(snapshot, selection)

    def stop_plot_timer(self) -> None:
        self._plot_timer.stop()

    def shutdown(self) -> None:
        """Wait for the threads the views started (the examination's, the importance forest's)."""
        self.examination.shutdown()
        self.importance.shutdown()
