"""Matplotlib canvases embedded in the window: the second stage (rendering) of tuner_app.plot_data.

Why the figures are rasterised on a render thread: a full Agg draw of the curves costs 45-50 ms on
an idle 2-core machine and 100-170 ms while a search trains beside it (measured; two thirds of it is
text: tick labels, titles, legends), which stalled the event loop past 100 ms. The GUI thread only
updates the artists (set_data, relim: a few ms) and asks the render thread for a picture; the render
thread draws the figure with Agg under the canvas's lock and hands back a QImage, which the widget
paints. Python switches threads every 5 ms, so the event loop keeps running during a draw.
If a draw holds the lock when new data arrives, the update is deferred until that draw ends
(coalesced: only the latest data is applied), so the GUI thread never waits for a draw.

Why the artists are kept and updated in place: rebuilding a figure (new Axes, lines, legend) costs
~25 ms more. Each canvas builds its Axes and lines once (the curves canvas again only when the set of
series changes: another selection, a new replicate) and then only calls set_data + relim +
autoscale_view. Titles and axis labels sit at fixed positions (no tight or constrained layout, which
measures every tick label on each draw).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from tuner_app import plot_data
from tuner_app.formatting import trial_label
from tuner_app.gui.render_thread import picture_bridge, renderer
from tuner_app.results import SearchSnapshot

log = logging.getLogger(__name__)

BASE_DPI = 100


def _fixed_text_positions(ax, title: str, xlabel: str, ylabel: str | None = None) -> None:
    """Title and axis labels at fixed places: no per-draw measuring of tick labels to place them."""
    ax.set_title(title, y=1.0, pad=6)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_label_coords(0.5, -0.13)
    ax.set_ylabel(ylabel or "")
    ax.yaxis.set_label_coords(-0.075, 0.5)


def _empty_note(ax, text: str):
    return ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def _autoscale(ax, x_max: float | None) -> None:
    """y from the data, x as whole epochs/trials from 0.5 to x_max + 0.5."""
    ax.relim()
    ax.autoscale_view(scalex=False)
    if x_max is not None:
        ax.set_xlim(0.5, x_max + 0.5)


class PlotCanvas(QWidget):
    """A figure shown as a picture; subclasses build their artists once and update them in `update_data`."""

    def __init__(self, parent=None, size: tuple[float, float] = (6.0, 4.0)):
        super().__init__(parent)
        # Fixed margins, not constrained layout: layout solving measured ~70 ms of each redraw here.
        self.figure = Figure(figsize=size, dpi=BASE_DPI)
        self.figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.15, wspace=0.22)
        self._agg = FigureCanvasAgg(self.figure)
        self.lock = threading.Lock()  # held by the render thread while it draws this figure
        self._image = QImage()
        self._requested = 0  # pictures asked for (counted by the render thread's request())
        self._shown = 0  # the last request answered by the picture on screen
        self._deferred: tuple[SearchSnapshot | None, list[str]] | None = None
        self._size_hint = QSize(int(size[0] * BASE_DPI), int(size[1] * BASE_DPI))
        self.renders = 0  # how many times data was applied: lets tests and the benchmark check for storms
        self.rebuilds = 0  # how many times artists were created, not just given new data
        self.draws = 0  # how many pictures the render thread made
        self._structure: Any = object()  # what the current artists were built for
        self._target_size = (self._size_hint.width(), self._size_hint.height(), 1.0)  # set on resize
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 160)
        self._bridge = picture_bridge()  # made here, on the GUI thread (see render_thread.PictureBridge)

    # -- data (GUI thread) --------------------------------------------------------------------
    def render(self, snapshot: SearchSnapshot | None, selection: list[str] | None = None) -> None:
        """Apply new data and ask for a picture; deferred (coalesced) while a draw holds the figure."""
        selection = list(selection or [])
        if not self.lock.acquire(blocking=False):
            self._deferred = (snapshot, selection)  # applied when the running draw ends
            return
        try:
            self._deferred = None
            structure = self.structure(snapshot, selection)
            if structure != self._structure:
                self.build(structure)
                self._structure = structure
                self.rebuilds += 1
            self.update_data(snapshot, selection)
            self.renders += 1
        finally:
            self.lock.release()
        renderer().request(self)

    def structure(self, snapshot: SearchSnapshot | None, selection: list[str]) -> Any:
        """What the artists depend on; a change rebuilds them. Constant by default."""
        return None

    def build(self, structure: Any) -> None:
        """Create the artists (first render), or replace those that depend on `structure`."""
        raise NotImplementedError

    def update_data(self, snapshot: SearchSnapshot | None, selection: list[str]) -> None:
        raise NotImplementedError

    def save_png(self, path: str | Path) -> None:
        with self.lock:
            self.figure.savefig(path, dpi=150)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until every requested picture is drawn and deferred data applied (tests, export)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            QCoreApplication.processEvents()
            if self._deferred is not None and not self.lock.locked():
                self.render(*self._deferred)
            if self._shown >= self._requested and self._deferred is None:
                return
            time.sleep(0.002)
        raise TimeoutError(f"{type(self).__name__} did not finish drawing in {timeout_s} s")

    # -- picture (render thread, then GUI thread) ---------------------------------------------
    def _rasterise(self, request: int) -> None:
        with self.lock:
            width, height, ratio = self._target_size  # read once: the GUI thread may replace it
            self.figure.set_dpi(BASE_DPI * ratio)
            self.figure.set_size_inches(width / BASE_DPI, height / BASE_DPI, forward=False)
            self._agg.draw()
            buffer = self._agg.buffer_rgba()
            image = QImage(bytes(buffer), buffer.shape[1], buffer.shape[0], QImage.Format.Format_RGBA8888)
            self.draws += 1
        image.setDevicePixelRatio(ratio)
        self._bridge.send(self, image, request)

    def _answered(self, request: int) -> None:
        self._shown = max(self._shown, request)

    def _show_picture(self, image: QImage, request: int) -> None:
        self._image = image
        self._answered(request)
        self.update()
        if self._deferred is not None:
            self.render(*self._deferred)

    def sizeHint(self) -> QSize:
        return self._size_hint

    def resizeEvent(self, event) -> None:
        self._remember_target()
        renderer().request(self)
        super().resizeEvent(event)

    def _remember_target(self) -> None:
        ratio = self.devicePixelRatioF() or 1.0
        self._target_size = (max(self.width(), 1), max(self.height(), 1), ratio)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.white)
        if not self._image.isNull():
            painter.drawImage(0, 0, self._image)
        painter.end()


class CurvesCanvas(PlotCanvas):
    """One metric per epoch: every trial's mean validation curve faint in grey, the selected trials
    bold in colour (validation solid, train dashed), each one's replicates faint around its mean.

    `metric` ("accuracy" or "loss") and `log_scale` are the user's choices (CurvesView). The faint
    background is one LineCollection (one artist for 200 trials). The artists are rebuilt only when
    the series change (another selection or metric, a new replicate); otherwise only their data.
    """

    def __init__(self, parent=None, size: tuple[float, float] = (6.0, 4.0)):
        self._lines: dict[tuple[str, str], tuple[list[Line2D], Line2D]] = {}
        self.metric_name = "accuracy"  # not `metric`: that is QPaintDevice.metric(), a virtual Qt calls
        self.log_scale = False
        super().__init__(parent, size)
        self.figure.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.15)
        self.ax = self.figure.subplots()
        self.ax.grid(alpha=0.3)
        self.background = LineCollection([], colors="0.6", linewidths=0.8, alpha=0.45)
        self.ax.add_collection(self.background)
        self._note = _empty_note(self.ax, "No epoch recorded yet")

    def set_options(self, metric: str, log_scale: bool) -> None:
        self.metric_name, self.log_scale = metric, log_scale

    def _data(self, snapshot: SearchSnapshot | None, selection: list[str]):
        if snapshot is None:
            return [], {m: [] for m in plot_data.CURVE_METRICS}
        trial_ids = selection or plot_data.default_selection(snapshot)
        train, val, _ = plot_data.CURVE_CHOICES[self.metric_name]
        return trial_ids, plot_data.curves_for(snapshot, trial_ids, (val, train))

    def structure(self, snapshot: SearchSnapshot | None, selection: list[str]) -> Any:
        trial_ids, data = self._data(snapshot, selection)
        series = tuple((metric, c.trial_id, len(c.executions)) for metric in data for c in data[metric])
        return self.metric_name, self.log_scale, tuple(trial_ids), series

    def build(self, structure: Any) -> None:
        metric, log_scale, trial_ids, series = structure
        _train, val, label = plot_data.CURVE_CHOICES[metric]
        ax = self.ax
        for faint, mean in self._lines.values():
            for line in [*faint, mean]:
                line.remove()
        self._lines = {}
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        colour_of = {t: f"C{i % 10}" for i, t in enumerate(trial_ids)}
        for name, trial_id, executions in series:
            style = "-" if name == val else "--"
            colour = colour_of[trial_id]
            faint = [
                ax.plot([], [], style, color=colour, alpha=0.3, linewidth=1)[0]
                for _ in range(executions if executions > 1 else 0)
            ]
            kind = "validation" if name == val else "train"
            (mean,) = ax.plot(
                [], [], style, color=colour, linewidth=2.2, label=f"{trial_label(trial_id)} {kind}"
            )
            self._lines[(name, trial_id)] = (faint, mean)
        handles = [mean for (m, _), (_, mean) in self._lines.items() if m == val]
        grey = Line2D([], [], color="0.6", linewidth=0.8, label="every other trial (validation)")
        if handles:
            ax.legend(handles=[*handles[:8], grey], fontsize="small", loc="best")
        ax.set_yscale("log" if log_scale else "linear")
        scale = ", log scale" if log_scale else ""
        _fixed_text_positions(
            ax,
            f"{label.capitalize()} per epoch (solid: validation, dashed: train)",
            "epoch",
            f"{label}{scale}",
        )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))

    def update_data(self, snapshot: SearchSnapshot | None, selection: list[str]) -> None:
        trial_ids, data = self._data(snapshot, selection)
        _train, val, _ = plot_data.CURVE_CHOICES[self.metric_name]
        shown = set(trial_ids)
        background = [] if snapshot is None else plot_data.all_trial_curves(snapshot, val)
        segments = [list(zip(s.x, s.y, strict=True)) for t, s in background if t not in shown]
        self.background.set_segments(segments)
        x_max = max((max(s.x) for _, s in background), default=0)
        y_values = [v for _, s in background for v in s.y]
        for metric, curves_list in data.items():
            for curves in curves_list:
                faint, mean = self._lines[(metric, curves.trial_id)]
                for line, series in zip(faint, curves.executions, strict=False):
                    line.set_data(series.x, series.y)
                    y_values += series.y
                mean.set_data(curves.mean.x, curves.mean.y)
                y_values += curves.mean.y
                x_max = max(x_max, max(curves.mean.x, default=0))
                single = len(curves.mean.x) == 1  # a one-epoch curve is a point: give it a marker
                mean.set_marker(("o" if metric == val else "x") if single else "None")
        self._note.set_visible(not y_values)
        ax = self.ax
        if not y_values:  # no data: a sensible empty frame, not autoscaled negative accuracy
            ax.set_xlim(0.5, 1.5)
            ax.set_ylim(*((0.01, 1.0) if self.log_scale else (0.0, 1.0)))
            return
        if self.log_scale:
            y_values = [v for v in y_values if v > 0]
        low, high = min(y_values, default=0.01), max(y_values, default=1.0)
        if self.log_scale:
            ax.set_ylim(low / 1.15, high * 1.15)
        else:
            pad = max((high - low) * 0.05, 0.005)
            bottom = max(low - pad, 0.0)  # accuracies and losses are never negative
            top = min(high + pad, 1.0) if self.metric_name == "accuracy" else high + pad
            ax.set_ylim(bottom, max(top, bottom + 0.01))
        ax.set_xlim(0.5, max(x_max, 1) + 0.5)


class CurvesView(QWidget):
    """The curves plot with its choices: which metric, log scale, and how to compare trials."""

    changed = Signal()

    def __init__(self, canvas: CurvesCanvas, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.metric_box = QComboBox()
        for key, (_, _, label) in plot_data.CURVE_CHOICES.items():
            self.metric_box.addItem(label.split(" (")[0].capitalize(), key)
        self.log_scale = QCheckBox("log scale")
        self.compare_best = QPushButton("Compare the best 5")
        self.compare_best.setToolTip(
            "Select the five best trials in the table (Ctrl/Shift+click selects any)"
        )
        self.metric_box.currentIndexChanged.connect(self._options_changed)
        self.log_scale.toggled.connect(self._options_changed)
        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 0)
        row.addWidget(QLabel("Show"))
        row.addWidget(self.metric_box)
        row.addWidget(self.log_scale)
        row.addStretch(1)
        row.addWidget(QLabel("select rows to compare; bold: selected, grey: all others"))
        row.addWidget(self.compare_best)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(row)
        column.addWidget(canvas, 1)

    def _options_changed(self) -> None:
        self.canvas.set_options(self.metric_box.currentData(), self.log_scale.isChecked())
        self.changed.emit()


class ProgressCanvas(PlotCanvas):
    """Best-so-far validation accuracy against trial number, each trial's own score as a dot."""

    def build(self, structure: Any) -> None:
        ax = self.ax = self.figure.subplots()
        (self.scores_line,) = ax.plot([], [], "o", color="0.6", markersize=4, label="trial")
        (self.best_line,) = ax.plot(
            [], [], drawstyle="steps-post", color="C0", linewidth=2, label="best so far"
        )
        self.legend = ax.legend(fontsize="small", loc="lower right")
        self.note = _empty_note(ax, "No trial finished yet")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _fixed_text_positions(ax, "Best so far", "trial (in order finished)", "validation accuracy")
        ax.grid(alpha=0.3)

    def update_data(self, snapshot: SearchSnapshot | None, selection: list[str]) -> None:
        best = plot_data.best_so_far(snapshot) if snapshot is not None else plot_data.Series((), ())
        scores = plot_data.trial_scores(snapshot) if snapshot is not None else plot_data.Series((), ())
        self.scores_line.set_data(scores.x, scores.y)
        self.best_line.set_data(best.x, best.y)
        self.note.set_visible(not best.x)
        self.legend.set_visible(bool(best.x))
        _autoscale(self.ax, max(best.x) if best.x else None)


