"""Dense networks: 1-3 hidden layers of 32-1024 units, activation, dropout, optimizer, batch size.

Space: `num_layers` 1-3; `units_i` 32-1024 (step 32); `activation` relu/gelu/tanh; `dropout` 0-0.5
after each hidden layer; `input_dropout` 0/0.1/0.2 on the pixels; `max_norm` none/2/3/4 on each
hidden unit's incoming weights; `augment` (the conv family's rotation, translation and zoom);
`optimizer` SGD with momentum (learning rate 1e-3..0.3, log) or Adam (1e-4..1e-2, log, and its
betas); `lr_schedule` constant, cosine or one-cycle; `batch_size` 64-512.
Seed point: the notebook's Flatten-64-64-10 relu, SGD 0.1, batch 128 (55,050 parameters).
"""

from __future__ import annotations

import keras
import keras_tuner as kt

from search_spaces._common import MnistHyperModel, augmentation

#: Dropout on the pixels (Srivastava et al. 2014 used 0.2) and a max-norm bound on each hidden unit's
#: incoming weights (0 = none; they used 3-4): the dropout-MLP recipe that reaches 98.9-99.0 %.
INPUT_DROPOUT = [0.0, 0.1, 0.2]
MAX_NORM = [0.0, 2.0, 3.0, 4.0]


class DenseHyperModel(MnistHyperModel):
    NOTEBOOK = {
        "num_layers": 2,
        "units_0": 64,
        "units_1": 64,
        "activation": "relu",
        "dropout": 0.0,
        "optimizer": "sgd",
        "sgd_learning_rate": 0.1,
        "momentum": 0.0,
        "lr_schedule": "constant",
        "batch_size": 128,
    }

    #: Tried first by random and Bayesian searches (tuner_app.start_point): 3x1024 with dropout 0.3,
    #: max-norm 3, the conv family's augmentation, Adam one-cycle to 1e-3, batch 256: 99.11 % validation,
    #: 99.06 % test after 50 epochs through the engine (benchmarks/results/dense_recipe_augment.md).
    #: Without augmentation the dropout MLP stopped at 98.72 % test (40 epochs, input dropout 0.2,
    #: dropout 0.5; dense_recipe.md) and 98.68 % (60 epochs at 3e-3; dense_recipe_lr3e-3.md).
    START = {
        "num_layers": 3,
        "units_0": 1024,
        "units_1": 1024,
        "units_2": 1024,
        "activation": "relu",
        "dropout": 0.3,
        "input_dropout": 0.0,
        "max_norm": 3.0,
        "augment": True,
        "optimizer": "adam",
        "adam_learning_rate": 1e-3,
        "adam_beta_1": 0.9,
        "adam_beta_2": 0.999,
        "lr_schedule": "one_cycle",
        "batch_size": 256,
    }

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        space = self.space_for(hp)
        num_layers = space.get("num_layers", lambda: hp.Int("num_layers", 1, 3))
        activation = space.get("activation", lambda: hp.Choice("activation", ["relu", "gelu", "tanh"]))
        dropout = space.get("dropout", lambda: hp.Float("dropout", 0.0, 0.5, step=0.1))
        input_dropout = space.get("input_dropout", lambda: hp.Choice("input_dropout", INPUT_DROPOUT), 0.0)
        max_norm = space.get("max_norm", lambda: hp.Choice("max_norm", MAX_NORM), 0.0)
        constraint = keras.constraints.MaxNorm(max_norm) if max_norm else None
        augment = space.get("augment", lambda: hp.Boolean("augment"), False)
        inputs = keras.Input(shape=(28, 28), name="image")
        x = inputs
        if augment:
            x = augmentation(keras.layers.Reshape((28, 28, 1))(x))
        x = keras.layers.Flatten()(x)
        if input_dropout:
            x = keras.layers.Dropout(input_dropout)(x)
        widths = []
        # Every layer's width is declared (conditional on the depth) even when this trial is
        # shallower: KerasTuner samples only hyperparameters it has seen declared.
        for i in range(num_layers if self.space == "notebook" else 3):
            with hp.conditional_scope("num_layers", list(range(i + 1, 4))):
                widths.append(space.get(f"units_{i}", lambda i=i: hp.Int(f"units_{i}", 32, 1024, step=32)))
        for units in widths[:num_layers]:
            x = keras.layers.Dense(units, activation=activation, kernel_constraint=constraint)(x)
            if dropout:
                x = keras.layers.Dropout(dropout)(x)
        outputs = keras.layers.Dense(10, activation="softmax", name="digit")(x)
        model = keras.Model(inputs, outputs, name="dense")
        return self.compile(model, space)
