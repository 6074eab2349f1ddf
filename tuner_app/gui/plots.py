"""Matplotlib canvases embedded in the window: the second stage (rendering) of tuner_app.plot_data.

Why the artists are kept and updated in place: a search being followed changes the data a few times
a second; rebuilding a figure (new Axes, lines, legend) cost ~25 ms on top of its ~70 ms draw on the
GUI thread. Each canvas builds its Axes and lines once (the curves canvas again only when the set of
series changes: another selection, a new replicate) and then only calls set_data + relim +
autoscale_view. Drawing goes through draw_idle, which coalesces requests into one paint per
event-loop turn; the window asks for at most one render per PLOT_INTERVAL_S while following.

Why titles and axis labels are placed at fixed positions: by default matplotlib measures every tick
label on each draw to place them (~20 ms of a draw here); fixed margins (subplots_adjust, set once)
leave room for them instead. No tight_layout or constrained layout, for the same reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from tuner_app import plot_data
from tuner_app.results import SearchSnapshot

CURVE_PANELS = (("accuracy", "val_accuracy", "Accuracy"), ("loss", "val_loss", "Loss"))


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


class PlotCanvas(FigureCanvasQTAgg):
    """A figure in a widget; subclasses build their artists once and update them in `update_data`."""

    def __init__(self, parent=None, size: tuple[float, float] = (6.0, 4.0)):
        # Fixed margins, not constrained layout: layout solving measured ~70 ms of each redraw here.
        self.figure = Figure(figsize=size)
        self.figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.15, wspace=0.22)
        super().__init__(self.figure)
        self.setParent(parent)
        self.renders = 0  # how many times data was drawn: lets tests and the benchmark check for storms
        self.rebuilds = 0  # how many times artists were created, not just given new data
        self._structure: Any = object()  # what the current artists were built for

    def render(self, snapshot: SearchSnapshot | None, selection: list[str] | None = None) -> None:
        selection = selection or []
        structure = self.structure(snapshot, selection)
        if structure != self._structure:
            self.build(structure)
            self._structure = structure
            self.rebuilds += 1
        self.update_data(snapshot, selection)
        self.renders += 1
        self.draw_idle()

    def structure(self, snapshot: SearchSnapshot | None, selection: list[str]) -> Any:
        """What the artists depend on; a change rebuilds them. Constant by default."""
        return None

    def build(self, structure: Any) -> None:
        """Create the artists (first render), or replace those that depend on `structure`."""
        raise NotImplementedError

    def update_data(self, snapshot: SearchSnapshot | None, selection: list[str]) -> None:
        raise NotImplementedError

    def save_png(self, path: str | Path) -> None:
        self.figure.savefig(path, dpi=150)


class CurvesCanvas(PlotCanvas):
    """Accuracy and loss per epoch of the selected trials: replicates faint, their mean bold.

    The two Axes are built once; when the set of series changes (another selection, the next trial
    while following, a new replicate) only the lines and the legend are replaced (`rebuilds`).
    """

    def __init__(self, parent=None, size: tuple[float, float] = (6.0, 4.0)):
        self._lines: dict[tuple[str, str], tuple[list[Line2D], Line2D]] = {}
        self._axes: list = []
        super().__init__(parent, size)
        self._build_axes()

    def _build_axes(self) -> None:
        self._axes = list(self.figure.subplots(1, 2))
        for ax, (_, _, title) in zip(self._axes, CURVE_PANELS, strict=True):
            _fixed_text_positions(ax, f"{title} (solid: validation, dashed: train)", "epoch")
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        self._note = _empty_note(self._axes[0], "No epoch recorded yet")

    def _data(self, snapshot: SearchSnapshot | None, selection: list[str]):
        if snapshot is None:
            return [], {m: [] for m in plot_data.CURVE_METRICS}
        trial_ids = selection or plot_data.default_selection(snapshot)
        return trial_ids, plot_data.curves_for(snapshot, trial_ids)

    def structure(self, snapshot: SearchSnapshot | None, selection: list[str]) -> Any:
        trial_ids, data = self._data(snapshot, selection)
        metrics = plot_data.CURVE_METRICS
        series = tuple((metric, c.trial_id, len(c.executions)) for metric in metrics for c in data[metric])
        return tuple(trial_ids), series

    def build(self, structure: Any) -> None:
        trial_ids, series = structure
        colour_of = {t: f"C{i % 10}" for i, t in enumerate(trial_ids)}
        for faint, mean in self._lines.values():
            for line in [*faint, mean]:
                line.remove()
        self._lines = {}
        for ax, (train, val, _) in zip(self._axes, CURVE_PANELS, strict=True):
            if ax.get_legend() is not None:
                ax.get_legend().remove()
            for metric, trial_id, executions in series:
                if metric not in (train, val):
                    continue
                style = "-" if metric == val else "--"
                colour = colour_of[trial_id]
                faint = [
                    ax.plot([], [], style, color=colour, alpha=0.25, linewidth=1)[0]
                    for _ in range(executions if executions > 1 else 0)
                ]
                label = f"trial {trial_id} {'validation' if metric == val else 'train'}"
                (mean,) = ax.plot([], [], style, color=colour, linewidth=2.2, label=label)
                self._lines[(metric, trial_id)] = (faint, mean)
        validation = [mean for (m, _), (_, mean) in self._lines.items() if m == "val_accuracy"]
        if validation:  # one entry per trial (its colour); the title says which style is which
            self._axes[0].legend(handles=validation, fontsize="small", loc="lower right")
        self._note.set_visible(not series)

    def update_data(self, snapshot: SearchSnapshot | None, selection: list[str]) -> None:
        _, data = self._data(snapshot, selection)
        for metric, curves_list in data.items():
            for curves in curves_list:
                faint, mean = self._lines[(metric, curves.trial_id)]
                for line, series in zip(faint, curves.executions, strict=False):
                    line.set_data(series.x, series.y)
                mean.set_data(curves.mean.x, curves.mean.y)
                single = len(curves.mean.x) == 1  # a one-epoch curve is a point: give it a marker
                mean.set_marker(("o" if metric.startswith("val_") else "x") if single else "None")
        for ax in self._axes:
            x_max = max((max(line.get_xdata(), default=0) for line in ax.lines), default=0)
            _autoscale(ax, x_max or None)


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
        ax.legend(handles=[hinton, self.points], fontsize="small", loc="lower left")

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
