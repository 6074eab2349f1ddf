"""Dense networks: 1-3 hidden layers of 32-512 units, activation, dropout, optimizer, batch size.

Space: `num_layers` 1-3; `units_i` 32-512 (step 32); `activation` relu/gelu/tanh; `dropout`
0-0.5; `optimizer` SGD with momentum (learning rate 1e-3..0.3, log) or Adam (1e-4..1e-2, log);
`lr_schedule` constant or cosine; `batch_size` 64-512.
Seed point: the notebook's Flatten-64-64-10 relu, SGD 0.1, batch 128 (55,050 parameters).
"""

from __future__ import annotations

import keras
import keras_tuner as kt

from search_spaces._common import MnistHyperModel


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

    #: Tried first by random and Bayesian searches (tuner_app.start_point): 3x512, dropout 0.3, Adam
    #: with cosine decay reached 98.52 % test in 40 epochs on this machine (docs/design.md).
    START = {
        "num_layers": 3,
        "units_0": 512,
        "units_1": 512,
        "units_2": 512,
        "activation": "relu",
        "dropout": 0.3,
        "optimizer": "adam",
        "adam_learning_rate": 1e-3,
        "adam_beta_1": 0.9,
        "adam_beta_2": 0.999,
        "lr_schedule": "cosine",
        "batch_size": 128,
    }

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        space = self.space_for(hp)
        num_layers = space.get("num_layers", lambda: hp.Int("num_layers", 1, 3))
        activation = space.get("activation", lambda: hp.Choice("activation", ["relu", "gelu", "tanh"]))
        dropout = space.get("dropout", lambda: hp.Float("dropout", 0.0, 0.5, step=0.1))
        inputs = keras.Input(shape=(28, 28), name="image")
        x = keras.layers.Flatten()(inputs)
        widths = []
        # Every layer's width is declared (conditional on the depth) even when this trial is
        # shallower: KerasTuner samples only hyperparameters it has seen declared.
        for i in range(num_layers if self.space == "notebook" else 3):
            with hp.conditional_scope("num_layers", list(range(i + 1, 4))):
                widths.append(space.get(f"units_{i}", lambda i=i: hp.Int(f"units_{i}", 32, 512, step=32)))
        for units in widths[:num_layers]:
            x = keras.layers.Dense(units, activation=activation)(x)
            if dropout:
                x = keras.layers.Dropout(dropout)(x)
        outputs = keras.layers.Dense(10, activation="softmax", name="digit")(x)
        model = keras.Model(inputs, outputs, name="dense")
        return self.compile(model, space)
