"""Does `--prune` (the median stopping rule) reach better models sooner? Side by side, same run.

For each seed, one random search without and one with `--prune`, run one after the other (so
the machine's load hits both alike), each for the same wall-clock budget. From each search's
log: the best validation accuracy of a *finished* trial at fixed fractions of the budget, the
number of trials finished, and how many were stopped early.

Usage: python benchmarks/pruning.py [--family dense] [--minutes 4] [--seeds 0,1,2] [--epochs 8]
Writes benchmarks/results/pruning.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import load_average, machine, machine_line, pct, write_report

FRACTIONS = (0.25, 0.5, 1.0)


def run_one(
    family: str, seed: int, prune: bool, minutes: float, epochs: int, subset: int | None, folder: Path
) -> dict[str, Any]:
    from tuner_app.config import SearchConfig
    from tuner_app.engine import SearchEngine

    project = folder / f"{family}-seed{seed}-{'prune' if prune else 'plain'}"
    config = SearchConfig(
        family=family, tuner="random", max_trials=1000, epochs=epochs, seed=seed, prune=prune,
        time_limit_s=minutes * 60, project_dir=project, subset=subset, start_point=False,
    ).validated()  # fmt: skip
    load_before = load_average()
    started = time.time()
    SearchEngine(config).run()
    events = [json.loads(line) for line in (project / "results.jsonl").read_text().splitlines()]
    search_start = next(e["time"] for e in events if e["event"] == "search_started")
    finished = [e for e in events if e["event"] == "trial_finished" and e.get("status") == "completed"]
    best_at = {}
    for fraction in FRACTIONS:
        cutoff = search_start + fraction * minutes * 60
        scores = [e["score"] for e in finished if e["time"] <= cutoff and e.get("score") is not None]
        best_at[str(fraction)] = max(scores) if scores else None
    return {
        "seed": seed,
        "prune": prune,
        "best_at": best_at,
        "trials_finished": len(finished),
        "trials_pruned": sum(1 for e in finished if e.get("pruned_at_epoch") is not None),
        "wall_s": round(time.time() - started, 1),
        "load_before": load_before,
        "load_after": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="dense")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--subset", type=int, default=None, help="training images (default: all 50,000)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    info = machine()
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            for prune in (False, True):
                print(f"seed {seed}, prune {prune}: {args.minutes} min", flush=True)
                runs.append(
                    run_one(args.family, seed, prune, args.minutes, args.epochs, args.subset, Path(folder))
                )
                print(f"  {runs[-1]}", flush=True)
    command = (
        f"python benchmarks/pruning.py --family {args.family} --minutes {args.minutes:g} "
        f"--epochs {args.epochs} --seeds {args.seeds}" + (f" --subset {args.subset}" if args.subset else "")
    )
    write_report(
        "pruning", markdown(info, runs, args, command), {"machine": info, "command": command, "runs": runs}
    )


def markdown(info: dict[str, Any], runs: list[dict[str, Any]], args: argparse.Namespace, command: str) -> str:
    minutes = [f"{f * args.minutes:g} min" for f in FRACTIONS]
    lines = [
        "# Pruning (median stopping rule) side by side",
        "",
        f"Machine: {machine_line(info)}.",
        f"Command: `{command}`. Random search, family {args.family}, {args.epochs} epochs per trial,",
        f"{args.subset or 50_000} training images, start point off in both arms (random draws only: the",
        "start point is one strong trial that would hide what pruning does to the rest).",
        "Best validation accuracy of a finished trial at each checkpoint (higher is better).",
        "",
        f"| seed | prune | {' | '.join(minutes)} | trials finished | stopped early | load before → after |",
        "|---|---|" + "---|" * len(minutes) + "---|---|---|",
    ]
    for run in runs:
        cells = " | ".join(pct(run["best_at"][str(f)]) for f in FRACTIONS)
        load = f"{run['load_before'][0]} → {run['load_after'][0]}"
        lines.append(
            f"| {run['seed']} | {'on' if run['prune'] else 'off'} | {cells} | {run['trials_finished']} | "
            f"{run['trials_pruned']} | {load} |"
        )
    lines += ["", "Mean over seeds:", ""]
    for prune in (False, True):
        arm = [r for r in runs if r["prune"] is prune]
        means = []
        for f in FRACTIONS:
            values = [r["best_at"][str(f)] for r in arm if r["best_at"][str(f)] is not None]
            means.append(pct(statistics.fmean(values)) if values else "-")
        lines.append(
            f"- prune {'on' if prune else 'off'}: "
            + ", ".join(f"{m} at {t}" for m, t in zip(means, minutes, strict=True))
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
