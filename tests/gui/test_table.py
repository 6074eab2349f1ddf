"""The trial table: score first, best first with the sort indicator, details and a right-click menu."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from tuner_app.gui.trial_model import SORT_ROLE
from tuner_app.results import read_results


def test_best_trial_first_with_the_indicator_shown(window, cli_project: Path) -> None:
    window.open_project(cli_project)
    header = window.table.horizontalHeader()
    assert header.isSortIndicatorShown()
    assert window.table_model.columns[header.sortIndicatorSection()] == "val accuracy"
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    proxy = window.proxy
    scores = [proxy.data(proxy.index(r, 2), SORT_ROLE) for r in range(proxy.rowCount())]
    assert scores == sorted(scores, reverse=True) and len(scores) == 2
    best = read_results(cli_project).best(1)[0]
    assert proxy.data(proxy.index(0, 0)) == best.trial_id


def test_details_show_the_whole_configuration(window, cli_project: Path) -> None:
    window.open_project(cli_project)
    trial = read_results(cli_project).best(1)[0]
    tooltip = window.proxy.data(window.proxy.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert tooltip.startswith(f"trial {trial.trial_id}: completed")
    for name, value in trial.user_hyperparameters().items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        assert f"{name} = {shown}" in tooltip
    assert "ran " in tooltip and "epoch(s)" in tooltip
    assert window.details.toPlainText() == ""
    window.table.selectRow(0)
    assert window.details.toPlainText() == tooltip


def test_menu_copies_the_configuration(window, cli_project: Path) -> None:
    window.open_project(cli_project)
    trial = read_results(cli_project).trials[0]
    menu = window.trial_menu(trial)
    actions = {a.text(): a for a in menu.actions()}
    actions["Copy configuration (JSON)"].trigger()
    assert json.loads(QGuiApplication.clipboard().text()) == trial.user_hyperparameters()


def test_menu_starts_a_new_search_from_a_trials_configuration(window, cli_project: Path) -> None:
    """Rerun a trial: the form holds the project's settings, a new folder, and the trial's configuration
    as the new search's first trial (passed to the search as --first-trial)."""
    from tuner_app.settings import config_to_argv

    window.open_project(cli_project)
    trial = read_results(cli_project).trials[0]
    actions = {a.text(): a for a in window.trial_menu(trial).actions()}
    actions[f"New search starting from trial {trial.trial_id}'s configuration"].trigger()
    form = window.form
    assert not form.resume.isChecked() and form.project.text() == ""
    assert (
        form.first_trial_row.isVisibleTo(form) and f"trial {trial.trial_id}" in form.first_trial_label.text()
    )
    config = form.build_config()
    assert config is not None and config.first_trial is not None
    assert json.loads(config.first_trial.read_text()) == trial.user_hyperparameters()
    assert "--first-trial" in config_to_argv(config), "the child process gets it"
    assert config.project_dir != cli_project
    form.set_first_trial(None)
    assert form.build_config().first_trial is None


def _write_log(folder: Path, hyperparameters: list[dict], scores: list[float]) -> None:
    events = [{"event": "search_started", "time": 1.8e9, "config": {"family": "dense"}}]
    for i, (hps, score) in enumerate(zip(hyperparameters, scores, strict=True)):
        trial_id, when = f"{i:03d}", 1.8e9 + i
        events += [
            {"event": "trial_started", "time": when, "trial_id": trial_id, "hyperparameters": hps},
            {
                "event": "epoch",
                "time": when,
                "trial_id": trial_id,
                "epoch": 0,
                "metrics": {"val_accuracy": score},
            },
            {"event": "trial_finished", "time": when + 1, "trial_id": trial_id, "status": "completed"},
        ]
    (folder / "results.jsonl").write_text("".join(json.dumps({"worker": "main", **e}) + "\n" for e in events))


def test_a_long_value_far_down_the_table_still_gets_its_width(window, tmp_path: Path) -> None:
    """Columns are measured over all rows, not only those on screen, and the user may still resize
    them (found by a break-it pass: the worst trial's long value stayed cut off for good)."""
    long = "a_very_long_activation_name_indeed"
    hyperparameters = [{"activation": long if i == 0 else "relu"} for i in range(200)]
    _write_log(tmp_path, hyperparameters, [i / 200 for i in range(200)])
    assert window.open_project(tmp_path)
    header, model = window.table.horizontalHeader(), window.table_model
    column = model.columns.index("activation")
    assert header.sectionSize(column) >= window.table.fontMetrics().horizontalAdvance(long)
    assert header.sectionResizeMode(column) == header.ResizeMode.Interactive
    header.resizeSection(column, 40)  # the user narrows it: rows that change later leave it so
    measured = window.column_fitter.measured_cells
    model.dataChanged.emit(model.index(0, 0), model.index(0, model.columnCount() - 1))
    assert header.sectionSize(column) == 40
    assert window.column_fitter.measured_cells - measured == model.columnCount()  # that row only


def test_a_text_value_in_a_finished_record_makes_its_column_textual() -> None:
    """Found by a break-it pass: only new rows were looked at, so a changed row's text sorted as missing."""
    from snapshots import snapshot, trial

    from tuner_app.gui.trial_model import TrialTableModel

    model = TrialTableModel()
    model.update(snapshot([trial("0", {"units": 64}, [0.5], status="running")]))
    model.update(snapshot([trial("0", {"units": "wide"}, [0.5]), trial("1", {"units": 32}, [0.6])]))
    fresh = TrialTableModel()
    fresh.update(snapshot([trial("0", {"units": "wide"}, [0.5]), trial("1", {"units": 32}, [0.6])]))
    column = model.columns.index("units")
    keys = [model.data(model.index(row, column), SORT_ROLE) for row in range(2)]
    assert keys == ["wide", "32"]  # sorted as text, like a table built from scratch
    assert keys == [fresh.data(fresh.index(row, column), SORT_ROLE) for row in range(2)]
