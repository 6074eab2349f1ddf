"""Why did augmentation make the conv net worse (conv_long.md: 99.06 % test after 30 augmented
epochs against 99.23 % after 10 plain ones)? A short side-by-side probe in plain Keras.

The net is the conv START point of that run (conv 32 3x3, batch norm, ReLU, pool; conv 64 3x3,
batch norm, ReLU, pool; dropout 0.2, dense 128, dropout 0.2), Adam 1e-3 one-cycle, batch 128,
`--epochs` epochs, engine split (50,000 / 10,000, seed 0), validation only (no test read). Variants:

- none: no augmentation;
- bilinear: the space's augmentation as it was (RandomRotation 0.03, RandomTranslation 0.1,
  RandomZoom 0.1, fill constant, Keras's default bilinear interpolation);
- nearest: the same transforms with nearest-neighbour interpolation (no resampling blur: every
  training pixel keeps an original value, as test pixels do);
- clean-eval: the bilinear-trained model's batch-norm statistics re-estimated on clean training
  images before validating (tells whether statistics gathered on augmented batches are the cause).

Also reported for each augmented model: validation accuracy on validation images passed through
the same augmentation (training mode), and for the plain model, on blurred validation images (a
bilinear identity-free transform: translate by half a pixel), to see how blur-sensitive it is.
Writes benchmarks/results/augmentation_probe.{md,json}.

Usage: python benchmarks/augmentation_probe.py [--epochs 4] [--variants none,bilinear,nearest]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import keras
import numpy as np
from _common import load_average, machine, machine_line, write_report

from search_spaces._common import OneCycle
from tuner_app import data as data_module


def augmentation(interpolation: str) -> list[keras.layers.Layer]:
    return [
        keras.layers.RandomRotation(0.03, fill_mode="constant", interpolation=interpolation),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", interpolation=interpolation),
        keras.layers.RandomZoom(0.1, fill_mode="constant", interpolation=interpolation),
    ]


def build(aug: list[keras.layers.Layer], steps: int) -> keras.Model:
    layers = [keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1)), *aug]
    for filters in (32, 64):
        layers += [
            keras.layers.Conv2D(filters, 3, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(),
        ]
    layers += [
        keras.layers.Flatten(),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ]
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(OneCycle(1e-3, steps)),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=False,
    )
    return model


def reestimate_batch_norm(model: keras.Model, x: np.ndarray, batches: int = 100, batch: int = 256) -> None:
    """Batch-norm moving statistics recomputed on clean images (augmentation layers skipped)."""
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = 0.9
    clean = keras.Sequential(
        [layer for layer in model.layers if not layer.name.startswith("random_")]
    )  # shares the layers
    rng = np.random.default_rng(0)
    for _ in range(batches):
        clean(x[rng.integers(0, len(x), batch)], training=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--variants", default="none,bilinear,nearest")
    args = parser.parse_args()
    info = machine()
    load_before = load_average()
    splits = data_module.split_train_validation(data_module.load_mnist(), 10_000, None, 0)
    xv, yv = splits.validation.x, splits.validation.y
    steps = args.epochs * math.ceil(len(splits.train) / 128)
    results = {}
    for variant in [v.strip() for v in args.variants.split(",") if v.strip()]:
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        aug = [] if variant == "none" else augmentation(variant)
        model = build(aug, steps)
        start = time.perf_counter()
        history = model.fit(
            splits.train.x, splits.train.y, batch_size=128, epochs=args.epochs, verbose=0,
            validation_data=(xv, yv), validation_batch_size=1024,
        )  # fmt: skip
        row = {
            "val_accuracy": history.history["val_accuracy"],
            "train_accuracy": history.history["accuracy"],
            "seconds": time.perf_counter() - start,
        }
        if aug:
            augmented = keras.Sequential(augmentation(variant))
            xa = np.concatenate([
                keras.ops.convert_to_numpy(augmented(xv[i : i + 1000, :, :, None], training=True))[..., 0]
                for i in range(0, len(xv), 1000)
            ])  # fmt: skip
            row["val_accuracy_on_augmented_validation"] = float(model.evaluate(xa, yv, verbose=0)[1])
            reestimate_batch_norm(model, splits.train.x)
            row["val_accuracy_after_clean_batch_norm"] = float(model.evaluate(xv, yv, verbose=0)[1])
        else:
            shift = keras.layers.RandomTranslation((0.5 / 28, 0.5 / 28), (0.5 / 28, 0.5 / 28))
            xb = keras.ops.convert_to_numpy(shift(xv[:, :, :, None], training=True))[..., 0]
            row["val_accuracy_on_half_pixel_shifted_validation"] = float(model.evaluate(xb, yv, verbose=0)[1])
        results[variant] = row
        print(
            variant, {k: v if not isinstance(v, list) else [round(a, 4) for a in v] for k, v in row.items()}
        )
    data = {
        "machine": info,
        "epochs": args.epochs,
        "results": results,
        "load_before": load_before,
        "load_after": load_average(),
    }
    write_report("augmentation_probe", markdown(data), data)


def markdown(data) -> str:
    lines = [
        "# Augmentation probe: why the augmented conv run fell below the plain one",
        "",
        f"{machine_line(data['machine'])}. "
        f"`python benchmarks/augmentation_probe.py --epochs {data['epochs']}`; "
        f"load average {data['load_before']} before, {data['load_after']} after. Validation only.",
        "",
        "| variant | validation per epoch | train accuracy (last epoch) | other | time |",
        "|---|---|---|---|---|",
    ]
    for name, r in data["results"].items():
        vals = ", ".join(f"{100 * v:.2f}" for v in r["val_accuracy"])
        other = "; ".join(f"{k}: {100 * v:.2f} %" for k, v in r.items() if k.startswith("val_accuracy_"))
        lines.append(
            f"| {name} | {vals} | {100 * r['train_accuracy'][-1]:.2f} % | {other} | {r['seconds']:.0f} s |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
