"""The analysis views' data on hand-built snapshots: values, not pixels."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from tests.snapshots import snapshot, trial
from tuner_app import trial_analysis as ta

SPACE = ta.parse_space(
    [
        {
            "class_name": "Float",
            "config": {"name": "lr", "min_value": 1e-4, "max_value": 1e-1, "sampling": "log"},
        },
        {"class_name": "Choice", "config": {"name": "act", "values": ["relu", "tanh"], "ordered": False}},
        {"class_name": "Choice", "config": {"name": "batch", "values": [64, 128, 256], "ordered": True}},
        {
            "class_name": "Int",
            "config": {"name": "units", "min_value": 32, "max_value": 512, "sampling": "linear"},
        },
    ]
)


def _search(count: int = 30, seed: int = 0):
    """The score depends on lr only (peak at 1e-2), plus a little noise; units exist on half."""
    rng = random.Random(seed)
    trials = []
    for i in range(count):
        lr = 10 ** rng.uniform(-4, -1)
        hps = {"lr": lr, "act": rng.choice(["relu", "tanh"]), "batch": rng.choice([64, 128, 256])}
        if i % 2:
            hps["units"] = rng.choice([32, 256, 512])
        score = 0.95 - 0.1 * abs(math.log10(lr) + 2) + rng.uniform(-0.002, 0.002)
        trials.append(trial(f"{i:02d}", hps, [score - 0.1, score]))
    return snapshot(trials)


def test_space_from_keras_tuner_record() -> None:
    assert SPACE["lr"].log and not SPACE["lr"].categorical and SPACE["lr"].low == 1e-4
    assert SPACE["act"].categorical and SPACE["act"].values == ("relu", "tanh")
    assert not SPACE["batch"].categorical  # an ordered numeric choice is an axis of numbers


def test_read_space_from_a_real_project(finished_project: Path) -> None:
    space = ta.read_space(finished_project)
    assert space and any(info.log for info in space.values())  # learning rates sample on a log scale


def test_parallel_coordinates_positions() -> None:
    search = snapshot(
        [
            trial("0", {"lr": 1e-4, "act": "tanh", "batch": 64}, [0.8]),
            trial("1", {"lr": 1e-2, "act": "relu", "batch": 256, "units": 512}, [0.9]),
            trial("2", {"lr": 1e-3}, [0.5], status="failed"),
        ]
    )
    data = ta.parallel_coordinates(search, SPACE)
    assert [a.name for a in data.axes] == ["lr", "act", "batch", "units", "val. accuracy"]
    assert [line.trial_id for line in data.lines] == ["0", "1"]  # completed only, worst first
    first, second = data.lines
    assert first.positions == (0.0, 1.0, 0.0, None, 0.0)
    assert second.positions[0] == pytest.approx(2 / 3)  # log10: -2 is two thirds from -4 to -1
    assert second.positions[1:] == (0.0, 1.0, 1.0, 1.0)
    assert ta.trials_in_range(data, 0, 0.5, 1.0) == ["1"]
    assert data.axes[1].ticks == ((0.0, "relu"), (1.0, "tanh"))


def test_importance_finds_the_hyperparameter_that_matters() -> None:
    result = ta.importance(_search(), SPACE)
    assert result.note is None and result.trials == 30
    assert result.names[0] == "lr" and result.values[0] > 0.6
    assert sum(result.values) == pytest.approx(1.0)
    assert "permutation importance" in result.method and "random forest" in result.method


def test_importance_states_its_minimum() -> None:
    result = ta.importance(_search(ta.MIN_TRIALS_FOR_IMPORTANCE - 1), SPACE)
    assert (
        result.names == () and result.note == f"needs {ta.MIN_TRIALS_FOR_IMPORTANCE} completed trials, has 7"
    )


def test_slices_use_log_axes_where_the_space_does() -> None:
    by_name = {s.name: s for s in ta.slices(_search(6), SPACE)}
    assert by_name["lr"].log and not by_name["batch"].log
    assert by_name["act"].categories == ("relu", "tanh") and set(by_name["act"].x) <= {0.0, 1.0}
    assert len(by_name["units"].x) == 3  # only the trials that have it
    assert len(by_name["lr"].y) == 6


def test_inferred_space_without_a_record() -> None:
    search = snapshot(
        [trial("0", {"lr": 1e-4, "opt": "sgd"}, [0.8]), trial("1", {"lr": 1e-1, "opt": "adam"}, [0.9])]
    )
    space = ta.space_for(search)
    assert space["lr"].log and space["opt"].values == ("sgd", "adam")


def test_pruned_trials_are_left_out_of_importance_and_marked() -> None:
    import dataclasses

    from tuner_app.gui.trial_model import trial_details

    search = _search(ta.MIN_TRIALS_FOR_IMPORTANCE)
    pruned = dataclasses.replace(search.trials[0], pruned_at_epoch=1)
    search = dataclasses.replace(search, trials=(pruned, *search.trials[1:]))
    result = ta.importance(search, SPACE)
    assert result.note == f"needs {ta.MIN_TRIALS_FOR_IMPORTANCE} completed trials, has 7"
    assert "median rule at epoch 1" in trial_details(pruned)
