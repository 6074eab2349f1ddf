"""Convolutional networks: 1-3 blocks, dense head, optional augmentation (training only).

Space: `conv_blocks` 1-3; per block `filters_i` 16/24/32/64/128, `kernel_i` 3 or 5, `double_i` (two
"same" convolutions instead of one); `batch_norm` (after every convolution and head layer); max
pooling after each block; `dropout` 0-0.5; `head_layers` 1-2 of `head_units` 64-512; `augment`
(rotation 0.04, translation 0.08, zoom 0.08, which Keras applies only while training); `ema` (an
average of the weights, momentum 0.999, used for validation and the saved model); optimizer (Adam's
betas too), learning rate, schedule (constant, cosine, one-cycle) and batch size.
Known points that reach the issue-11 goals: `START` (99 % validation in 2 epochs) and `LONG_RECIPE`
(99.55-99.63 % test in 15-20 epochs; see its comment).
Seed point: the notebook's two 32-filter 3x3 convolution + pooling blocks and a 64-64 head, Adam
1e-3, batch 128 (the notebook's optimizer for its CNN is assumed; 65,642 parameters).
"""

from __future__ import annotations

import keras
import keras_tuner as kt

from search_spaces._common import MnistHyperModel, augmentation

#: Filter counts per block; 24 is the first block of the two-epoch one-cycle recipe (START).
FILTERS = [16, 24, 32, 64, 128]


class ConvHyperModel(MnistHyperModel):
    OFFERS_EMA = True
    NOTEBOOK = {
        "conv_blocks": 2,
        "filters_0": 32,
        "kernel_0": 3,
        "double_0": False,
        "filters_1": 32,
        "kernel_1": 3,
        "double_1": False,
        "batch_norm": False,
        "dropout": 0.0,
        "head_layers": 2,
        "head_units": 64,
        "augment": False,
        "optimizer": "adam",
        "adam_learning_rate": 1e-3,
        "lr_schedule": "constant",
        "batch_size": 128,
    }

    #: Tried first by random and Bayesian searches (tuner_app.start_point): the two-epoch one-cycle
    #: recipe (tuomaso/train_mnist_fast): conv 24 5x5, pool, ReLU, conv 32 3x3, pool, ReLU, dense
    #: 256; Adam peaking at 0.01 with betas (0.7, 0.9), one-cycle, batch 256. In plain Keras it
    #: reached 99.14 % validation in 2 epochs (about 10 s of training) on the 2-core CPU
    #: (docs/design.md); through the CLI see benchmarks/results/time_to_99.md.
    START = {
        "conv_blocks": 2,
        "filters_0": 24,
        "kernel_0": 5,
        "double_0": False,
        "filters_1": 32,
        "kernel_1": 3,
        "double_1": False,
        "batch_norm": False,
        "dropout": 0.0,
        "head_layers": 1,
        "head_units": 256,
        "augment": False,
        "ema": False,
        "optimizer": "adam",
        "adam_learning_rate": 1e-2,
        "adam_beta_1": 0.7,
        "adam_beta_2": 0.9,
        "lr_schedule": "one_cycle",
        "batch_size": 256,
    }

    #: The 99.6 % recipe (docs/design.md: 99.56 % validation, 99.58 % test after 15 epochs in plain
    #: Keras on the 2-core CPU, about 20 minutes): two blocks of two 3x3 convolutions (32, 64) with
    #: batch norm, dropout 0.3, a 256 head, augmentation, Adam one-cycle to 3e-3, an average of the
    #: weights, batch 128. Through the engine: 99.63 % and 99.55 % test (15 epochs, seeds 0 and 1),
    #: 99.59 % as the second trial of a 20-epoch search (benchmarks/results/conv_long_recipe*.md,
    #: search_conv_long_start.md). Too slow for START (a first trial of ~20 minutes).
    LONG_RECIPE = {
        "conv_blocks": 2,
        "filters_0": 32,
        "kernel_0": 3,
        "double_0": True,
        "filters_1": 64,
        "kernel_1": 3,
        "double_1": True,
        "batch_norm": True,
        "dropout": 0.3,
        "head_layers": 1,
        "head_units": 256,
        "augment": True,
        "ema": True,
        "optimizer": "adam",
        "adam_learning_rate": 3e-3,
        "adam_beta_1": 0.9,
        "adam_beta_2": 0.999,
        "lr_schedule": "one_cycle",
        "batch_size": 128,
    }

    #: A search of 12 or more epochs a trial tries LONG_RECIPE second (`starting_points`, taken by
    #: the engine's tuner factory).
    LATER_STARTS = ((12, LONG_RECIPE),)

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        space = self.space_for(hp)
        blocks = space.get("conv_blocks", lambda: hp.Int("conv_blocks", 1, 3))
        batch_norm = space.get("batch_norm", lambda: hp.Boolean("batch_norm"))
        augment = space.get("augment", lambda: hp.Boolean("augment"))
        inputs = keras.Input(shape=(28, 28), name="image")
        x = keras.layers.Reshape((28, 28, 1))(inputs)
        if augment:
            x = augmentation(x)
        settings = []
        # Every block's settings are declared (conditional on the depth) even when this trial has
        # fewer blocks: KerasTuner samples only hyperparameters it has seen declared.
        for i in range(blocks if self.space == "notebook" else 3):
            with hp.conditional_scope("conv_blocks", list(range(i + 1, 4))):
                settings.append((
                    space.get(f"filters_{i}", lambda i=i: hp.Choice(f"filters_{i}", FILTERS)),
                    space.get(f"kernel_{i}", lambda i=i: hp.Choice(f"kernel_{i}", [3, 5])),
                    space.get(f"double_{i}", lambda i=i: hp.Boolean(f"double_{i}")),
                ))  # fmt: skip
        for i, (filters, kernel, double) in enumerate(settings[:blocks]):
            convolutions = 2 if double else 1
            for j in range(convolutions):
                # The seed's single "valid" convolutions in the first two blocks; "same" elsewhere
                # keeps any three blocks from shrinking a 28x28 map to nothing.
                padding = "valid" if i < 2 and not double else "same"
                x = keras.layers.Conv2D(filters, kernel, padding=padding, use_bias=not batch_norm)(x)
                if batch_norm:
                    x = keras.layers.BatchNormalization()(x)
                if j == convolutions - 1:
                    # Max pooling and ReLU commute exactly; pooling first applies ReLU to a
                    # quarter of the values.
                    x = keras.layers.MaxPooling2D()(x)
                x = keras.layers.Activation("relu")(x)
        x = keras.layers.Flatten()(x)
        dropout = space.get("dropout", lambda: hp.Float("dropout", 0.0, 0.5, step=0.1))
        head_layers = space.get("head_layers", lambda: hp.Int("head_layers", 1, 2))
        head_units = space.get("head_units", lambda: hp.Int("head_units", 64, 512, step=64))
        for _ in range(head_layers):
            if dropout:
                x = keras.layers.Dropout(dropout)(x)
            x = keras.layers.Dense(head_units, use_bias=not batch_norm)(x)
            if batch_norm:
                x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation("relu")(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
        outputs = keras.layers.Dense(10, activation="softmax", name="digit")(x)
        model = keras.Model(inputs, outputs, name="conv")
        return self.compile(model, space)
