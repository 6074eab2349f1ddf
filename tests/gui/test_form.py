"""The launch form checks every field at once with the core's rules, in its own words, before
anything starts; opening a project fills it; a failed start keeps the project that was open."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tuner_app.config import SearchConfig
from tuner_app.gui.launch_form import LaunchForm, format_limit, new_project_dir
from tuner_app.launch_checks import data_size_problem, launch_problems


def test_launch_problems_finds_every_bad_setting(tmp_path: Path) -> None:
    config = SearchConfig(max_trials=0, epochs=-1, executions=0, subset=5, project_dir=tmp_path / "new")
    problems = launch_problems(config)
    assert set(problems) == {"max_trials", "epochs", "executions", "subset"}
    assert "at least 10" in problems["subset"]
    assert launch_problems(SearchConfig(max_trials=2, subset=12, project_dir=tmp_path / "new")) == {}


def test_data_size_rule_matches_the_split() -> None:
    assert data_size_problem(None, 10_000, 60_000) is None
    assert data_size_problem(9, 10_000, 60_000) is not None
    assert data_size_problem(10, 10_000, 60_000) is None  # validation 2, training 8
    assert "between 1 and" in (data_size_problem(None, 60_000, 60_000) or "")


def test_data_size_rule_agrees_with_data_split(mnist) -> None:
    """The pure rule and data.split_train_validation refuse the same sizes."""
    from tuner_app.data import DataError, split_train_validation

    for subset, validation in ((5, 100), (10, 100), (50, 100), (None, 59_999)):
        try:
            split_train_validation(mnist, validation, subset)
            refused = False
        except DataError:
            refused = True
        assert refused == (data_size_problem(subset, validation, len(mnist.y_train)) is not None)


def test_subset_5_is_refused_in_the_form_in_its_words(qtbot, tmp_path: Path) -> None:
    form = LaunchForm()
    qtbot.addWidget(form)
    form.subset.setText("5")
    form.executions.setText("0")
    form.project.setText(str(tmp_path / "p"))
    started = []
    form.start_requested.connect(started.append)
    begun = time.perf_counter()
    form.submit()
    assert time.perf_counter() - begun < 1.0  # refused at once, not 95 s later in a child process
    errors = form.visible_errors()
    assert started == [] and set(errors) == {"subset", "executions"}
    assert errors["subset"].startswith("Data subset 5 is too small")
    assert errors["executions"].startswith("Replicates must be")
    assert not any("--" in message for message in errors.values())


def test_a_used_folder_says_what_to_tick(qtbot, cli_project: Path) -> None:
    form = LaunchForm()
    qtbot.addWidget(form)
    form.project.setText(str(cli_project))
    assert form.build_config() is None
    message = form.visible_errors()["project"]
    assert "Tick “resume the search in this folder”" in message and "--" not in message


def test_an_empty_folder_field_gets_a_new_dated_folder(qtbot) -> None:
    form = LaunchForm()
    qtbot.addWidget(form)
    form.max_trials.setText("2")
    config = form.build_config()
    assert config is not None and config.project_dir.parent == new_project_dir("d", "r").parent
    assert config.project_dir.name.startswith("dense-random-")


@pytest.mark.parametrize("seconds", [45, 90, 3600, 5400, 8 * 3600 + 61])
def test_time_limit_reads_back(seconds: int) -> None:
    from tuner_app.config import parse_duration

    assert parse_duration(format_limit(seconds)) == seconds


def test_opening_a_project_fills_the_form(window, cli_project: Path) -> None:
    window.form.family.setCurrentText("conv")
    window.form.epochs.setText("9")
    assert window.open_project(cli_project)
    form = window.form
    assert form.family.currentText() == "dense" and form.max_trials.text() == "2"
    assert form.epochs.text() == "2" and form.subset.text() == "3000"
    assert form.project.text() == str(cli_project) and form.resume.isChecked()


@pytest.mark.slow
def test_a_failed_start_keeps_the_open_project(window, qtbot, cli_project: Path, tmp_path, dialogs) -> None:
    """The engine refuses the data (subset 5 bypasses the form here): a dialog, and the project
    that was open is shown again."""
    window.open_project(cli_project)
    rows = window.table_model.rowCount()
    config = SearchConfig(max_trials=1, epochs=1, subset=5, project_dir=tmp_path / "tiny").validated()
    window.start_search(config)
    qtbot.waitUntil(lambda: window.search_runner is None, timeout=120_000)
    assert len(dialogs) == 1 and dialogs[0][0] == "Search failed" and "Traceback" not in dialogs[0][1]
    qtbot.waitUntil(lambda: window.table_model.rowCount() == rows, timeout=5000)
    assert window.follower.project_dir == cli_project


def test_search_again_like_this_is_one_click(qtbot, cli_project: Path) -> None:
    from tuner_app.results import read_results

    form = LaunchForm()
    qtbot.addWidget(form)
    form.show()
    assert not form.again_button.isVisible()
    form.fill(read_results(cli_project).config, cli_project)
    assert form.again_button.isVisible() and form.start_button.text() == "Start (resume this project)"
    started = []
    form.start_requested.connect(started.append)
    form.again_button.click()
    assert form.visible_errors() == {} and len(started) == 1
    config = started[0]
    assert not config.resume and config.project_dir.parent == new_project_dir("d", "r").parent
    assert (config.family, config.epochs, config.subset, config.max_trials) == ("dense", 2, 3000, 2)
    assert form.start_button.text() == "Start"


def test_pruning_and_backend_are_form_fields_checked_by_the_core(qtbot, tmp_path: Path) -> None:
    form = LaunchForm()
    qtbot.addWidget(form)
    form.project.setText(str(tmp_path / "p"))
    form.tuner.setCurrentText("hyperband")
    form.max_trials.setText("")  # (hyperband counts its own trials)
    form.prune.setChecked(True)
    assert form.build_config() is None
    assert "Hyperband already stops trials early" in form.errors["prune"].text()
    assert "--prune" not in form.errors["prune"].text(), "the form's words, not the flag"

    form.tuner.setCurrentText("random")
    form.max_trials.setText("3")
    form.backend.setCurrentText("tensorflow")
    config = form.build_config()
    assert config is not None and config.prune and config.backend == "tensorflow"

    again = LaunchForm()
    qtbot.addWidget(again)
    again.fill({"family": "conv", "prune": True, "backend": "tensorflow"}, tmp_path / "p")
    assert again.prune.isChecked() and again.backend.currentText() == "tensorflow"
