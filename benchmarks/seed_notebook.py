"""The seed notebook's four experiments, redone honestly on full MNIST.

Honestly means: 50,000 training images, 10,000 validation images split from MNIST's training set for
every choice (epochs, factors), and the 10,000 test images touched once, by the engine, for the model
it selected. Each experiment runs through the product's own engine with `--space notebook`, so these
are the notebook's models built by our search spaces. The notebook's own figures are printed beside
ours. Its 500-300 run used binary cross-entropy by mistake; here every model uses the correct sparse
categorical cross-entropy.

Writes benchmarks/results/seed_notebook.{md,json} and seed_notebook_weight_decay.png.
Usage: python benchmarks/seed_notebook.py [--only dense,500-300,weight_decay,cnn] [--wd-epochs 20]
About 20 minutes on a 2-core CPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import RESULTS, load_average, machine, machine_line, pct, run_search, write_report

from search_spaces.dense import DenseHyperModel
from tuner_app.config import SearchConfig
from tuner_app.plot_data import HINTON_WEIGHT_DECAY, weight_decay_points
from tuner_app.results import read_results


class Dense6464Batch32(DenseHyperModel):
    """The same 64-64 at Keras's default batch size 32: what a notebook that sets none trains with."""

    NOTEBOOK = {**DenseHyperModel.NOTEBOOK, "batch_size": 32}


class Dense500300(DenseHyperModel):
    """The notebook's 784-500-300-10 without weight decay (SGD 0.1, batch 128, relu)."""

    NOTEBOOK = {**DenseHyperModel.NOTEBOOK, "units_0": 500, "units_1": 300}


EXPERIMENTS = {
    # name: (family, epochs, executions, tuner, hypermodel, notebook figure, what)
    "dense": ("dense", 10, 1, "grid", None, 0.9746, "dense 64-64, SGD 0.1, batch 128"),
    "dense-b32": (
        "dense", 10, 1, "grid", Dense6464Batch32, 0.9746, "dense 64-64, SGD 0.1, batch 32 (Keras default)",
    ),
    "500-300": (
        "dense", 40, 1, "grid", Dense500300, 0.9205,
        "dense 500-300, SGD 0.1, batch 128, correct loss",
    ),
    "weight_decay": (
        "weight_decay", None, 3, "grid", None, 0.9632,
        "500-300 + L2, 5 factors 1e-6..1e-3 x 3 replicates, SGD 0.1, batch 128",
    ),
    "cnn": ("conv", 4, 1, "grid", None, 0.9926, "CNN 2x(conv 32 + pool), 64-64 head, Adam 1e-3, batch 128"),
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(EXPERIMENTS), help="comma-separated experiments")
    parser.add_argument("--wd-epochs", type=int, default=20, help="epochs per weight-decay replicate")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(EXPERIMENTS)
    if unknown:
        parser.error(
            f"unknown experiment(s) {', '.join(sorted(unknown))}; choose from {', '.join(EXPERIMENTS)}"
        )
    info = machine()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            family, epochs, executions, tuner, hypermodel_class, notebook, what = EXPERIMENTS[name]
            epochs = epochs or args.wd_epochs
            print(f"{name}: {what}, {epochs} epochs", flush=True)
            config = SearchConfig(
                family=family, tuner=tuner, space="notebook", max_trials=None, epochs=epochs,
                executions=executions, project_dir=Path(tmp) / name,
            )  # fmt: skip
            hypermodel = hypermodel_class(space="notebook") if hypermodel_class else None
            summary = run_search(config, hypermodel)
            best = summary["best_trials"][0] if summary["best_trials"] else {}
            row = {
                "what": what,
                "epochs": epochs,
                "notebook_test_accuracy": notebook,
                "val_accuracy_mean": best.get("val_accuracy_mean"),
                "val_accuracy_std": best.get("val_accuracy_std"),
                "best_epoch": best.get("best_epoch"),
                "test_accuracy": (summary["test"] or {}).get("test_accuracy"),
                "wall_s": summary["wall_s"],
                "trials": summary["all_trials"],
            }
            if name == "weight_decay":
                snapshot = read_results(Path(tmp) / name)
                points = weight_decay_points(snapshot)
                row["grid"] = [
                    {"l2": p.x, "val_mean": p.mean, "val_std": p.std, "replicates": p.replicates}
                    for p in points
                ]
                plot_weight_decay(points, RESULTS / "seed_notebook_weight_decay.png")
            rows[name] = row
            print(
                f"{name}: val {pct(row['val_accuracy_mean'])}, test {pct(row['test_accuracy'])} "
                f"(notebook {pct(notebook)}), {row['wall_s']:.0f} s",
                flush=True,
            )
    info["load_average_at_end"] = load_average()
    write_report("seed_notebook", markdown(info, rows), {"machine": info, "experiments": rows})


def plot_weight_decay(points, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.errorbar(
        [p.x for p in points], [100 * p.mean for p in points], yerr=[100 * p.std for p in points],
        fmt="o", capsize=4, label="validation accuracy, mean ± std of 3 replicates",
    )  # fmt: skip
    ax.axhline(100 * HINTON_WEIGHT_DECAY, color="C3", linestyle=":", label="Hinton 2005: 98.47 % (test)")
    ax.set_xscale("log")
    ax.set_xlabel("L2 factor")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title("Seed notebook's weight-decay grid, redone (500-300, SGD 0.1)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small", loc="lower left")
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(info, rows) -> str:
    lines = [
        "# The seed notebook, redone honestly",
        "",
        f"{machine_line(info)}. Load average at the end {info['load_average_at_end']} "
        "(times are wall-clock on this shared 2-core machine).",
        "",
        "Full MNIST: 50,000 training and 10,000 validation images (split from MNIST's training set, "
        "seed 0); the test set (10,000) is evaluated once, for the model the run selected. "
        "Produced by `python benchmarks/seed_notebook.py`.",
        "",
        "| experiment | notebook (test, as reported) | ours: validation | ours: test | best epoch | time |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows.values():
        val = pct(row["val_accuracy_mean"])
        if row.get("grid"):
            val += f" ± {100 * (row['val_accuracy_std'] or 0):.2f} (best factor, mean of 3)"
        lines.append(
            f"| {row['what']}, {row['epochs']} epochs | {pct(row['notebook_test_accuracy'])} | {val} | "
            f"{pct(row['test_accuracy'])} | {row['best_epoch'] or '-'} | {row['wall_s']:.0f} s |"
        )
    if "weight_decay" in rows:
        lines += [
            "",
            "## Weight-decay grid (validation accuracy, mean ± sample std over 3 replicates)",
            "",
            "| L2 factor | mean | std | replicates |",
            "|---|---|---|---|",
        ]
        for p in rows["weight_decay"]["grid"]:
            lines.append(
                f"| {p['l2']:.2e} | {pct(p['val_mean'])} | {100 * p['val_std']:.2f} | {p['replicates']} |"
            )
        lines += ["", "![weight-decay error bars](seed_notebook_weight_decay.png)"]
    lines += [
        "",
        "Differences from the notebook: it chose settings on the test set and reported test accuracy; "
        "here choices use validation only and the test set is read once per experiment. The 500-300 "
        "run uses the correct loss (the notebook's 92.05 % came from binary cross-entropy).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
