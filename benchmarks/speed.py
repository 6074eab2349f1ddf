"""Speed of the training path, measured side by side in one process (issue 5, part 3).

1. Machine limit: float32 matrix product (4096 x 4096) GFLOP/s with TensorFlow.
2. Throughput: dense 784-500-300-10 on 50,000 images, per-epoch time and training FLOP/s (3 x the
   forward multiply-adds x 2) as a share of the matrix product, for batch sizes x XLA on/off.
3. Engine overhead: per-epoch time through the engine (KerasTuner trial, our recording hooks,
   results log) against plain `model.fit` on the same model, data and batch, interleaved runs.

Epoch times exclude each fit's first epoch (tracing). Writes benchmarks/results/speed.{md,json}.
Usage: python benchmarks/speed.py [--epochs 4] [--rounds 3] [--batches 128,256,512,1024]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import keras
import numpy as np
from _common import load_average, machine, machine_line, write_report

from search_spaces.dense import DenseHyperModel
from tuner_app import data as data_module
from tuner_app.config import SearchConfig
from tuner_app.engine import SearchEngine
from tuner_app.results import RESULTS_FILE

LAYERS = (784, 500, 300, 10)
# Multiply-adds per image forward; training ~ 3x forward (forward, two backward products), 2 FLOP each.
TRAIN_FLOP_PER_IMAGE = 3 * 2 * sum(a * b for a, b in itertools.pairwise(LAYERS))


def matmul_gflops(n: int = 4096, repeats: int = 10) -> dict[str, float]:
    """Best-of-N float32 n x n matrix product, with TensorFlow (Eigen) and with numpy (its BLAS)."""
    import tensorflow as tf

    def best_of(multiply) -> float:
        multiply()  # warm-up
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            multiply()
            best = min(best, time.perf_counter() - start)
        return 2 * n**3 / best / 1e9

    a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
    x, y = a.numpy(), b.numpy()
    return {
        "tensorflow": best_of(lambda: tf.linalg.matmul(a, b).numpy()),
        "numpy": best_of(lambda: x @ y),
    }


class Dense500300(DenseHyperModel):
    """The 500-300 network at a fixed batch size (SGD 0.1, relu), as a seed-space hypermodel."""

    def __init__(self, batch_size: int, **kwargs):
        self.NOTEBOOK = {**DenseHyperModel.NOTEBOOK, "units_0": 500, "units_1": 300, "batch_size": batch_size}
        super().__init__(space="notebook", **kwargs)


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def plain_fit_epoch_s(splits, batch: int, epochs: int, jit, validation_batch: int | None = None) -> float:
    """Median epoch time of plain model.fit (with validation, as a search trains)."""
    keras.backend.clear_session()
    hypermodel = Dense500300(batch, jit_compile=jit)
    model = hypermodel.build(hypermodel.notebook_hyperparameters())
    timer = EpochTimer()
    model.fit(
        splits.train.x, splits.train.y, batch_size=batch, epochs=epochs, verbose=0,
        validation_data=(splits.validation.x, splits.validation.y), callbacks=[timer],
        validation_batch_size=validation_batch,
    )  # fmt: skip
    return statistics.median(timer.times[1:])


def engine_epoch_s(batch: int, epochs: int, workdir: Path, run: int) -> float:
    """Median epoch time through the engine (times between its logged epoch events)."""
    project = workdir / f"engine-{batch}-{run}"
    config = SearchConfig(
        family="dense", tuner="grid", space="notebook", max_trials=None, epochs=epochs, project_dir=project
    )
    SearchEngine(config, hypermodel=Dense500300(batch), load_test=lambda: _tiny_test()).run()
    records = [json.loads(line) for line in (project / RESULTS_FILE).read_text().splitlines()]
    stamps = [r["time"] for r in records if r["event"] == "epoch"]
    return statistics.median(np.diff(stamps))


def _tiny_test():
    mnist = data_module.load_mnist()
    return data_module.Split(
        data_module.to_model_input(mnist.x_test[:500]), mnist.y_test[:500].astype(np.int32)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", default="128,256,512,1024")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    info = machine()
    load_before = load_average()
    splits = data_module.split_train_validation(data_module.load_mnist(), 10_000, None, 0)
    images = len(splits.train)
    flop_epoch = TRAIN_FLOP_PER_IMAGE * images
    matmul = matmul_gflops()
    peak = max(matmul.values())  # the machine's limit: the faster of the two products
    print(
        f"matmul: {peak:.0f} GFLOP/s; one epoch of 500-300 training: {flop_epoch / 1e9:.0f} GFLOP", flush=True
    )

    throughput = []
    for jit in (False, True):
        for batch in batches:
            seconds = plain_fit_epoch_s(splits, batch, args.epochs, jit)
            share = flop_epoch / seconds / 1e9 / peak
            throughput.append({"batch": batch, "xla": jit, "epoch_s": seconds, "share_of_matmul": share})
            print(
                f"plain fit batch {batch:5d} xla {jit!s:5}: {seconds:.2f} s/epoch, "
                f"{100 * share:.1f} % of matmul"
            )
    validation = []
    for batch in (64, 128):
        for validation_batch in (None, 1024):
            seconds = plain_fit_epoch_s(splits, batch, args.epochs, False, validation_batch)
            validation.append(
                {"batch": batch, "validation_batch": validation_batch or batch, "epoch_s": seconds}
            )
            print(
                f"plain fit batch {batch}, validation batch {validation_batch or batch}: "
                f"{seconds:.2f} s/epoch"
            )
    matmul_after = matmul_gflops()

    overhead = []
    batch = 512
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.rounds):
            # the same validation batch as the engine's: this row measures overhead, not that default
            plain = plain_fit_epoch_s(splits, batch, args.epochs, False, max(batch, 1024))
            engine = engine_epoch_s(batch, args.epochs, Path(tmp), run)
            overhead.append({"round": run + 1, "plain_s": plain, "engine_s": engine, "ratio": engine / plain})
            print(
                f"round {run + 1}: plain {plain:.3f} s/epoch, engine {engine:.3f} s/epoch, "
                f"{engine / plain:.3f}x"
            )
    ratio = statistics.median(o["ratio"] for o in overhead)
    data = {
        "machine": info,
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "matmul_gflops": matmul,
        "matmul_gflops_after": matmul_after,
        "machine_limit_gflops": peak,
        "train_gflop_per_epoch": flop_epoch / 1e9,
        "throughput": throughput,
        "validation_batch": validation,
        "overhead_batch": batch,
        "overhead": overhead,
        "overhead_ratio_median": ratio,
    }
    write_report("speed", markdown(data), data)


def markdown(data) -> str:
    best = max(data["throughput"], key=lambda r: r["share_of_matmul"])
    lines = [
        "# Training speed on this machine",
        "",
        f"{machine_line(data['machine'])}. Load average before {data['load_average_before']}, "
        f"after {data['load_average_after']}. `python benchmarks/speed.py`.",
        "",
        "Machine limit: float32 4096x4096 matrix product, best of 10: "
        f"TensorFlow {data['matmul_gflops']['tensorflow']:.0f} GFLOP/s, numpy "
        f"{data['matmul_gflops']['numpy']:.0f} GFLOP/s at the start; "
        f"{data['matmul_gflops_after']['tensorflow']:.0f} / {data['matmul_gflops_after']['numpy']:.0f} "
        f"after the throughput runs. Shares below are of the faster start figure, "
        f"{data['machine_limit_gflops']:.0f} GFLOP/s. Dense 784-500-300-10 on 50,000 images: "
        f"{data['train_gflop_per_epoch']:.0f} GFLOP of training per epoch; validation on 10,000 images "
        "is included in the epoch time and not counted as work.",
        "",
        "## Throughput (plain model.fit, median epoch after the first)",
        "",
        "| batch | XLA | s/epoch | share of matmul FLOP/s |",
        "|---|---|---|---|",
    ]
    for r in data["throughput"]:
        lines.append(
            f"| {r['batch']} | {'on' if r['xla'] else 'off'} | {r['epoch_s']:.2f} | "
            f"{100 * r['share_of_matmul']:.1f} % |"
        )
    lines += [
        "",
        f"Best: batch {best['batch']}, XLA {'on' if best['xla'] else 'off'}: "
        f"{100 * best['share_of_matmul']:.2f} % (goal >= 75 %).",
        "",
        "## Validation pass batch size (plain model.fit, epoch includes the 10,000-image validation)",
        "",
        "| training batch | validation batch | s/epoch |",
        "|---|---|---|",
        *(
            f"| {v['batch']} | {v['validation_batch']} | {v['epoch_s']:.2f} |"
            for v in data["validation_batch"]
        ),
        "",
        "The engine validates at max(training batch, 1024) (search_spaces/_common.py).",
        "",
        f"## Engine overhead (batch {data['overhead_batch']}, interleaved rounds)",
        "",
        "| round | plain fit s/epoch | engine s/epoch | ratio |",
        "|---|---|---|---|",
    ]
    for o in data["overhead"]:
        lines.append(f"| {o['round']} | {o['plain_s']:.3f} | {o['engine_s']:.3f} | {o['ratio']:.3f} |")
    lines += ["", f"Median ratio {data['overhead_ratio_median']:.3f} (goal <= 1.05)."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