class WeightDecayCanvas(PlotCanvas):
    """Validation accuracy mean ± std against the L2 factor, with Hinton's 98.47 % for reference."""

    def build(self, structure: Any) -> None:
        ax = self.ax = self.figure.subplots()
        hinton = ax.axhline(
            plot_data.HINTON_WEIGHT_DECAY, color="C3", linestyle=":", label="Hinton 2005: 98.47 % (test)"
        )
        # An error bar plot kept as plain artists (points, bars, caps) so it updates in place.
        self.bars = LineCollection([], colors="C0")
        ax.add_collection(self.bars)
        (self.caps,) = ax.plot([], [], linestyle="none", marker="_", markersize=8, color="C0")
        (self.points,) = ax.plot(
            [], [], "o", color="C0", label="validation accuracy, mean ± std over replicates"
        )
        self.note = _empty_note(ax, "No trial with an L2 factor (family weight_decay) yet")
        _fixed_text_positions(ax, "Weight decay", "L2 factor (log scale)", "validation accuracy")
        ax.grid(alpha=0.3, which="both")
        # "best", not a fixed corner: a fixed lower-left legend hid the point of a poor low-L2 trial.
        ax.legend(handles=[hinton, self.points], fontsize="small", loc="best")

    def update_data(self, snapshot: SearchSnapshot | None, selection: list[str]) -> None:
        points = plot_data.weight_decay_points(snapshot) if snapshot is not None else []
        xs = [p.x for p in points]
        self.points.set_data(xs, [p.mean for p in points])
        self.bars.set_segments([[(p.x, p.mean - p.std), (p.x, p.mean + p.std)] for p in points])
        self.caps.set_data(xs + xs, [p.mean - p.std for p in points] + [p.mean + p.std for p in points])
        self.note.set_visible(not points)
        if points and self.ax.get_xscale() != "log":
            self.ax.set_xscale("log")
        self.ax.relim()
        self.ax.update_datalim([(p.x, p.mean + s * p.std) for p in points for s in (-1, 1)])
        self.ax.autoscale_view()
