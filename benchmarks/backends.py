"""Seconds per epoch under each Keras backend on this machine (issue 13): which backend to run where.

Models: the dense 784-500-300-10 (SGD with momentum, batch 128, as in benchmarks/speed.py) and the
conv family's START (search_spaces/conv.py, built and fitted by its HyperModel, so its batch size
and one-cycle schedule are the real ones). Data: full MNIST, 50,000 train / 10,000 validation; an
epoch's time includes its validation pass, as in a search. The first epoch of each fit (tracing,
compiling) is reported apart from the later ones.

Keras reads its backend once per process, so every (backend, model, XLA) case runs in a child
process of its own; `--python jax=PATH` runs a backend's cases with another interpreter (a venv
that has it). Backends whose package is missing are reported as such, not skipped silently.
Writes benchmarks/results/backends.{md,json}.

Usage: python benchmarks/backends.py [--epochs-dense 3] [--epochs-conv 2]
           [--python jax=/tmp/venv-jax/bin/python --python torch=/tmp/venv-torch/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

#: (backend, model, jit_compile): Keras's default per backend ("auto") and the alternatives worth
#: knowing: XLA on/off for TensorFlow on a CPU, JAX without jit (every op dispatched alone).
CASES: tuple[tuple[str, str, str], ...] = (
    ("tensorflow", "dense", "off"),
    ("tensorflow", "dense", "on"),
    ("jax", "dense", "auto"),
    ("jax", "dense", "off"),
    ("torch", "dense", "auto"),
    ("torch", "dense", "auto/1"),
    ("tensorflow", "conv", "off"),
    ("jax", "conv", "auto"),
    ("torch", "conv", "auto"),
    ("torch", "conv", "auto/1"),
)
#: "/1": the same with OMP_NUM_THREADS=1. PyTorch's OpenMP pool (2 threads here) spins while it
#: waits; on a shared, overloaded CPU its epochs took 4-25x longer than with one thread.
JIT = {"on": True, "off": False, "auto": "auto"}
BACKENDS_ORDER = ("tensorflow", "jax", "torch")


# -- child: one case, in a process whose KERAS_BACKEND is already set --------------------------------
def run_case(model_name: str, jit: str, epochs: int, mixed_precision: bool = False) -> dict[str, Any]:
    import keras
    import keras_tuner as kt
    import numpy as np

    from search_spaces.conv import ConvHyperModel
    from tuner_app import data as data_module
    from tuner_app.device import configure_device

    device = configure_device(mixed_precision)
    mnist = data_module.load_mnist()
    splits = data_module.split_train_validation(mnist, 10_000, None, 0)
    x, y = splits.train.x, splits.train.y
    val = (splits.validation.x, splits.validation.y)
    keras.utils.set_random_seed(0)
    times: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    if model_name == "dense":
        model = keras.Sequential(
            [
                keras.Input((784,)),
                keras.layers.Dense(500, activation="relu"),
                keras.layers.Dense(300, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=JIT[jit],
        )
        history = model.fit(
            x.reshape(len(x), -1), y, batch_size=128, epochs=epochs, verbose=0,
            validation_data=(val[0].reshape(len(val[0]), -1), val[1]), validation_batch_size=1024,
            callbacks=[EpochTimer()],
        )  # fmt: skip
        batch = 128
    else:
        hypermodel = ConvHyperModel(jit_compile=JIT[jit])
        hp = kt.HyperParameters()
        hp.values.update(ConvHyperModel.START)
        model = hypermodel.build(hp)
        history = hypermodel.fit(
            hp, model, x, y, epochs=epochs, verbose=0, validation_data=val, callbacks=[EpochTimer()]
        )
        batch = int(ConvHyperModel.START["batch_size"])
    return {
        "backend": keras.backend.backend(),
        "device": str(device),
        "model": model_name,
        "jit_compile": jit,
        "resolved_jit": bool(getattr(model, "jit_compile", False)),
        "batch_size": batch,
        "epoch_s": [round(t, 2) for t in times],
        "first_epoch_s": round(times[0], 2),
        "later_epoch_s": round(statistics.median(times[1:]), 2) if len(times) > 1 else None,
        "val_accuracy": [round(float(v), 4) for v in history.history["val_accuracy"]],
        "parameters": int(np.sum([np.prod(w.shape) for w in model.weights])),
        "load_after": [round(v, 2) for v in os.getloadavg()],
        "mixed_precision": keras.mixed_precision.global_policy().name,
        "gpu_peak_mib": gpu_peak_mib(keras.backend.backend()) if device.gpu else None,
    }


def gpu_peak_mib(backend: str) -> float | None:
    """The training backend's peak GPU memory in this process (for the GPU run; None if unknown)."""
    try:
        if backend == "jax":
            import jax

            stats = jax.devices()[0].memory_stats() or {}
            peak = stats.get("peak_bytes_in_use")
        elif backend == "torch":
            import torch

            peak = torch.cuda.max_memory_allocated()
        else:
            import tensorflow as tf

            peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
    except Exception:  # a backend without the statistic: say unknown rather than fail the run
        return None
    return None if peak is None else round(peak / 2**20, 1)


# -- parent: every case in its own process, then the report ------------------------------------------
def child(
    python: str, backend: str, model: str, jit: str, epochs: int, mixed: bool = False
) -> dict[str, Any]:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    jit, _, threads = jit.partition("/")
    if threads:
        env["OMP_NUM_THREADS"] = threads
    load_before = [round(v, 2) for v in os.getloadavg()]
    started = time.perf_counter()
    result = subprocess.run(
        [python, __file__, "--child", model, jit, str(epochs), *(["--mixed-precision"] if mixed else [])],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"backend": backend, "model": model, "jit_compile": jit, "error": tail[0]}
    out = json.loads(result.stdout.strip().splitlines()[-1])
    out.update(python=python, load_before=load_before, process_s=round(time.perf_counter() - started, 1))
    out["omp_threads"] = threads or None
    if out["backend"] != backend:
        out["error"] = f"ran on {out['backend']}, not {backend}"
    return out


