"""Every family builds and trains for random samples of its space; seed points match the notebook."""

from __future__ import annotations

import keras
import keras_tuner as kt
import numpy as np
import pytest

from search_spaces import FAMILIES, make_hypermodel
from search_spaces._common import OneCycle
from search_spaces.conv import ConvHyperModel
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
        ("dense", {"units_1", "units_2", "adam_learning_rate", "adam_beta_1", "adam_beta_2"}),
        ("weight_decay", {"adam_learning_rate", "adam_beta_1", "adam_beta_2"}),
        ("conv", {"filters_2", "kernel_2", "double_2", "adam_learning_rate", "adam_beta_1"}),
    ],
)
def test_keras_tuner_sees_every_branch_before_the_first_trial(tmp_path, family, branch_only):
    """Hyperparameters of branches the default build does not take (deeper layers, Adam) must be in
    the oracle's space from the start, or the first trial to take that branch runs at defaults."""
    tuner = kt.RandomSearch(
        make_hypermodel(family, "full"), objective="val_accuracy", max_trials=1, directory=str(tmp_path)
    )
    assert branch_only <= {hp.name for hp in tuner.oracle.hyperparameters.space}


def test_one_cycle_rises_linearly_then_falls_to_zero():
    schedule = OneCycle(0.01, 100)
    values = [float(schedule(step)) for step in (0, 10, 25, 50, 75, 100, 120)]
    np.testing.assert_allclose(
        values, [0.0, 0.004, 0.01, 0.01 * 50 / 75, 0.01 * 25 / 75, 0.0, 0.0], atol=1e-7
    )


def start_hyperparameters(hypermodel) -> kt.HyperParameters:
    hp = kt.HyperParameters()
    hp.values.update(hypermodel.START)
    return hp


def test_conv_start_is_the_two_epoch_one_cycle_recipe():
    """conv 24 5x5, pool, ReLU, conv 32 3x3, pool, ReLU, dense 256: 215,194 parameters; Adam with
    betas (0.7, 0.9) peaking at 0.01, batch 256, one-cycle."""
    hypermodel = make_hypermodel("conv")
    model = hypermodel.build(start_hyperparameters(hypermodel))
    assert model.count_params() == 215_194
    convs = [
        (layer.filters, layer.kernel_size) for layer in model.layers if isinstance(layer, keras.layers.Conv2D)
    ]
    assert convs == [(24, (5, 5)), (32, (3, 3))]
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert (optimizer.beta_1, optimizer.beta_2) == (0.7, 0.9)
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    assert ConvHyperModel.START["lr_schedule"] == "one_cycle" and ConvHyperModel.START["batch_size"] == 256


def test_one_cycle_fit_spans_epochs_times_steps_per_epoch(mnist):
    """The schedule is sized from the fit's own data and epochs: 600 images at batch 256 are 3 steps
    an epoch, 6 for 2 epochs, and the rate ends at 0 on the last step."""
    hypermodel = make_hypermodel("conv")
    hp = start_hyperparameters(hypermodel)
    keras.backend.clear_session()
    model = hypermodel.build(hp)
    x = mnist.x_train[:600].astype("float32") / 255.0
    y = mnist.y_train[:600].astype("int32")
    hypermodel.fit(hp, model, x, y, epochs=2, verbose=0)
    schedule = model.optimizer._learning_rate
    assert isinstance(schedule, OneCycle)
    assert schedule.total_steps == 6 and schedule.peak == pytest.approx(0.01)
    assert int(model.optimizer.iterations) == 6
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)


def test_notebook_space_keeps_adams_default_betas():
    hp = kt.HyperParameters()
    model = make_hypermodel("conv", "notebook").build(hp)
    assert all(isinstance(p, kt.engine.hyperparameters.Fixed) for p in hp.space)
    assert (model.optimizer.beta_1, model.optimizer.beta_2) == (0.9, 0.999)


@pytest.mark.slow
def test_conv_start_learns_fast_on_real_digits(mnist):
    """The START recipe on 12,000 real training images, 2 epochs, scored on 3,000 others: a broken
    schedule (rate stuck at 0, or never decaying from 0.01) or a wrong architecture lands far lower."""
    hypermodel = make_hypermodel("conv")
    hp = start_hyperparameters(hypermodel)
    keras.utils.set_random_seed(0)
    model = hypermodel.build(hp)
    x = mnist.x_train.astype("float32") / 255.0
    y = mnist.y_train.astype("int32")
    history = hypermodel.fit(
        hp, model, x[:12_000], y[:12_000], epochs=2, verbose=0, validation_data=(x[-3000:], y[-3000:])
    )
    assert history.history["val_accuracy"][-1] >= 0.97


