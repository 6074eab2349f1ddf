"""Every family builds and trains for random samples of its space; seed points match the notebook."""

from __future__ import annotations

import keras
import keras_tuner as kt
import numpy as np
import pytest

from search_spaces import FAMILIES, make_hypermodel
from search_spaces.weight_decay import NOTEBOOK_L2_GRID

SAMPLES = 20


def sample_values(hypermodel, seed: int) -> kt.HyperParameters:
    """A random point of the space, drawn the way KerasTuner's random oracle draws it."""
    oracle = kt.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=1, seed=seed)
    hp = kt.HyperParameters()
    hypermodel.build(hp)  # registers the space (conditional parts as defaults)
    rng = np.random.default_rng(seed)
    for _ in range(3):  # conditional hyperparameters appear once their parents are drawn
        for param in hp.space:
            if hp.is_active(param):
                hp.values[param.name] = param.random_sample(int(rng.integers(1 << 30)))
        hypermodel.build(hp)
    del oracle
    return hp


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_builds_and_trains_across_its_space(family, mnist):
    hypermodel = make_hypermodel(family)
    x = mnist.x_train[:32].astype("float32") / 255.0
    y = mnist.y_train[:32].astype("int32")
    seen = set()
    for seed in range(SAMPLES):
        hp = sample_values(hypermodel, seed)
        keras.backend.clear_session()
        model = hypermodel.build(hp)
        history = hypermodel.fit(hp, model, x, y, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0]) or hp.get("optimizer") == "sgd"
        probabilities = model.predict(x[:4], verbose=0)
        assert probabilities.shape == (4, 10)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-3)
        seen.add(tuple(sorted((k, str(v)) for k, v in hp.values.items())))
    assert len(seen) >= SAMPLES - 2, "random samples should differ"


@pytest.mark.parametrize(
    ("family", "parameters"), [("dense", 55_050), ("weight_decay", 545_810), ("conv", 65_642)]
)
def test_seed_point_is_the_notebooks_model(family, parameters):
    hypermodel = make_hypermodel(family, "notebook")
    model = hypermodel.build(hypermodel.notebook_hyperparameters())
    assert model.count_params() == parameters


def test_seed_space_fixes_everything_but_the_weight_decay_grid():
    dense = kt.HyperParameters()
    make_hypermodel("dense", "notebook").build(dense)
    assert all(isinstance(p, kt.engine.hyperparameters.Fixed) for p in dense.space)
    grid = kt.HyperParameters()
    make_hypermodel("weight_decay", "notebook").build(grid)
    l2 = grid.get_hp("l2") if hasattr(grid, "get_hp") else next(p for p in grid.space if p.name == "l2")
    assert tuple(l2.values) == NOTEBOOK_L2_GRID
    np.testing.assert_allclose(np.diff(np.log10(NOTEBOOK_L2_GRID)), 0.75, rtol=1e-5)


def test_weight_decay_puts_l2_on_hidden_kernels_only():
    hypermodel = make_hypermodel("weight_decay")
    hp = kt.HyperParameters()
    hp.values["l2"] = 1e-4
    model = hypermodel.build(hp)
    regularized = [layer.name for layer in model.layers if getattr(layer, "kernel_regularizer", None)]
    assert len(regularized) == 2


def test_unknown_family_names_the_choices():
    with pytest.raises(KeyError, match="dense, weight_decay, conv"):
        make_hypermodel("resnet")


@pytest.mark.parametrize(
    ("family", "branch_only"),
    [
        ("dense", {"units_1", "units_2", "adam_learning_rate"}),
        ("weight_decay", {"adam_learning_rate"}),
        ("conv", {"filters_2", "kernel_2", "double_2", "adam_learning_rate"}),
    ],
)
def test_keras_tuner_sees_every_branch_before_the_first_trial(tmp_path, family, branch_only):
    """Hyperparameters of branches the default build does not take (deeper layers, Adam) must be in
    the oracle's space from the start, or the first trial to take that branch runs at defaults."""
    tuner = kt.RandomSearch(
        make_hypermodel(family, "full"), objective="val_accuracy", max_trials=1, directory=str(tmp_path)
    )
    assert branch_only <= {hp.name for hp in tuner.oracle.hyperparameters.space}
