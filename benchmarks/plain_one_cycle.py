"""The plain-Keras baseline for time to 99 %: the two-epoch one-cycle small CNN, no tuner, no engine.

conv 24 5x5 -> max-pool -> ReLU -> conv 32 3x3 -> max-pool -> ReLU -> dense 256 -> softmax; Adam
peak 0.01, betas (0.7, 0.9), linear warm-up over the first 25 % of the steps then linear decay to 0;
batch 256, 2 epochs, no XLA. The same 50,000 / 10,000 split as the engine's (seed 0).

Run cold by benchmarks/time_to_99.py: it prints one line per epoch, `EPOCH <n> <unix time>
<val_accuracy>`, so the parent can time it from its own clock; `--test` also reads the test set
once at the end.

Usage: python benchmarks/plain_one_cycle.py [--epochs 2] [--test] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from tuner_app import data as data_module


class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, peak: float, total_steps: int, warmup: float = 0.25):
        self.peak, self.total, self.up = peak, float(total_steps), max(1.0, warmup * total_steps)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        rising = self.peak * step / self.up
        falling = self.peak * (self.total - step) / (self.total - self.up)
        return keras.ops.maximum(0.0, keras.ops.where(step < self.up, rising, falling))


class PrintEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print(f"EPOCH {epoch + 1} {time.time():.3f} {logs['val_accuracy']:.4f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--test", action="store_true")
    parser.add_argument("--seed", type=int, default=0, help="split and initialisation")
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    mnist = data_module.load_mnist()
    splits = data_module.split_train_validation(mnist, 10_000, None, args.seed)
    batch = 256
    steps = args.epochs * int(np.ceil(len(splits.train) / batch))
    model = keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Reshape((28, 28, 1)),
        keras.layers.Conv2D(24, 5),
        keras.layers.MaxPooling2D(),
        keras.layers.Activation("relu"),
        keras.layers.Conv2D(32, 3),
        keras.layers.MaxPooling2D(),
        keras.layers.Activation("relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])  # fmt: skip
    model.compile(
        optimizer=keras.optimizers.Adam(OneCycle(0.01, steps), beta_1=0.7, beta_2=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
    )
    model.fit(
        splits.train.x, splits.train.y, batch_size=batch, epochs=args.epochs, verbose=0,
        validation_data=(splits.validation.x, splits.validation.y), validation_batch_size=1024,
        callbacks=[PrintEpoch()],
    )  # fmt: skip
    if args.test:
        test = data_module.held_out_test(mnist)
        print(f"TEST {model.evaluate(test.x, test.y, verbose=0, batch_size=1024)[1]:.4f}", flush=True)


if __name__ == "__main__":
    main()
