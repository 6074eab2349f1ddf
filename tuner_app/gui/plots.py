"""Matplotlib canvases embedded in the window: the second stage (rendering) of tuner_app.plot_data.

Why each canvas redraws only through `render()` + draw_idle: the window calls it when the store's
version or the selection changed, and draw_idle coalesces requests into one paint per event-loop turn,
so a fast-training search cannot cause a redraw storm.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tuner_app import plot_data
from tuner_app.results import SearchSnapshot


class PlotCanvas(FigureCanvasQTAgg):
    """A figure in a widget; subclasses fill `draw_snapshot`."""

    def __init__(self, parent=None, size: tuple[float, float] = (6.0, 4.0)):
        # Fixed margins, not constrained layout: layout solving measured ~70 ms of each redraw here.
        self.figure = Figure(figsize=size)
        self.figure.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.15, wspace=0.22)
        super().__init__(self.figure)
        self.setParent(parent)
        self.renders = 0  # how many times data was drawn: lets tests and the benchmark check for storms

    def render(self, snapshot: SearchSnapshot | None, selection: list[str] | None = None) -> None:
        self.figure.clear()
        if snapshot is not None:
            self.draw_snapshot(snapshot, selection or [])
        self.renders += 1
        self.draw_idle()

    def draw_snapshot(self, snapshot: SearchSnapshot, selection: list[str]) -> None:
        raise NotImplementedError

    def save_png(self, path: str | Path) -> None:
        self.figure.savefig(path, dpi=150)


class CurvesCanvas(PlotCanvas):
    """Accuracy and loss per epoch of the selected trials: replicates faint, their mean bold."""

    def draw_snapshot(self, snapshot: SearchSnapshot, selection: list[str]) -> None:
        trial_ids = selection or plot_data.default_selection(snapshot)
        data = plot_data.curves_for(snapshot, trial_ids)
        ax_acc, ax_loss = self.figure.subplots(1, 2)
        colours = [f"C{i % 10}" for i in range(len(trial_ids))]
        colour_of = dict(zip(trial_ids, colours, strict=True))
        for ax, train, val, title in (
            (ax_acc, "accuracy", "val_accuracy", "Accuracy"),
            (ax_loss, "loss", "val_loss", "Loss"),
        ):
            for metric, style in ((train, "--"), (val, "-")):
                for curves in data[metric]:
                    colour = colour_of[curves.trial_id]
                    for series in curves.executions if len(curves.executions) > 1 else ():
                        ax.plot(series.x, series.y, style, color=colour, alpha=0.25, linewidth=1)
                    label = f"trial {curves.trial_id} {'validation' if metric == val else 'train'}"
                    single = len(curves.mean.x) == 1
                    marker = ("o" if metric == val else "x") if single else None
                    ax.plot(
                        curves.mean.x,
                        curves.mean.y,
                        style,
                        color=colour,
                        linewidth=2.2,
                        label=label,
                        marker=marker,
                    )
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            if ax.lines:
                last = max(max(line.get_xdata()) for line in ax.lines)
                ax.set_xlim(0.5, last + 0.5)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if ax_acc.lines:
            ax_acc.legend(fontsize="small", loc="lower right")
        else:
            ax_acc.text(
                0.5, 0.5, "No epoch recorded yet", ha="center", va="center", transform=ax_acc.transAxes
            )


class ProgressCanvas(PlotCanvas):
    """Best-so-far validation accuracy against trial number, each trial's own score as a dot."""

    def draw_snapshot(self, snapshot: SearchSnapshot, selection: list[str]) -> None:
        ax = self.figure.subplots()
        best = plot_data.best_so_far(snapshot)
        scores = plot_data.trial_scores(snapshot)
        if best.x:
            ax.plot(scores.x, scores.y, "o", color="0.6", markersize=4, label="trial")
            ax.step(best.x, best.y, where="post", color="C0", linewidth=2, label="best so far")
            ax.legend(fontsize="small", loc="lower right")
            ax.set_xlim(0.5, max(best.x) + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            ax.text(0.5, 0.5, "No trial finished yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_xlabel("trial (in order finished)")
        ax.set_ylabel("validation accuracy")
        ax.set_title("Best so far")
        ax.grid(alpha=0.3)


class WeightDecayCanvas(PlotCanvas):
    """Validation accuracy mean ± std against the L2 factor, with Hinton's 98.47 % for reference."""

    def draw_snapshot(self, snapshot: SearchSnapshot, selection: list[str]) -> None:
        ax = self.figure.subplots()
        points = plot_data.weight_decay_points(snapshot)
        ax.axhline(
            plot_data.HINTON_WEIGHT_DECAY, color="C3", linestyle=":", label="Hinton 2005: 98.47 % (test)"
        )
        if points:
            ax.errorbar(
                [p.x for p in points],
                [p.mean for p in points],
                yerr=[p.std for p in points],
                fmt="o",
                capsize=4,
                color="C0",
                label="validation accuracy, mean ± std over replicates",
            )
            ax.set_xscale("log")
        else:
            ax.text(
                0.5,
                0.5,
                "No trial with an L2 factor (family weight_decay) yet",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
        ax.set_xlabel("L2 factor (log scale)")
        ax.set_ylabel("validation accuracy")
        ax.set_title("Weight decay")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize="small", loc="lower left")
