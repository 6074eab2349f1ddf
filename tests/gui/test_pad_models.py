"""The pad says which model it uses, can use any completed trial's, never silently replaces the
user's pick, and says "not sure" below a stated threshold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.gui.conftest import ROOT
from tuner_app.gui.pad_panel import NOT_SURE_BELOW, answer_text
from tuner_app.results import read_results


def test_not_sure_below_the_threshold() -> None:
    sure = np.array([0.01] * 10)
    sure[7] = 0.91
    assert answer_text(sure) == "It looks like a <b>7</b> (91.0 %)"
    unsure = np.array([0.02] * 10)
    unsure[4], unsure[9] = 0.45, 0.39
    assert unsure[4] < NOT_SURE_BELOW
    assert answer_text(unsure) == "<b>Not sure</b>: maybe a 4 (45 %) or a 9 (39 %)"


def test_any_trial_model_and_the_users_pick_is_kept(window, qtbot, cli_project: Path, project_copy) -> None:
    window.open_project(cli_project)
    panel = window.pad_panel
    qtbot.waitUntil(lambda: panel.model is not None and not window.model_loading(), timeout=60_000)
    snapshot = read_results(cli_project)
    best = snapshot.test["trial_id"]
    assert panel.model_label.text() == f"Model: best model of {cli_project.name} (trial {best})"
    other = next(t for t in snapshot.trials if t.trial_id != best)
    actions = {a.text(): a for a in window.trial_menu(other).actions()}
    use = actions[f"Use trial {other.trial_id}'s model on the pad"]
    assert use.isEnabled()
    use.trigger()
    qtbot.waitUntil(
        lambda: "its checkpoint" in panel.model_label.text() and not window.model_loading(), timeout=60_000
    )
    assert panel.model_label.text() == f"Model: trial {other.trial_id} (its checkpoint)"
    chosen = panel.model
    for stroke in ([(70, 62), (205, 60), (140, 225)], [(120, 140), (200, 138)]):
        panel.pad.draw_polyline(stroke)
    assert panel.probabilities is not None and abs(panel.probabilities.sum() - 1) < 1e-3
    window.open_project(project_copy(cli_project))  # another project with its own best model
    qtbot.wait(300)
    assert not window.model_loading() and panel.model is chosen  # the user's pick stays
    actions = {a.text(): a for a in window.trial_menu(other).actions()}
    actions["Use the project's best model on the pad"].trigger()
    qtbot.waitUntil(lambda: "best model of copy" in panel.model_label.text(), timeout=60_000)


def test_the_pad_uses_the_replicates_ensemble_when_the_best_trial_has_one(window, qtbot, tmp_path) -> None:
    project = tmp_path / "replicates"
    cmd = [sys.executable, "-m", "tuner_app.search", "--family", "dense", "--max-trials", "1"]
    cmd += ["--epochs", "1", "--executions", "2", "--subset", "2000", "--quiet"]
    cmd += ["--project-dir", str(project)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    window.open_project(project)
    panel = window.pad_panel
    qtbot.waitUntil(lambda: panel.model is not None and not window.model_loading(), timeout=60_000)
    assert panel.model_label.text() == f"Model: ensemble of {project.name} (trial 0)"
    assert [layer.name for layer in panel.model.layers][1:3] == ["replicate_1", "replicate_2"]
    ensemble = read_results(project).test["ensemble_test_accuracy"]
    assert f", ensemble {100 * ensemble:.2f} %)" in window.state_label.text()
    panel.pad.draw_polyline([(70, 62), (205, 60), (140, 225)])
    assert panel.probabilities is not None and abs(panel.probabilities.sum() - 1) < 1e-3
