"""The analysis views' canvases: parallel coordinates, hyperparameter importance, slice plots.

The second stage only: tuner_app.trial_analysis computes what each shows (tested on hand-built
snapshots); these draw it, through PlotCanvas's render thread like the other plots. Importance fits
a random forest (0.3 s for 200 trials, more while scikit-learn is first imported), so it is computed
on a worker thread and cached by the completed trials' scores; the view says "computing" meanwhile.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections.abc import Mapping
from typing import Any

from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.ticker import LogLocator, NullFormatter
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent

from tuner_app import trial_analysis
from tuner_app.gui.plots import PlotCanvas, _empty_note
from tuner_app.results import SearchSnapshot
from tuner_app.trial_analysis import HyperparameterInfo

log = logging.getLogger(__name__)
Space = Mapping[str, HyperparameterInfo]


class AnalysisCanvas(PlotCanvas):
    """A canvas that also needs the search space (KerasTuner's record of it, read per project)."""

    def __init__(self, parent=None, size: tuple[float, float] = (8.0, 3.6)):
        self.space: Space = {}
        super().__init__(parent, size)

    def set_space(self, space: Space) -> None:
        self.space = dict(space)
        self._structure = object()  # rebuild on the next render


class ParallelCanvas(AnalysisCanvas):
    """One line per completed trial through its hyperparameters and score, coloured by score; the
    selected trials bold. Drag along an axis to select the trials whose line crosses that range."""

    range_selected = Signal(list)  # trial ids

    def __init__(self, parent=None, size: tuple[float, float] = (8.0, 3.6)):
        self.data: trial_analysis.ParallelCoordinates | None = None
        self._drag_from: tuple[int, float] | None = None
        super().__init__(parent, size)
        self.setToolTip("Drag up or down along an axis to select the trials in that range")

    def structure(self, snapshot: SearchSnapshot | None, selection: list[str]) -> Any:
        if snapshot is None:
            return ()
        return tuple(trial_analysis.space_for(snapshot, self.space))

    def build(self, structure: Any) -> None:
        self.figure.clear()
        ax = self.ax = self.figure.add_axes((0.02, 0.05, 0.93, 0.68))
        ax.set_xlim(-0.2, max(len(structure), 1) + 0.45)
        ax.set_ylim(-0.04, 1.04)
        ax.set_yticks([])
        ax.set_xticks([])
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        self.lines = LineCollection([], cmap="viridis", linewidths=1.2, alpha=0.8)
        ax.add_collection(self.lines)
        self.selected = LineCollection([], colors="#d62728", linewidths=2.6)
        ax.add_collection(self.selected)
        self.axis_artists: list[Any] = []
        self.note = _empty_note(ax, "No completed trial yet")
        self.figure.suptitle(
            "Parallel coordinates: one line per completed trial, colour = validation accuracy "
            "(red: selected; drag along an axis to select)",
            fontsize=9,
            y=0.985,
            va="top",
        )

    def update_data(self, snapshot: SearchSnapshot | None, selection: list[str]) -> None:
        data = self.data = trial_analysis.parallel_coordinates(snapshot, self.space) if snapshot else None
        for artist in self.axis_artists:
            artist.remove()
        self.axis_artists = []
        if data is None or not data.lines:
            self.lines.set_segments([])
            self.selected.set_segments([])
            self.note.set_visible(True)
            return
        self.note.set_visible(False)
        ax, chosen = self.ax, set(selection)
        for i, axis in enumerate(data.axes):
            self.axis_artists.append(ax.axvline(i, color="0.3", linewidth=0.8))
            name = axis.name + (" (log)" if axis.log else "")
            self.axis_artists.append(
                ax.text(i, 1.06, name, ha="left", va="bottom", fontsize=7, rotation=20, clip_on=False)
            )
            for y, label in axis.ticks[:8]:
                self.axis_artists.append(ax.text(i + 0.04, y, label, fontsize=6.5, va="center", color="0.25"))
        segments, colours, bold = [], [], []
        for line in data.lines:
            pieces = _segments(line.positions)
            segments += pieces
            colours += [line.score] * len(pieces)
            if line.trial_id in chosen:
                bold += pieces
        self.lines.set_segments(segments)
        self.lines.set_array(colours)
        low, high = data.score_range
        self.lines.set_clim(low, high if high > low else low + 1e-9)
        self.selected.set_segments(bold)

    # -- brushing: pixels -> axis index and position, on the last drawn picture ------------------
    def _axis_at(self, event: QMouseEvent) -> tuple[int, float] | None:
        if self.data is None or not self.data.lines:
            return None
        ratio = self._target_size[2]
        with self.lock:
            inverse = self.ax.transData.inverted()
            height = self.figure.bbox.height
            x, y = inverse.transform((event.position().x() * ratio, height - event.position().y() * ratio))
        index = round(x)
        if not 0 <= index < len(self.data.axes) or abs(x - index) > 0.35:
            return None
        return index, min(max(y, 0.0), 1.0)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = self._axis_at(event)
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        start, self._drag_from = self._drag_from, None
        end = self._axis_at(event)
        if start is not None and end is not None and self.data is not None:
            axis, low = start
            high = end[1] if end[0] == axis else low
            if abs(high - low) < 0.02:  # a click: a small band around it
                low, high = low - 0.05, low + 0.05
            self.range_selected.emit(trial_analysis.trials_in_range(self.data, axis, low, high))
        super().mouseReleaseEvent(event)


def _segments(positions: tuple[float | None, ...]) -> list[list[tuple[float, float]]]:
    """A trial's line from axis to axis; an axis where it has no value (a conditional
    hyperparameter, such as the SGD learning rate of an Adam trial) is stepped over, so every line
    reaches the score."""
    points = [(float(i), p) for i, p in enumerate(positions) if p is not None]
    return [[a, b] for a, b in itertools.pairwise(points)]


class ImportanceCanvas(AnalysisCanvas):
    """Each hyperparameter's share of the score's explained variation, with the method named."""

    def __init__(self, parent=None, size: tuple[float, float] = (8.0, 3.6)):
        self._cache: tuple[Any, trial_analysis.Importance] | None = None
        self._computing: Any = None
        self._latest: tuple[SearchSnapshot | None, list[str]] = (None, [])
        self._thread: threading.Thread | None = None
        super().__init__(parent, size)

    @staticmethod
    def key(snapshot: SearchSnapshot) -> Any:
        return tuple((t.trial_id, t.mean) for t in snapshot.completed())

    def result(self, snapshot: SearchSnapshot) -> trial_analysis.Importance | None:
        """The cached importance for this snapshot, or None while a worker computes it."""
        key = self.key(snapshot)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        if self._computing != key:
            self._computing = key
            space = dict(self.space)
            self._thread = threading.Thread(
                target=self._compute, args=(snapshot, space, key), name="importance", daemon=True
            )
            self._thread.start()
        return None

    def _compute(self, snapshot: SearchSnapshot, space: Space, key: Any) -> None:
        try:
            value = trial_analysis.importance(snapshot, space)
        except Exception as exc:  # shown in the view; the window goes on
            log.exception("Importance failed")
            value = trial_analysis.Importance((), (), 0, trial_analysis.IMPORTANCE_METHOD, f"failed: {exc}")
        self._cache = (key, value)
        self._computing = None
        self._bridge.call_soon(
            self, "_recompute_done"
        )  # never a signal on this widget: see render_thread.PictureBridge

    def shutdown(self, timeout_s: float = 30.0) -> None:
        """Wait for a running fit: a daemon thread still inside scikit-learn's compiled code when the
        interpreter exits can abort the process (see render_thread.RenderThread)."""
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _recompute_done(self) -> None:
        self.render(*self._latest)

    def wait(self, timeout_s: float = 30.0) -> None:
        """Tests and the benchmark: until no importance is being computed (then flush())."""
        import time

        from PySide6.QtCore import QCoreApplication

        deadline = time.monotonic() + timeout_s
        while self._computing is not None and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.01)
        QCoreApplication.processEvents()

    def build(self, structure: Any) -> None:
        self.figure.clear()
        self.ax = self.figure.add_axes((0.25, 0.16, 0.7, 0.7))
        self.note = _empty_note(self.ax, "")

    def update_data(self, snapshot: SearchSnapshot | None, selection: list[str]) -> None:
        self._latest = (snapshot, selection)
        ax = self.ax
        ax.clear()
        ax.set_xlim(0, 1)
        ax.set_yticks([])
        self.note = _empty_note(ax, "")
        result = self.result(snapshot) if snapshot is not None else None
        method = trial_analysis.IMPORTANCE_METHOD
        if snapshot is None:
            self.note.set_text("No project open")
        elif result is None:
            self.note.set_text("Computing importance…")
        elif result.note:
            self.note.set_text(f"Hyperparameter importance {result.note}")
        else:
            count = min(len(result.names), 12)
            names, values = list(result.names[:count])[::-1], list(result.values[:count])[::-1]
            ax.barh(range(count), values, color="C0")
            ax.set_yticks(range(count), names, fontsize=8)
            ax.set_xlim(0, max(max(values) * 1.15, 0.05))
            for i, v in enumerate(values):
                ax.text(v, i, f" {100 * v:.0f} %", va="center", fontsize=7)
            method = f"{method}; {result.trials} completed trials"
        ax.set_title("Hyperparameter importance", fontsize=10, pad=18)
        ax.text(0.5, 1.02, method, transform=ax.transAxes, ha="center", fontsize=7, color="0.3")
        ax.set_xlabel("share of the score's variation explained")
        text = f"from {trial_analysis.MIN_TRIALS_FOR_IMPORTANCE} completed trials"
        ax.text(1.0, -0.14, text, transform=ax.transAxes, ha="right", fontsize=7, color="0.4")


