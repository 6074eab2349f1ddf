"""Time from a cold start to a conv model with >= 99.0 % validation accuracy (issue 5, part 3).

Three runs on the same conv search space, full MNIST (50,000 train / 10,000 validation), one after
another in this process's machine: our engine with random search, our engine with Hyperband, and
a plain KerasTuner script (kt.RandomSearch over the same HyperModel, Keras's default compile, i.e.
XLA where Keras can, and no engine). The clock starts before the search is built and stops at the
end of the first epoch whose validation accuracy reaches the goal. Each run is capped.
Writes benchmarks/results/time_to_99.{md,json}.

Usage: python benchmarks/time_to_99.py [--cap 6m] [--epochs 5] [--runs ours-random,ours-hyperband,plain-kt]
"""

from __future__ import annotations

import argparse
import json
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
from tuner_app.config import SearchConfig, parse_duration
from tuner_app.engine import SearchEngine
from tuner_app.formatting import format_duration
from tuner_app.results import RESULTS_FILE

GOAL = 0.99
RUNS = ("ours-random", "ours-hyperband", "plain-kt")


def ours(tuner: str, epochs: int, cap_s: float, workdir: Path) -> dict:
    project = workdir / tuner
    config = SearchConfig(
        family="conv", tuner=tuner, epochs=epochs, max_trials=100, time_limit_s=cap_s, target=GOAL,
        project_dir=project,
    )  # fmt: skip
    start = time.time()
    SearchEngine(config).run()
    records = [json.loads(line) for line in (project / RESULTS_FILE).read_text().splitlines()]
    epochs_seen = [r for r in records if r["event"] == "epoch"]
    reached = [r for r in epochs_seen if r["metrics"].get("val_accuracy", 0) >= GOAL]
    trials = {r["trial_id"] for r in epochs_seen}
    first = reached[0] if reached else None
    return {
        "seconds_to_goal": first["time"] - start if first else None,
        "trial": first["trial_id"] if first else None,
        "val_accuracy": first["metrics"]["val_accuracy"] if first else max(
            (r["metrics"].get("val_accuracy", 0) for r in epochs_seen), default=None
        ),
        "trials_started": len(trials),
        "epochs_trained": len(epochs_seen),
    }  # fmt: skip


class GoalReached(kt.errors.FatalError):
    pass


class StopAtGoal(keras.callbacks.Callback):
    """What a user of plain KerasTuner writes to stop once a model is good enough.

    The log is a class attribute because KerasTuner deep-copies callbacks for every execution."""

    log: list[tuple[float, float]] = []

    def __init__(self, start: float, cap_s: float):
        super().__init__()
        self.start, self.cap_s = start, cap_s

    def on_epoch_end(self, epoch, logs=None):
        self.log.append((time.time() - self.start, float(logs["val_accuracy"])))
        if logs["val_accuracy"] >= GOAL:
            raise GoalReached("goal reached")
        if time.time() - self.start > self.cap_s:
            raise GoalReached("cap reached")


def plain_keras_tuner(epochs: int, cap_s: float, workdir: Path) -> dict:
    start = time.time()
    raw = data_module.load_mnist()  # keras.datasets.mnist.load_data()'s arrays; that call needs internet
    x = raw.x_train.astype("float32") / 255.0
    y = raw.y_train
    x_train, y_train, x_val, y_val = x[:50_000], y[:50_000], x[50_000:], y[50_000:]
    tuner = kt.RandomSearch(
        ConvHyperModel(jit_compile="auto"), objective="val_accuracy", max_trials=100, seed=0,
        directory=str(workdir), project_name="plain", overwrite=True,
    )  # fmt: skip
    log = StopAtGoal.log
    log.clear()
    try:
        tuner.search(
            x_train, y_train, epochs=epochs, validation_data=(x_val, y_val), verbose=0,
            callbacks=[StopAtGoal(start, cap_s)],
        )  # fmt: skip
    except GoalReached:
        pass
    reached = [t for t, acc in log if acc >= GOAL]
    return {
        "seconds_to_goal": reached[0] if reached else None,
        "val_accuracy": max((acc for _, acc in log), default=None),
        "trials_started": len(tuner.oracle.trials),
        "epochs_trained": len(log),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cap", type=parse_duration, default=parse_duration("6m"), help="per run")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per trial (Hyperband: max)")
    parser.add_argument("--runs", default=",".join(RUNS))
    args = parser.parse_args()
    info = machine()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run in [r.strip() for r in args.runs.split(",") if r.strip()]:
            print(f"{run}: up to {format_duration(args.cap)}", flush=True)
            load = load_average()
            if run == "plain-kt":
                result = plain_keras_tuner(args.epochs, args.cap, Path(tmp))
            else:
                result = ours(run.removeprefix("ours-"), args.epochs, args.cap, Path(tmp))
            result["load_average_before"] = load
            results[run] = result
            shown = f"{result['seconds_to_goal']:.0f} s" if result["seconds_to_goal"] else "not reached"
            print(
                f"{run}: {shown}, {result['trials_started']} trials, {result['epochs_trained']} epochs",
                flush=True,
            )
            keras.backend.clear_session()
    data = {"machine": info, "goal": GOAL, "cap_s": args.cap, "epochs": args.epochs, "runs": results}
    write_report("time_to_99", markdown(data), data)


def markdown(data) -> str:
    lines = [
        "# Time to a conv model with >= 99.0 % validation accuracy",
        "",
        f"{machine_line(data['machine'])}. `python benchmarks/time_to_99.py`: conv family, full MNIST, "
        f"{data['epochs']} epochs per trial (Hyperband: max), each run capped at "
        f"{format_duration(data['cap_s'])}, clock from before the search is built to the end of the first "
        "epoch at or above the goal.",
        "",
        "| run | time to 99.0 % val | trials started | epochs trained | best val seen | load before |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in data["runs"].items():
        t = f"{r['seconds_to_goal']:.0f} s" if r["seconds_to_goal"] else "not reached"
        acc = f"{100 * r['val_accuracy']:.2f} %" if r["val_accuracy"] else "-"
        lines.append(
            f"| {name} | {t} | {r['trials_started']} | {r['epochs_trained']} | {acc} | "
            f"{r['load_average_before']} |"
        )
    lines += ["", "Goal: <= 3 minutes on this 2-core CPU."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
