"""Per-trial costs around the training itself, for the conv START model (issue 11).

One process, full MNIST split as the engine makes it (50,000 / 10,000, seed 0). Measured:

- epoch time of `model.fit` on the conv START point (one-cycle, batch 256, validation at 1024) with
  the callbacks a trial carries, variant by variant, interleaved over `--rounds` rounds so load
  falls on all alike: none (plain); the engine's TerminateOnNaN; the engine's BudgetWatch; both plus
  KerasTuner's SaveBestEpoch (what an engine trial runs). A callback with a batch-end hook makes
  Keras dispatch every batch synchronously and convert its logs to Python floats, so the next step
  cannot be queued while Python runs;
- KerasTuner's best-epoch checkpoint (`save_weights` of the START model), per call;
- the one-off data costs: loading the cached npz, the engine's split with its float32 conversion.

Each fit variant trains a fresh model for `--epochs` epochs; the first epoch includes tracing, so
the figure compared is the mean of the epochs after the first (use --epochs 2 or more).
Writes benchmarks/results/trial_overheads.{md,json}.

Usage: python benchmarks/trial_overheads.py [--rounds 2] [--epochs 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import keras
import keras_tuner as kt
from _common import load_average, machine, machine_line, write_report

from search_spaces.conv import ConvHyperModel
from tuner_app import data as data_module
from tuner_app.budget import Budget
from tuner_app.tuners import BudgetWatch

VARIANTS = ("plain", "terminate_on_nan", "budget_watch", "engine_callbacks")


class EpochClock(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def callbacks_for(variant: str, checkpoint: str) -> list[keras.callbacks.Callback]:
    watch = BudgetWatch(Budget())
    objective = kt.Objective("val_accuracy", "max")
    save = kt.src.engine.tuner_utils.SaveBestEpoch(objective=objective, filepath=checkpoint)
    return {
        "plain": [],
        "terminate_on_nan": [keras.callbacks.TerminateOnNaN()],
        "budget_watch": [watch],
        "engine_callbacks": [keras.callbacks.TerminateOnNaN(), watch, save],
    }[variant]


def fit_epochs(hypermodel, splits, variant: str, epochs: int, checkpoint: str) -> list[float]:
    hp = kt.HyperParameters()
    hp.values.update(hypermodel.START)
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = hypermodel.build(hp)
    clock = EpochClock()
    hypermodel.fit(
        hp, model, splits.train.x, splits.train.y, epochs=epochs, verbose=0,
        validation_data=(splits.validation.x, splits.validation.y),
        callbacks=[*callbacks_for(variant, checkpoint), clock],
    )  # fmt: skip
    return clock.times


def timed(fn, repeat: int = 5) -> float:
    best = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best.append(time.perf_counter() - start)
    return statistics.median(best)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    info = machine()
    load_before = load_average()
    mnist = data_module.load_mnist()
    one_off = {
        "load_npz_s": timed(data_module.load_mnist, 3),
        "split_and_convert_s": timed(lambda: data_module.split_train_validation(mnist, 10_000, None, 0), 3),
    }
    splits = data_module.split_train_validation(mnist, 10_000, None, 0)
    hypermodel = ConvHyperModel()
    epochs: dict[str, list[list[float]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = str(Path(tmp) / "checkpoint.weights.h5")
        for r in range(args.rounds):
            for variant in VARIANTS:
                times = fit_epochs(hypermodel, splits, variant, args.epochs, checkpoint)
                epochs[variant].append(times)
                print(f"round {r + 1} {variant}: {', '.join(f'{t:.2f} s' for t in times)}", flush=True)
        hp = kt.HyperParameters()
        hp.values.update(hypermodel.START)
        model = hypermodel.build(hp)
        one_off["save_weights_s"] = timed(lambda: model.save_weights(checkpoint), 5)
    later = {v: statistics.mean(t for run in runs for t in run[1:]) for v, runs in epochs.items()}
    first = {v: statistics.mean(run[0] for run in runs) for v, runs in epochs.items()}
    data = {
        "machine": info,
        "rounds": args.rounds,
        "epochs": args.epochs,
        "epoch_times_s": epochs,
        "mean_first_epoch_s": first,
        "mean_later_epoch_s": later,
        "one_off_s": one_off,
        "load_before": load_before,
        "load_after": load_average(),
    }
    write_report("trial_overheads", markdown(data), data)


def markdown(data) -> str:
    later, first = data["mean_later_epoch_s"], data["mean_first_epoch_s"]
    base = later["plain"]
    lines = [
        "# Per-trial costs around training: the conv START model",
        "",
        f"{machine_line(data['machine'])}. `python benchmarks/trial_overheads.py --rounds {data['rounds']} "
        f"--epochs {data['epochs']}`; load average {data['load_before']} before, {data['load_after']} after.",
        "",
        "| callbacks in the fit | first epoch (tracing included) | later epochs, mean | vs plain |",
        "|---|---|---|---|",
    ]
    for variant in VARIANTS:
        ratio = later[variant] / base if base and later[variant] else float("nan")
        lines.append(f"| {variant} | {first[variant]:.2f} s | {later[variant]:.2f} s | {ratio:.3f} |")
    one = data["one_off_s"]
    lines += [
        "",
        f"- Loading the cached MNIST npz: {one['load_npz_s']:.2f} s; the engine's split with its float32 "
        f"conversion: {one['split_and_convert_s']:.2f} s (both once per search).",
        f"- KerasTuner's best-epoch checkpoint (`save_weights`, START model, 215,194 parameters): "
        f"{1000 * one['save_weights_s']:.0f} ms a call (once per improving epoch).",
        "",
        "Every epoch time per round: "
        + "; ".join(
            f"{v}: " + " | ".join(", ".join(f"{t:.2f}" for t in run) for run in runs)
            for v, runs in data["epoch_times_s"].items()
        ),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