class WeightsAtEpochEnd(keras.callbacks.Callback):
    """What KerasTuner's checkpoint callback sees: the weights at each epoch's end."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(keras.ops.convert_to_numpy(self.model.trainable_weights[0]).copy())


def test_ema_validates_and_checkpoints_the_average_then_trains_on(mnist):
    """With `ema`, validation and the epoch-end checkpoint see the averaged weights; training goes on
    from the raw ones, and the model fit returns holds the average."""
    hypermodel = make_hypermodel("conv")
    hp = start_hyperparameters(hypermodel)
    hp.values["ema"] = True
    keras.backend.clear_session()
    model = hypermodel.build(hp)
    assert model.optimizer.use_ema and model.optimizer.ema_momentum == pytest.approx(0.999)
    x = mnist.x_train[:2048].astype("float32") / 255.0
    y = mnist.y_train[:2048].astype("int32")
    initial = keras.ops.convert_to_numpy(model.trainable_weights[0]).copy()
    probe = WeightsAtEpochEnd()
    raw_after_epoch = []

    class RawAtNextEpoch(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            raw_after_epoch.append(keras.ops.convert_to_numpy(self.model.trainable_weights[0]).copy())

    hypermodel.fit(
        hp, model, x, y, epochs=2, verbose=0, validation_data=(x[:128], y[:128]),
        callbacks=[probe, RawAtNextEpoch()],
    )  # fmt: skip
    average = keras.ops.convert_to_numpy(model.optimizer._model_variables_moving_average[0])
    np.testing.assert_allclose(probe.seen[-1], average, rtol=1e-6)  # checkpointed: the average
    assert not np.allclose(raw_after_epoch[1], probe.seen[0])  # epoch 2 started from the raw weights
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.trainable_weights[0]), average, rtol=1e-6)
    # Warm-up: 8 steps an epoch, so epoch 1 averages at momentum 0.75 (not 0.999, which would leave
    # the average next to the initial weights) and epoch 2 at 0.875.
    first_average, raw_end_of_first = probe.seen[0], raw_after_epoch[1]
    assert np.linalg.norm(first_average - raw_end_of_first) < np.linalg.norm(first_average - initial)
    assert float(keras.ops.convert_to_numpy(model.optimizer.ema_momentum)) == pytest.approx(0.875)


@pytest.mark.parametrize(
    ("family", "point"),
    [(f, "START") for f in sorted(FAMILIES)] + [("conv", "LONG_RECIPE")],
)
def test_known_points_lie_inside_the_space(tmp_path, family, point):
    """A start point value the space does not allow is silently replaced by the default
    (tuner_app.start_point): every value of each known point must survive as given."""
    from tuner_app.start_point import start_values

    hypermodel = make_hypermodel(family)
    values = dict(getattr(hypermodel, point))
    tuner = kt.RandomSearch(hypermodel, objective="val_accuracy", max_trials=1, directory=str(tmp_path))
    space = tuner.oracle.hyperparameters.copy()
    hp = space.copy()
    hp.values.update(values)
    hypermodel.build(hp)  # declares what the point's branches reach
    space.merge(hp.space)
    chosen = start_values(space, values)
    assert {k: chosen[k] for k in values} == values
    active = {p.name for p in hp.space if hp.is_active(p)}
    assert active <= set(values), f"{point} leaves {sorted(active - set(values))} to defaults"


def test_long_recipe_is_the_99_6_recipe():
    hypermodel = make_hypermodel("conv")
    hp = kt.HyperParameters()
    hp.values.update(ConvHyperModel.LONG_RECIPE)
    model = hypermodel.build(hp)
    assert len([la for la in model.layers if isinstance(la, keras.layers.Conv2D)]) == 4
    assert len([la for la in model.layers if isinstance(la, keras.layers.BatchNormalization)]) == 5
    assert any(isinstance(la, keras.layers.RandomRotation) for la in model.layers)
    assert model.optimizer.use_ema


def test_dense_start_is_the_dropout_mlp_recipe():
    """3x1024 with dropout 0.3 and max-norm 3 on the hidden kernels, trained on augmented images;
    the notebook's 64-64 point has none of these."""
    hypermodel = make_hypermodel("dense")
    model = hypermodel.build(start_hyperparameters(hypermodel))
    hidden = [la for la in model.layers if isinstance(la, keras.layers.Dense)][:-1]
    assert [la.units for la in hidden] == [1024, 1024, 1024]
    assert all(isinstance(la.kernel_constraint, keras.constraints.MaxNorm) for la in hidden)
    assert [la.rate for la in model.layers if isinstance(la, keras.layers.Dropout)] == [0.3, 0.3, 0.3]
    assert any(isinstance(la, keras.layers.RandomTranslation) for la in model.layers)
    notebook = make_hypermodel("dense", "notebook")
    plain = notebook.build(notebook.notebook_hyperparameters())
    assert not any(
        isinstance(la, (keras.layers.Dropout, keras.layers.RandomTranslation)) for la in plain.layers
    )
    assert all(la.kernel_constraint is None for la in plain.layers if isinstance(la, keras.layers.Dense))


def test_long_searches_try_the_long_recipe_second():
    conv = make_hypermodel("conv")
    assert conv.starting_points(2) == [ConvHyperModel.START]
    assert conv.starting_points(15) == [ConvHyperModel.START, ConvHyperModel.LONG_RECIPE]
    assert make_hypermodel("dense").starting_points(40) == [make_hypermodel("dense").START]


@pytest.mark.parametrize("family", ["dense", "conv"])
def test_augmentation_trains_only(family, mnist):
    """`augment` changes training inputs, never predictions: the same images twice give the same
    probabilities, while the first augmentation layer in training mode moves pixels."""
    hypermodel = make_hypermodel(family)
    hp = start_hyperparameters(hypermodel)
    hp.values["augment"] = True
    model = hypermodel.build(hp)
    assert any(isinstance(layer, keras.layers.RandomTranslation) for layer in model.layers)
    x = mnist.x_test[:8].astype("float32") / 255.0
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    moved = keras.ops.convert_to_numpy(model.layers[2](x[..., None], training=True))
    assert moved.shape == (8, 28, 28, 1) and not np.allclose(moved[..., 0], x)
