"""Our oracles are KerasTuner's, subclassed as KerasTuner shows: the start point, and a chief's
record of its workers. Real oracles and tuners, no training."""

from __future__ import annotations

import dataclasses

import keras_tuner as kt
import pytest

from search_spaces.dense import DenseHyperModel
from tuner_app.budget import Budget
from tuner_app.config import SearchConfig
from tuner_app.device import Device
from tuner_app.oracles import (
    ChiefGridSearchOracle,
    ChiefHyperbandOracle,
    ChiefMixin,
    ChiefRandomSearchOracle,
    ResumableGridSearchOracle,
    StartingBayesianOptimizationOracle,
    StartingRandomSearchOracle,
    make_oracle,
)
from tuner_app.results_writer import ResultsWriter
from tuner_app.tuner_factory import build_tuner
from tuner_app.tuners import RecordingHyperband, RecordingTuner


def space() -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.Int("units", 1, 1000)
    hp.Choice("optimizer", ["sgd", "adam"])
    return hp


@pytest.mark.parametrize("cls", [StartingRandomSearchOracle, StartingBayesianOptimizationOracle])
def test_the_first_trial_of_a_fresh_search_is_the_start_point_then_the_oracle_searches(cls, tmp_path):
    oracle = cls(
        objective="val_accuracy", max_trials=5, hyperparameters=space(), seed=3, starts=[{"units": 7}]
    )
    oracle._set_project_dir(str(tmp_path), "kt")
    first = oracle.create_trial("main")
    assert first.hyperparameters.values == {"units": 7, "optimizer": "sgd"}  # unnamed: the default
    first.status = "COMPLETED"
    oracle.update_trial(first.trial_id, {"val_accuracy": 0.5})
    oracle.end_trial(first)
    second = oracle.create_trial("main")
    assert second.hyperparameters.values != first.hyperparameters.values
    assert "populate_space" not in vars(oracle), "no instance patching: the class overrides it"


def test_a_resumed_oracle_does_not_go_back_to_the_start_point(tmp_path):
    def oracle() -> StartingRandomSearchOracle:
        made = StartingRandomSearchOracle(
            objective="val_accuracy", max_trials=5, hyperparameters=space(), seed=3, starts=[{"units": 7}]
        )
        made._set_project_dir(str(tmp_path), "kt")
        return made

    first = oracle()
    trial = first.create_trial("main")
    trial.status = "COMPLETED"
    first.update_trial(trial.trial_id, {"val_accuracy": 0.5})
    first.end_trial(trial)
    first.save()  # KerasTuner's tuner saves again after end_trial (which saves before it pops the trial)
    again = oracle()
    again.reload()
    assert again.create_trial("other").hyperparameters.get("units") != 7


def test_make_oracle_picks_the_class_for_role_and_algorithm():
    assert type(make_oracle("random", chief=True, objective="val_accuracy", max_trials=2)) is (
        ChiefRandomSearchOracle
    )
    assert type(make_oracle("hyperband", chief=True, objective="val_accuracy", max_epochs=2)) is (
        ChiefHyperbandOracle
    )
    plain = make_oracle(
        "hyperband", chief=False, starts=[{"units": 7}], objective="val_accuracy", max_epochs=2
    )
    assert type(plain) is kt.oracles.HyperbandOracle, "Hyperband's brackets choose their own trials"


@pytest.mark.parametrize(
    ("changes", "oracle_class", "tuner_class", "starts"),
    [
        ({}, StartingRandomSearchOracle, RecordingTuner, True),
        ({"start_point": False}, StartingRandomSearchOracle, RecordingTuner, False),
        ({"tuner": "bayesian"}, StartingBayesianOptimizationOracle, RecordingTuner, True),
        ({"tuner": "grid"}, ResumableGridSearchOracle, RecordingTuner, False),
        ({"tuner": "hyperband", "max_trials": None}, kt.oracles.HyperbandOracle, RecordingHyperband, False),
        ({"role": "chief"}, ChiefRandomSearchOracle, RecordingTuner, True),
    ],
)
def test_the_engine_builds_its_tuner_around_the_right_oracle(
    tmp_path, changes, oracle_class, tuner_class, starts
):
    config = SearchConfig(family="dense", max_trials=3, epochs=1, project_dir=tmp_path / "p")
    config = dataclasses.replace(config, **changes).validated()
    tuner = build_tuner(config, Device(False, "CPU"), writer=ResultsWriter(tmp_path / "p"), budget=Budget())
    assert type(tuner.oracle) is oracle_class and type(tuner) is tuner_class
    assert isinstance(tuner.oracle, ChiefMixin) is (config.role == "chief")
    assert (getattr(tuner.oracle, "starts", None) == [DenseHyperModel.START]) is starts


def test_later_known_points_follow_the_start_point_in_order(tmp_path):
    oracle = StartingRandomSearchOracle(
        objective="val_accuracy", max_trials=5, hyperparameters=space(), seed=3,
        starts=[{"units": 7}, {"units": 9, "optimizer": "adam"}],
    )  # fmt: skip
    oracle._set_project_dir(str(tmp_path), "kt")
    values = []
    for _ in range(3):
        trial = oracle.create_trial("main")
        values.append(trial.hyperparameters.values)
        trial.status = "COMPLETED"
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
        oracle.end_trial(trial)
    assert values[:2] == [{"units": 7, "optimizer": "sgd"}, {"units": 9, "optimizer": "adam"}]
    assert values[2] not in values[:2]


def test_a_long_conv_search_is_built_to_try_the_long_recipe_second(tmp_path):
    from search_spaces.conv import ConvHyperModel

    config = SearchConfig(family="conv", epochs=15, project_dir=tmp_path / "p").validated()
    tuner = build_tuner(config, Device(False, "CPU"), writer=ResultsWriter(tmp_path / "p"), budget=Budget())
    assert tuner.oracle.starts == [ConvHyperModel.START, *[p for n, p in ConvHyperModel.LATER_STARTS]]


def _grid_space() -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.Choice("a", [1, 2, 3])
    hp.Choice("b", ["x", "y"])
    return hp


def _walk(oracle: kt.Oracle, count: int) -> list[dict]:
    """Run up to `count` trials one after another (each completed at once); their values."""
    seen = []
    for _ in range(count):
        trial = oracle.create_trial("main")
        if trial.status == "STOPPED":
            break
        seen.append(dict(trial.hyperparameters.values))
        trial.status = "COMPLETED"
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
        oracle.end_trial(trial)
        oracle.save()  # as KerasTuner's tuner does after each trial
    return seen


@pytest.mark.parametrize("cls", [ResumableGridSearchOracle, ChiefGridSearchOracle])
@pytest.mark.parametrize("stop_after", [1, 2, 4])
def test_a_resumed_grid_search_goes_on_where_it_stopped(cls, stop_after, tmp_path):
    def oracle(folder) -> kt.Oracle:
        made = cls(objective="val_accuracy", max_trials=100, hyperparameters=_grid_space())
        made._set_project_dir(str(folder), "kt")
        return made

    whole = _walk(oracle(tmp_path / "whole"), 100)
    assert len(whole) == 6 and len({tuple(v.items()) for v in whole}) == 6  # the grid, once each
    first = oracle(tmp_path / "split")
    before = _walk(first, stop_after)
    again = oracle(tmp_path / "split")
    again.reload()
    after = _walk(again, 100)
    assert before + after == whole  # same combinations, same order, none twice, none left out
    assert _walk(again, 1) == []  # and a finished grid stays finished
