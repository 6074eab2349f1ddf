"""Time from a cold start to a conv model with >= 99.0 % validation accuracy (issue 11).

Two commands, each started cold (a fresh Python process), alternated for `--rounds` rounds so the
machine's load falls on both alike:

- plain: `python benchmarks/plain_one_cycle.py --test`, the two-epoch one-cycle small CNN in plain
  Keras (no tuner, no engine): the baseline the issue measures against;
- cli: `python -m tuner_app.search --family conv --max-trials 1 --epochs 2`, the README's first
  command, whose first trial is the conv family's START point (the same recipe inside the space).

The clock starts just before the process is launched and stops at the end of the first epoch whose
validation accuracy reaches the goal (the plain script prints each epoch's time; the CLI's results
log records it). For the CLI the phases are split out from its log: launch to `search_started`
(imports, data, project folder, tuner), to the end of the first epoch, to the goal, to the process's
exit (test evaluation, best model, summary). The ratio cli / plain is per round and overall (median).
Load averages are recorded before and after each run. Writes benchmarks/results/time_to_99.{md,json}.

Usage: python benchmarks/time_to_99.py [--rounds 3] [--epochs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import load_average, machine, machine_line, write_report

GOAL = 0.99
HERE = Path(__file__).parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def run_plain(epochs: int) -> dict:
    load = load_average()
    start = time.time()
    result = subprocess.run(
        [sys.executable, str(HERE / "plain_one_cycle.py"), "--epochs", str(epochs), "--test"],
        capture_output=True, text=True, env=ENV, timeout=900,
    )  # fmt: skip
    end = time.time()
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    epochs_seen, test = [], None
    for line in result.stdout.splitlines():
        parts = line.split()
        if parts[:1] == ["EPOCH"]:
            epochs_seen.append((float(parts[2]) - start, float(parts[3])))
        elif parts[:1] == ["TEST"]:
            test = float(parts[1])
    reached = [t for t, acc in epochs_seen if acc >= GOAL]
    return {
        "seconds_to_goal": reached[0] if reached else None,
        "epoch_end_s": [round(t, 2) for t, _ in epochs_seen],
        "val_accuracy": [acc for _, acc in epochs_seen],
        "test_accuracy": test,
        "process_s": end - start,
        "load_before": load,
        "load_after": load_average(),
    }


def run_cli(epochs: int, workdir: Path, round_no: int) -> dict:
    project = workdir / f"cli{round_no}"
    command = [
        sys.executable, "-m", "tuner_app.search", "--family", "conv", "--max-trials", "1",
        "--epochs", str(epochs), "--project-dir", str(project),
    ]  # fmt: skip
    load = load_average()
    start = time.time()
    result = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=900)
    end = time.time()
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-2000:] + result.stderr[-2000:])
    records = [json.loads(line) for line in (project / "results.jsonl").read_text().splitlines()]
    first = {r["event"]: r["time"] - start for r in reversed(records)}  # earliest of each kind
    epochs_seen = [
        (r["time"] - start, r["metrics"]["val_accuracy"]) for r in records if r["event"] == "epoch"
    ]
    tests = [r for r in records if r["event"] == "test_evaluated"]
    reached = [t for t, acc in epochs_seen if acc >= GOAL]
    return {
        "seconds_to_goal": reached[0] if reached else None,
        "epoch_end_s": [round(t, 2) for t, _ in epochs_seen],
        "val_accuracy": [acc for _, acc in epochs_seen],
        "test_accuracy": tests[0]["test_accuracy"] if tests else None,
        "search_started_s": first.get("search_started"),
        "trial_started_s": first.get("trial_started"),
        "trial_finished_s": first.get("trial_finished"),
        "test_evaluated_s": first.get("test_evaluated"),
        "process_s": end - start,
        "command": " ".join(["python", *command[1:]]),
        "load_before": load,
        "load_after": load_average(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    info = machine()
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            plain = run_plain(args.epochs)
            cli = run_cli(args.epochs, Path(tmp), i)
            ratio = (
                cli["seconds_to_goal"] / plain["seconds_to_goal"]
                if cli["seconds_to_goal"] and plain["seconds_to_goal"]
                else None
            )
            rounds.append({"plain": plain, "cli": cli, "ratio": ratio})
            print(f"round {i + 1}: plain {_s(plain['seconds_to_goal'])}, cli {_s(cli['seconds_to_goal'])}, "
                  f"ratio {ratio and round(ratio, 2)}", flush=True)  # fmt: skip
    data = {"machine": info, "goal": GOAL, "epochs": args.epochs, "rounds": rounds}
    data["median"] = {
        key: _median([r[key]["seconds_to_goal"] for r in rounds]) for key in ("plain", "cli")
    } | {"ratio": _median([r["ratio"] for r in rounds])}
    write_report("time_to_99", markdown(data), data)


def _median(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if len(known) == len(values) and known else None


def _s(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f} s"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def markdown(data) -> str:
    med = data["median"]
    lines = [
        "# Time to a conv model with >= 99.0 % validation accuracy, from a cold start",
        "",
        f"{machine_line(data['machine'])}. `python benchmarks/time_to_99.py --rounds {len(data['rounds'])} "
        f"--epochs {data['epochs']}`: full MNIST (50,000 train / 10,000 validation, seed 0), each command "
        "started as a fresh process, plain and CLI alternated; clock from just before launch to the end of "
        "the first epoch at or above 99.0 % validation.",
        "",
        f"- plain: `python benchmarks/plain_one_cycle.py --epochs {data['epochs']} --test` (plain Keras, "
        "the one-cycle recipe)",
        f"- cli: `{data['rounds'][0]['cli']['command']}` (project folder in a temporary directory)",
        "",
        f"Median time to 99.0 %: plain {_s(med['plain'])}, cli {_s(med['cli'])}; "
        f"median ratio cli / plain: {med['ratio']:.2f}x (goal <= 2.5x)."
        if med["ratio"]
        else "Median: not computable (a run did not reach 99.0 %).",
        "",
        "| round | run | time to 99.0 % | validation per epoch | test | CLI phases: search started / "
        "1st epoch end / trial done / test done / exit | load before -> after |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(data["rounds"], 1):
        for name in ("plain", "cli"):
            run = r[name]
            vals = ", ".join(_pct(v) for v in run["val_accuracy"])
            if name == "cli":
                phases = (
                    f"{_s(run['search_started_s'])} / {_s(run['epoch_end_s'][0])} / "
                    f"{_s(run['trial_finished_s'])} / {_s(run['test_evaluated_s'])} / {_s(run['process_s'])}"
                )
            else:
                ends = ", ".join(f"{t:.1f} s" for t in run["epoch_end_s"])
                phases = f"epoch ends {ends}; exit {_s(run['process_s'])}"
            lines.append(
                f"| {i} | {name} | {_s(run['seconds_to_goal'])} | {vals} | {_pct(run['test_accuracy'])} | "
                f"{phases} | {run['load_before']} -> {run['load_after']} |"
            )
        if r["ratio"]:
            lines.append(f"| {i} | ratio | {r['ratio']:.2f}x | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
