"""The window tells a live search from a dead one, shows a failed test evaluation and the log's
problems, loads a moved project's own model, and refuses a folder another search holds."""

from __future__ import annotations

import shutil
from pathlib import Path

from tuner_app.events import Event
from tuner_app.project_lock import ProjectLock
from tuner_app.results import RESULTS_FILE, ResultsWriter


def running_log(folder: Path) -> Path:
    writer = ResultsWriter(folder)
    writer.append(Event.SEARCH_STARTED, config={"family": "dense", "max_trials": 3}, device="CPU")
    writer.append(Event.TRIAL_STARTED, trial_id="0", hyperparameters={"units": 32})
    return folder


def test_a_search_whose_process_is_gone_is_not_shown_as_running(window, tmp_path) -> None:
    project = running_log(tmp_path / "killed")
    assert window.open_project(project)
    assert "not running" in window.state_label.text() and "resume" in window.state_label.text()
    assert window.table_model.data(window.table_model.index(0, 1)) == "interrupted"
    with ProjectLock(project):  # a live process holds it: then the log's "running" is true
        window.follower.poll()
        assert window.state_label.text().startswith("Search running")
        assert window.table_model.data(window.table_model.index(0, 1)) == "running"
    window.follower.poll()
    assert "not running" in window.state_label.text()


def test_failed_test_evaluation_and_log_problems_are_shown(window, qtbot, tmp_path) -> None:
    project = running_log(tmp_path / "p")
    writer = ResultsWriter(project)
    writer.append(Event.TEST_FAILED, trial_id="0", error="OSError: checkpoint unreadable")
    writer.append(Event.SEARCH_FINISHED, state="finished", reason="all trials done")
    with open(project / RESULTS_FILE, "a") as handle:
        handle.write("[1, 2, 3]\n")
    assert window.open_project(project)
    qtbot.waitUntil(lambda: "test evaluation FAILED" in window.state_label.text(), timeout=5000)
    assert "1 problem(s) in the log" in window.state_label.text()
    details = window.state_label.toolTip()
    assert "checkpoint unreadable" in details and "unreadable line" in details


def test_a_moved_project_loads_its_own_best_model(window, qtbot, tmp_path, cli_project) -> None:
    moved = tmp_path / "moved"
    shutil.copytree(cli_project, moved)
    assert window.open_project(moved)
    qtbot.waitUntil(lambda: window.pad_panel.model is not None, timeout=60_000)
    assert Path(window.pad_panel.model_source) == moved / "best_model.keras"


def test_the_form_refuses_a_folder_another_search_holds(window, tmp_path) -> None:
    project = tmp_path / "held"
    with ProjectLock(project, "chief"):
        window.form.project.setText(str(project))
        assert window.form.build_config() is None
        assert "in use by another search" in window.form.visible_errors()["project"]
    assert window.form.build_config() is not None, "free again once the holder let go"
