"""A tiny real search started from the form fills the table and curves; another one is stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuner_app.results import read_results

pytestmark = pytest.mark.slow  # real searches (see the slow marker in pyproject.toml)


def start(window, project: Path, trials: int, epochs: int) -> None:
    form = window.form
    form.family.setCurrentText("dense")
    form.tuner.setCurrentText("random")
    form.max_trials.setText(str(trials))
    form.epochs.setText(str(epochs))
    form.subset.setText("2000")
    form.project.setText(str(project))
    form.start_button.click()
    assert form.visible_errors() == {}
    assert window.search_runner is not None and not form.start_button.isEnabled()


def test_search_from_the_form_fills_table_and_curves(window, qtbot, tmp_path: Path, dialogs) -> None:
    project = tmp_path / "gui-search"
    start(window, project, trials=2, epochs=1)
    qtbot.waitUntil(lambda: window.search_runner is None, timeout=180_000)
    assert dialogs == []
    qtbot.waitUntil(lambda: window.snapshot is not None and window.snapshot.state == "finished", timeout=5000)
    assert window.table_model.rowCount() == 2
    assert {window.table_model.trial_at(r).status for r in range(2)} == {"completed"}
    window.curves.flush()
    assert window.curves.figure.axes and window.curves.figure.axes[0].lines
    assert window.curves.renders >= 2  # drawn while the search ran, not only at the end
    assert len(read_results(project).completed()) == 2  # the table shows what the store holds
    assert window.form.start_button.isEnabled()
    # best model picked up when the engine saved it (loaded in a ModelLoader thread)
    qtbot.waitUntil(lambda: window.pad_panel.model is not None, timeout=60_000)


@pytest.mark.parametrize("engine", ["process", "thread"])
def test_stop_keeps_finished_trials(window, qtbot, tmp_path: Path, dialogs, monkeypatch, engine: str) -> None:
    monkeypatch.setenv("TUNER_APP_ENGINE", engine)  # child process (default) and in-process QThread
    project = tmp_path / "gui-stop"
    start(window, project, trials=50, epochs=3)
    qtbot.waitUntil(
        lambda: window.snapshot is not None and any(t.epochs_done for t in window.snapshot.trials),
        timeout=120_000,
    )
    window.form.stop_button.click()
    qtbot.waitUntil(lambda: window.search_runner is None, timeout=120_000)
    assert dialogs == []
    snapshot = read_results(project)
    assert snapshot.state == "stopped" and "user" in (snapshot.reason or "")
    assert len(snapshot.trials) < 50
    assert window.table_model.rowCount() == len(snapshot.trials)
    assert "stopped" in window.state_label.text()


def test_engine_errors_become_a_dialog(window, qtbot, tmp_path: Path, dialogs) -> None:
    from tuner_app.config import SearchConfig

    form = window.form  # the form refuses subset 5 itself (tests/gui/test_form.py): bypass it
    config = SearchConfig(max_trials=1, epochs=1, subset=5, project_dir=tmp_path / "tiny").validated()
    window.start_search(config)
    qtbot.waitUntil(lambda: window.search_runner is None, timeout=120_000)
    assert len(dialogs) == 1
    title, message = dialogs[0]
    assert title == "Search failed" and "--subset 5" in message and "Traceback" not in message
    assert form.start_button.isEnabled()
