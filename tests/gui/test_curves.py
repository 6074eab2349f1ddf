"""Curves: every trial faint and the selected bold, integer epochs, loss/accuracy and log scale,
and no empty or single-dot picture when a new trial starts."""

from __future__ import annotations

from pathlib import Path

from tests.snapshots import snapshot, trial
from tuner_app import plot_data


def _search(running_epochs: int):
    done = [
        trial(str(i), {"units": 32 * (i + 1)}, [0.5 + 0.05 * i, 0.6 + 0.05 * i, 0.7 + 0.05 * i])
        for i in range(4)
    ]
    running = trial("4", {"units": 160}, [0.3] * running_epochs, status="running")
    return snapshot([*done, running], state="running")


def test_a_starting_trial_does_not_replace_the_picture() -> None:
    assert plot_data.default_selection(_search(0)) == ["3"]  # the best, not empty axes
    assert plot_data.default_selection(_search(1)) == ["3"]  # not a single dot either
    assert plot_data.default_selection(_search(2)) == ["4"]  # a line: follow the running trial


def test_all_trial_curves_are_means_per_epoch() -> None:
    search = snapshot([trial("0", {}, [[0.5, 0.7], [0.7, 0.9]])])
    [(trial_id, series)] = plot_data.all_trial_curves(search, "val_accuracy")
    assert trial_id == "0" and series.x == (1.0, 2.0) and series.y == (0.6, 0.8)


def test_every_trial_faint_the_selected_bold(qtbot) -> None:
    from tuner_app.gui.plots import CurvesCanvas

    canvas = CurvesCanvas()
    qtbot.addWidget(canvas)
    search = _search(2)
    canvas.render(search, ["1", "2"])
    canvas.flush()
    assert len(canvas.background.get_segments()) == 3  # the five trials but the two selected
    labels = [line.get_label() for line in canvas.ax.lines]
    assert "trial 1 validation" in labels and "trial 2 train" in labels
    bold = next(line for line in canvas.ax.lines if line.get_label() == "trial 1 validation")
    assert bold.get_linewidth() > canvas.background.get_linewidths()[0]
    assert canvas.ax.xaxis.get_major_locator()._integer  # whole epochs only
    low, high = canvas.ax.get_ylim()
    assert 0 <= low < high <= 1.0


def test_loss_and_log_scale(qtbot) -> None:
    from tuner_app.gui.plots import CurvesCanvas, CurvesView

    canvas = CurvesCanvas()
    view = CurvesView(canvas)
    qtbot.addWidget(view)
    view.metric_box.setCurrentIndex(view.metric_box.findData("loss"))
    view.log_scale.setChecked(True)
    canvas.render(_search(3), ["0"])
    canvas.flush()
    assert canvas.ax.get_yscale() == "log" and "loss" in canvas.ax.get_ylabel()
    mean = next(line for line in canvas.ax.lines if line.get_label() == "trial 0 validation")
    assert tuple(mean.get_ydata()) == tuple(1 - v for v in (0.5, 0.6, 0.7))


def test_empty_axes_are_not_negative(qtbot) -> None:
    from tuner_app.gui.plots import CurvesCanvas

    canvas = CurvesCanvas()
    qtbot.addWidget(canvas)
    canvas.render(snapshot([trial("0", {}, [], status="running")], state="running"), [])
    canvas.flush()
    assert canvas.ax.get_ylim() == (0.0, 1.0) and canvas._note.get_visible()


def test_compare_best_selects_rows(window, cli_project: Path) -> None:
    window.open_project(cli_project)
    window.curves_view.compare_best.click()
    assert sorted(window._selection) == sorted(t.trial_id for t in window.snapshot.best(5))