def has_backend(python: str, backend: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({backend!r}) is None)"
    return subprocess.run([python, "-c", probe]).returncode == 0


def report(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    from _common import machine_line

    lines = [
        "# Seconds per epoch under each Keras backend",
        "",
        f"Machine: {machine_line(info)}; load average {info['load_start']} at the start, "
        f"{info['load_end']} at the end (the machine is shared: compare rows of one run only).",
        "Full MNIST, 50,000 train / 10,000 validation; an epoch includes its validation pass. "
        "First epoch = tracing/compiling + one epoch; later = median of the following epochs.",
        f"Command: `{info['command']}`",
        "",
        "| backend | version | model | XLA / jit | first epoch s | later epochs s | val acc (last) "
        "| device |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['backend']} | - | {r['model']} | {r['jit_compile']} | - | - | - | {r['error']} |"
            )
            continue
        jit = f"{r['jit_compile']} ({'on' if r['resolved_jit'] else 'off'})"
        if r.get("omp_threads"):
            jit += f", OMP_NUM_THREADS={r['omp_threads']}"
        lines.append(
            f"| {r['backend']} | {r.get('version', '-')} | {r['model']} (batch {r['batch_size']}) | {jit} | "
            f"{r['first_epoch_s']} | {r['later_epoch_s']} | {r['val_accuracy'][-1]} | {device_text(r)} |"
        )
    if "merged" in info:
        merged = info["merged"]
        lines += [
            "",
            f"Rows re-run on {merged['date']} (load average {merged['load_start']} -> {merged['load_end']}): "
            f"`{merged['command']}`",
        ]
    if not any(str(r.get("device", "")).startswith("GPU") for r in rows):
        lines += ["", "GPU: not yet measured on a GPU (no GPU machine was available for this run)."]
    return "\n".join(lines)


def case_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """What tells two rows of the report apart (a --merge replaces the rows it runs again)."""
    return (
        row["backend"], row["model"], row["jit_compile"], row.get("omp_threads"),
        row.get("mixed_precision", "float32"), str(row.get("device", "")).startswith("GPU"),
    )  # fmt: skip


def device_text(row: dict[str, Any]) -> str:
    """The device, plus the precision policy when not float32 and the GPU's peak memory when known."""
    text = str(row["device"])
    if row.get("mixed_precision", "float32") != "float32":
        text += f", {row['mixed_precision']}"
    if row.get("gpu_peak_mib") is not None:
        text += f", peak {row['gpu_peak_mib']} MiB"
    return text


def backend_version(python: str, backend: str) -> str:
    code = f"import {backend}; print({backend}.__version__)"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return result.stdout.strip().splitlines()[-1] if result.returncode == 0 and result.stdout.strip() else "-"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs-dense", type=int, default=3)
    parser.add_argument("--epochs-conv", type=int, default=2)
    parser.add_argument("--python", action="append", default=[], metavar="BACKEND=PATH")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated backends or cases (torch:conv:auto/1) to run (default: all)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other cases' rows of the last report (its machine line too)",
    )
    parser.add_argument(
        "--mixed-precision",
        action="store_true",
        help="as the CLI's flag: float16 on a GPU, bfloat16 on a CPU",
    )
    parser.add_argument("--child", nargs=3, metavar=("MODEL", "JIT", "EPOCHS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        model, jit, epochs = args.child
        print(json.dumps(run_case(model, jit, int(epochs), args.mixed_precision)))
        return

    from _common import RESULTS, load_average, machine, write_report

    pythons = {name: sys.executable for name in ("tensorflow", "jax", "torch")}
    pythons.update(dict(item.split("=", 1) for item in args.python))
    only = {b for b in args.only.split(",") if b}
    info = machine()  # this process's backend (TensorFlow unless KERAS_BACKEND says otherwise)
    info["load_start"] = load_average()
    info["command"] = "python benchmarks/backends.py " + " ".join(sys.argv[1:])
    versions = {b: backend_version(p, b) for b, p in pythons.items() if has_backend(p, b)}
    rows = []
    for backend, model, jit in CASES:
        if only and backend not in only and f"{backend}:{model}:{jit}" not in only:
            continue
        if backend not in versions:
            rows.append({"backend": backend, "model": model, "jit_compile": jit, "error": "not installed"})
            continue
        epochs = args.epochs_dense if model == "dense" else args.epochs_conv
        print(f"{backend} {model} jit={jit} ...", flush=True)
        row = child(pythons[backend], backend, model, jit, epochs, args.mixed_precision)
        row["version"] = versions[backend]
        print(f"  {row.get('epoch_s', row.get('error'))}", flush=True)
        rows.append(row)
    info["load_end"] = load_average()
    if args.merge and (RESULTS / "backends.json").exists():
        last = json.loads((RESULTS / "backends.json").read_text())
        ran = {case_key(r) for r in rows}
        kept = [r for r in last["rows"] if case_key(r) not in ran]
        info = {**last["machine"], "merged": info}
        rows = sorted(kept + rows, key=lambda r: (r["model"], BACKENDS_ORDER.index(r["backend"])))
    write_report("backends", report(rows, info), {"machine": info, "rows": rows})


if __name__ == "__main__":
    main()
