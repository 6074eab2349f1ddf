"""Planned trial counts and the ETA rule shared by the console and the window."""

from __future__ import annotations

import keras_tuner as kt
import pytest

from search_spaces import make_hypermodel
from tuner_app.progress import (
    budget_trial_cap,
    grid_size,
    planned_trials,
    remaining_s,
    total_from_config,
    trial_cap,
)


def declared_space(family: str, space: str) -> list:
    hp = kt.HyperParameters()
    make_hypermodel(family, space).build(hp)
    return hp.space


def test_seed_weight_decay_grid_has_five_points():
    space = declared_space("weight_decay", "notebook")
    assert grid_size(space) == 5
    assert planned_trials("grid", 10, space) == 5
    assert planned_trials("grid", 3, space) == 3  # the cap still applies


def test_continuous_or_conditional_spaces_fall_back_to_the_cap():
    assert grid_size(declared_space("weight_decay", "full")) is None  # log-uniform L2
    hp = kt.HyperParameters()
    hp.Int("layers", 1, 2)
    with hp.conditional_scope("layers", [2]):
        hp.Choice("units_1", [32, 64])
    assert grid_size(hp.space) is None
    assert planned_trials("grid", 7, hp.space) == 7
    assert planned_trials("random", 7, declared_space("dense", "full")) == 7
    assert planned_trials("hyperband", 7, []) is None  # no epochs: no count


@pytest.mark.parametrize("max_epochs", [1, 2, 3, 5, 10, 27])
def test_hyperband_count_matches_keras_tuners_own_oracle(tmp_path, max_epochs):
    """Run KerasTuner's real HyperbandOracle to its end, each trial scored at once, and count."""
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)  # continuous: no collisions cut the search short
    oracle = kt.oracles.HyperbandOracle(
        objective=kt.Objective("score", "max"), max_epochs=max_epochs, hyperparameters=hp, seed=0
    )
    oracle._set_project_dir(str(tmp_path), "hb")
    created = 0
    while (trial := oracle.create_trial("t")).status == "RUNNING":
        created += 1
        oracle.update_trial(trial.trial_id, {"score": trial.hyperparameters.get("x")})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert trial.status == "STOPPED"
    assert planned_trials("hyperband", None, hp.space, max_epochs) == created
    assert planned_trials("hyperband", 4, hp.space, max_epochs) == min(4, created)


def test_grid_counts_steps_and_booleans():
    hp = kt.HyperParameters()
    hp.Int("units", 32, 128, step=32)  # 32, 64, 96, 128
    hp.Boolean("bn")
    hp.Float("dropout", 0.0, 0.5, step=0.1)  # 6 values
    hp.Fixed("batch", 128)
    assert grid_size(hp.space) == 4 * 2 * 6


def test_remaining_time_uses_mean_trial_and_the_time_limit():
    common = dict(elapsed_s=100.0, trial_durations=[10.0, 30.0], total_trials=5)
    assert remaining_s(**common) == pytest.approx(3 * 20.0)
    assert remaining_s(**common, current_trial_s=5.0) == pytest.approx(55.0)
    assert remaining_s(**common, time_limit_s=130.0) == pytest.approx(30.0)
    assert remaining_s(elapsed_s=0.0, trial_durations=[], total_trials=5) is None


def test_total_prefers_the_recorded_plan():
    assert total_from_config({"tuner": "grid", "max_trials": 10}, 5) == 5
    assert total_from_config({"tuner": "random", "max_trials": 10}, None) == 10
    assert total_from_config({"tuner": "hyperband", "max_trials": 10}, None) is None


def test_window_status_counts_the_grid_not_the_cap(tmp_path):
    from tuner_app.gui.status import status_text
    from tuner_app.results import EpochRecord, SearchSnapshot, TrialRecord

    def trial(trial_id: str, start: float, end: float | None) -> TrialRecord:
        curve = (EpochRecord(0, {"val_accuracy": 0.9, "loss": 0.3}),)
        status = "completed" if end else "running"
        return TrialRecord(trial_id, status, {"l2": 1e-6}, (curve,), "main", start, end)

    snapshot = SearchSnapshot(
        project_dir=tmp_path, config={"tuner": "grid", "max_trials": 10}, device="CPU", state="running",
        trials=(trial("00", 0.0, 20.0), trial("01", 20.0, 40.0), trial("02", 40.0, None)),
        started_at=0.0, finished_at=None, reason=None, test=None, planned_trials=5,
    )  # fmt: skip
    text = status_text(snapshot, now=50.0)
    assert "2 completed, 1 running of 5" in text
    assert "ETA 50s" in text  # 3 trials of 20 s left, 10 s of the running one done


def test_hyperband_is_capped_only_by_a_standalone_budget():
    assert trial_cap("hyperband", "standalone", 4) == 4
    assert trial_cap("hyperband", "chief", 4) is None  # no Budget cap in distributed mode
    assert trial_cap("hyperband", "worker", 4) is None
    for tuner in ("random", "bayesian", "grid"):  # their oracle keeps --max-trials in every role
        assert trial_cap(tuner, "chief", 4) == 4
    assert trial_cap("random", "standalone", None) is None
    assert budget_trial_cap("standalone", 4) == 4
    assert budget_trial_cap("chief", 4) is None and budget_trial_cap("worker", 4) is None


