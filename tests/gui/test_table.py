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
