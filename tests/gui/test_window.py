"""The window: opens, validates the form, opens CLI projects and models, refuses bad ones."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from tuner_app import plot_data
from tuner_app.gui.trial_model import SORT_ROLE
from tuner_app.results import read_results


def test_window_opens(window) -> None:
    assert window.isVisible()
    assert "tuner_app" in window.windowTitle()
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Search"]
    assert window.pad_panel.answer.text().startswith("Draw a digit")


def test_bad_values_are_shown_next_to_their_field(qtbot, tmp_path: Path) -> None:
    from tuner_app.gui.launch_form import LaunchForm

    form = LaunchForm()  # not wired to a window: a valid submit must not start a real search here
    qtbot.addWidget(form)
    form.max_trials.setText("0")
    form.time_limit.setText("8 hours-ish")
    form.subset.setText("lots")
    started = []
    form.start_requested.connect(started.append)
    form.submit()
    assert started == []
    errors = form.visible_errors()
    assert set(errors) == {"time_limit", "subset", "max_trials"}  # every field at once
    assert "does not parse" in errors["time_limit"]
    assert errors["max_trials"].startswith("Max trials must be a positive whole number")  # no flag
    form.time_limit.setText("8h")
    form.subset.setText("2000")
    form.submit()
    assert started == []
    assert set(form.visible_errors()) == {"max_trials"}
    form.max_trials.setText("2")
    form.project.setText(str(tmp_path / "p"))
    form.submit()
    assert form.visible_errors() == {}
    assert started[0].time_limit_s == 8 * 3600 and started[0].subset == 2000


def test_existing_project_folder_is_refused_unless_resuming(window, cli_project: Path) -> None:
    window.form.project.setText(str(cli_project))
    assert window.form.build_config() is None
    assert "already holds a search" in window.form.visible_errors()["project"]


def test_opening_a_cli_project_shows_its_trials(window, qtbot, cli_project: Path, dialogs) -> None:
    assert window.open_project(cli_project)
    snapshot = read_results(cli_project)
    model = window.table_model
    assert model.rowCount() == len(snapshot.trials) == 2
    columns = model.columns
    assert columns[:3] == ["trial", "status", "val accuracy"] and columns[-2:] == ["best epoch", "duration"]
    assert "num_layers" in columns and "batch_size" in columns
    statuses = {model.data(model.index(r, 1)) for r in range(2)}
    assert statuses == {"completed"}
    accuracy = model.data(model.index(0, columns.index("val accuracy")))
    assert accuracy.endswith("%") and accuracy != "-"
    assert "finished" in window.state_label.text()
    qtbot.waitUntil(lambda: window.pad_panel.model is not None, timeout=60_000)  # loaded in a thread
    window.curves.flush()
    assert window.curves.figure.axes[0].lines  # curves of the best trial
    assert dialogs == []


def test_sorting_uses_numbers_not_text(window, cli_project: Path) -> None:
    window.open_project(cli_project)
    proxy = window.proxy
    column = window.table_model.columns.index("val accuracy")
    window.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    values = [proxy.data(proxy.index(r, column), SORT_ROLE) for r in range(proxy.rowCount())]
    assert values == sorted(values, reverse=True)
    assert all(isinstance(v, float) for v in values)


def test_selecting_a_trial_plots_it(window, cli_project: Path) -> None:
    window.open_project(cli_project)
    window.curves.flush()
    window.table.selectRow(1)
    window.curves.flush()
    trial_id = window.proxy.data(window.proxy.index(1, 0))
    labels = [line.get_label() for line in window.curves.figure.axes[0].lines]
    assert f"trial {trial_id} validation" in labels
    renders = window.curves.renders
    window.follower.poll()  # nothing new in the store: no redraw
    window.curves.flush()
    assert window.curves.renders == renders


def test_plots_update_in_place_while_the_series_stay_the_same(window, cli_project: Path) -> None:
    window.open_project(cli_project)
    snapshot, curves = window.snapshot, window.curves
    curves.flush()
    axes, lines, rebuilds = list(curves.figure.axes), list(curves.figure.axes[0].lines), curves.rebuilds
    curves.render(snapshot, [])  # same selection and series: same Axes and lines, new data only
    curves.flush()
    assert curves.figure.axes == axes and list(curves.figure.axes[0].lines) == lines
    assert curves.rebuilds == rebuilds and curves.renders >= 2
    shown = plot_data.default_selection(snapshot)  # the best trial, with nothing selected
    other = [t.trial_id for t in snapshot.trials if t.trial_id not in shown][:1]
    curves.render(snapshot, other)  # another selection: rebuilt
    curves.flush()
    assert curves.rebuilds == rebuilds + 1
    assert [line.get_label() for line in curves.figure.axes[0].lines if "validation" in line.get_label()] == [
        f"trial {other[0]} validation"
    ]
    for canvas in (window.progress, window.weight_decay):
        canvas.render(snapshot)
        canvas.flush()
        before = (canvas.rebuilds, list(canvas.figure.axes))
        canvas.render(snapshot)
        canvas.flush()
        assert (canvas.rebuilds, list(canvas.figure.axes)) == before
    best = window.progress.best_line.get_xydata()
    assert len(best) == len(snapshot.completed())


def test_export_csv(window, cli_project: Path, tmp_path: Path) -> None:
    window.open_project(cli_project)
    out = tmp_path / "out.csv"
    window.export_csv(out)
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and lines[0].startswith("trial,status")


def test_bad_project_folder_shows_a_dialog(window, tmp_path: Path, dialogs) -> None:
    assert not window.open_project(tmp_path)
    assert not window.open_project(tmp_path / "missing")
    assert len(dialogs) == 2
    assert dialogs[0][0] == "Cannot open project" and "results.jsonl" in dialogs[0][1]
    assert "does not exist" in dialogs[1][1]
    assert "Traceback" not in dialogs[0][1]


def test_bad_model_file_shows_a_dialog(window, qtbot, tmp_path: Path, dialogs) -> None:
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"garbage")
    window.open_model(broken)  # loads in a ModelLoader thread; the dialog comes when it fails
    qtbot.waitUntil(lambda: bool(dialogs) and not window.model_loading(), timeout=60_000)
    assert dialogs and dialogs[0][0] == "Cannot open model" and "corrupt" in dialogs[0][1]
    assert window.pad_panel.model is None


def test_save_plot_png(window, cli_project: Path, tmp_path: Path) -> None:
    window.open_project(cli_project)
    out = tmp_path / "curves.png"
    window.curves.flush()
    picture = window.curves._image  # what the widget paints: drawn off the GUI thread
    assert not picture.isNull() and picture.width() > 100
    pixels = {
        picture.pixel(x, y) for x in range(0, picture.width(), 7) for y in range(0, picture.height(), 7)
    }
    assert len(pixels) > 3  # axes, lines and text, not a blank image
    window.current_canvas().save_png(out)
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_a_project_shared_by_several_workers_shows_who_ran_each_trial(window, tmp_path: Path) -> None:
    """Two engines with different worker names append to one project folder, as a chief's workers
    do (tests/test_overnight.py runs the real gRPC chief and workers); the window opens it as usual."""
    from tuner_app.config import SearchConfig
    from tuner_app.engine import SearchEngine

    project = tmp_path / "shared"
    base = SearchConfig(family="dense", max_trials=1, epochs=1, subset=600, project_dir=project)
    SearchEngine(base, worker="gpu1").run()
    SearchEngine(dataclasses.replace(base, max_trials=2, resume=True), worker="gpu2").run()
    assert window.open_project(project)
    model = window.table_model
    assert model.rowCount() == 2 and "worker" in model.columns
    column = model.columns.index("worker")
    assert {model.data(model.index(r, column)) for r in range(2)} == {"gpu1", "gpu2"}


def test_export_every_epoch(window, cli_project: Path, tmp_path: Path) -> None:
    import csv

    window.open_project(cli_project)
    out = tmp_path / "epochs.csv"
    window.export_epochs(out)
    rows = list(csv.DictReader(out.open()))
    snapshot = read_results(cli_project)
    assert len(rows) == sum(t.epochs_done for t in snapshot.trials) == 4  # 2 trials x 2 epochs
    assert {r["epoch"] for r in rows} == {"1", "2"} and {r["execution"] for r in rows} == {"1"}
    first = snapshot.trials[0]
    assert float(rows[0]["val_accuracy"]) == first.executions[0][0].metrics["val_accuracy"]
    assert rows[0]["batch_size"] == str(first.hyperparameters["batch_size"])


def test_start_up_hides_the_imported_libraries_from_the_garbage_collector() -> None:
    """A full collection over TensorFlow's ~400,000 objects froze the window 0.24 s: the app's
    start-up must leave them frozen (gc.freeze), in a process of its own like the app's."""
    import subprocess
    import sys

    code = (
        "import gc; from tuner_app.gui.app import preload_keras; preload_keras(); "
        "print(gc.get_freeze_count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert int(out.stdout.split()[-1]) > 100_000, out.stdout  # Keras alone leaves ~400,000