@pytest.mark.parametrize("role", ["standalone", "chief", "worker"])
def test_engine_budget_follows_the_same_cap_rule(tmp_path, role):
    """The engine's Budget must be the cap trial_cap assumes for Hyperband (it builds nothing on disk)."""
    from tuner_app.config import SearchConfig
    from tuner_app.engine import SearchEngine

    config = SearchConfig(
        tuner="hyperband", role=role, max_trials=4, project_dir=tmp_path / "p",
        worker_id="w1" if role == "worker" else None,
    )  # fmt: skip
    assert SearchEngine(config).budget.max_trials == trial_cap("hyperband", role, 4)


def test_eta_projects_the_running_trial_from_its_own_epochs():
    """A cheap first trial must not make a costly second one look nearly done."""
    from tuner_app.progress import remaining_s

    old = remaining_s(elapsed_s=260, trial_durations=[20.0], total_trials=2, current_trial_s=240)
    assert old == 0.0  # the mean of earlier trials alone: "ETA 0s"
    new = remaining_s(
        elapsed_s=260, trial_durations=[20.0], total_trials=2, current_trial_s=240, current_trial_total_s=1200
    )
    assert new == 960.0
    assert (
        remaining_s(
            elapsed_s=30, trial_durations=[], total_trials=3, current_trial_s=30, current_trial_total_s=100
        )
        == 70 + 2 * 100
    )
    assert (
        remaining_s(
            elapsed_s=30,
            trial_durations=[],
            total_trials=3,
            current_trial_s=30,
            current_trial_total_s=100,
            time_limit_s=60,
        )
        == 30
    )


def test_window_status_gives_the_best_trials_replicates_on_test(tmp_path):
    from tuner_app.gui.status import status_details, status_text
    from tuner_app.results import SearchSnapshot

    test = {
        "trial_id": "00", "test_accuracy": 0.9847, "test_accuracies": [0.9838, 0.9842, 0.9847],
        "test_losses": [0.06, 0.06, 0.05], "best_model_execution": 2,
    }  # fmt: skip
    snapshot = SearchSnapshot(
        project_dir=tmp_path, config={"tuner": "random", "max_trials": 1}, device="CPU", state="finished",
        trials=(), started_at=0.0, finished_at=10.0, reason="max trials", test=test, planned_trials=None,
    )  # fmt: skip
    text = status_text(snapshot, now=50.0)
    assert "best model test 98.47 %" in text
    assert "(3 replicates 98.42 ± 0.05 %)" in text
    assert "replicate 3 of 3" in status_details(snapshot)
    one = SearchSnapshot(**{**snapshot.__dict__, "test": {"trial_id": "00", "test_accuracy": 0.99}})
    assert "replicates" not in status_text(one, now=50.0)


def test_the_console_eta_when_a_trial_ends_counts_the_trials_left(tmp_path, monkeypatch):
    """It said "ETA 0s" at the end of trial 1 of 2: the finished trial counted as the running one."""
    import io
    import time

    from tuner_app.config import SearchConfig
    from tuner_app.console import ConsoleProgress

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    config = SearchConfig(max_trials=2, epochs=2, project_dir=tmp_path / "p")
    out = io.StringIO()
    progress = ConsoleProgress(config, stream=out)
    progress({"event": "trial_started", "trial_id": "0"})
    clock[0] += 200.0
    progress({"event": "trial_finished", "trial_id": "0", "status": "completed", "score": 0.99})
    assert "done in 3m20s" in out.getvalue() and "ETA 3m20s" in out.getvalue(), out.getvalue()


def test_the_window_eta_projects_the_running_trial_from_its_own_epochs(tmp_path):
    """As the console does: a quick first trial (20 s) must not make a long second one read "ETA 0s"."""
    from tuner_app.gui.status import eta_s
    from tuner_app.results import EpochRecord, SearchSnapshot, TrialRecord

    epoch = EpochRecord(0, {"val_accuracy": 0.9, "loss": 0.3})
    snapshot = SearchSnapshot(
        project_dir=tmp_path, config={"tuner": "random", "max_trials": 2, "epochs": 4, "executions": 1},
        device="CPU", state="running",
        trials=(
            TrialRecord("0", "completed", {}, ((epoch,),), "main", 0.0, 20.0),
            # 1 of 4 epochs, logged 100 s after the trial started
            TrialRecord("1", "running", {}, ((epoch,),), "main", 20.0, None, last_event_at=120.0),
        ),
        started_at=0.0, finished_at=None, reason=None, test=None, planned_trials=2,
    )  # fmt: skip
    assert eta_s(snapshot, now=120.0) == pytest.approx(300.0)  # 3 epochs of 100 s left
    # Between epochs the projection holds still: 30 s later, 30 s less is left (it grew before).
    assert eta_s(snapshot, now=150.0) == pytest.approx(270.0)