class SliceCanvas(AnalysisCanvas):
    """Validation accuracy against each hyperparameter, one small plot each (log axes where the
    space samples on a log scale); the selected trials in red."""

    COLUMNS = 4

    def structure(self, snapshot: SearchSnapshot | None, selection: list[str]) -> Any:
        if snapshot is None:
            return ()
        return tuple((s.name, s.log, s.categories) for s in trial_analysis.slices(snapshot, self.space))

    def build(self, structure: Any) -> None:
        self.figure.clear()
        self.panels: dict[str, tuple[Any, Line2D, Line2D]] = {}
        if not structure:
            ax = self.figure.add_subplot()
            ax.set_axis_off()
            _empty_note(ax, "No completed trial yet")
            return
        rows = math.ceil(len(structure) / self.COLUMNS)
        self.figure.subplots_adjust(left=0.06, right=0.99, top=0.87, bottom=0.08, hspace=0.8, wspace=0.3)
        for i, (name, log_scale, categories) in enumerate(structure):
            ax = self.figure.add_subplot(rows, self.COLUMNS, i + 1)
            (points,) = ax.plot([], [], "o", color="C0", alpha=0.6, markersize=3.5)
            (chosen,) = ax.plot([], [], "o", color="#d62728", markersize=5)
            ax.set_title(name + (" (log)" if log_scale else ""), fontsize=8, pad=3)
            ax.tick_params(labelsize=6.5)
            ax.grid(alpha=0.3)
            if log_scale:
                ax.set_xscale("log")
                ax.xaxis.set_major_locator(LogLocator(numticks=4))
                ax.xaxis.set_minor_formatter(NullFormatter())
            if categories:
                ax.set_xticks(range(len(categories)), categories)
                ax.set_xlim(-0.5, len(categories) - 0.5)
            self.panels[name] = (ax, points, chosen)
        self.figure.suptitle(
            "Validation accuracy against each hyperparameter (red: selected)", fontsize=9, y=0.98
        )

    def update_data(self, snapshot: SearchSnapshot | None, selection: list[str]) -> None:
        if snapshot is None:
            return
        chosen = set(selection)
        for data in trial_analysis.slices(snapshot, self.space):
            if data.name not in self.panels:
                continue
            ax, points, marked = self.panels[data.name]
            points.set_data(data.x, data.y)
            picked = [(x, y) for x, y, t in zip(data.x, data.y, data.trial_ids, strict=True) if t in chosen]
            marked.set_data([p[0] for p in picked], [p[1] for p in picked])
            ax.relim()
            ax.autoscale_view(scalex=not data.categories)
