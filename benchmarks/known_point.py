"""Train one point of a family's space through the engine, as a one-trial search (issue 11).

The point is the family's START (or the conv family's LONG_RECIPE with `--base long`) with
`--set name=value` overrides; the engine's own split (50,000 / 10,000, seed 0), schedule, checkpoint
and single test evaluation apply. Load averages before and after are recorded.
Writes benchmarks/results/REPORT.{md,json} (`--report`, default `<family>_recipe`).

Usage: python benchmarks/known_point.py --family dense --epochs 40 [--set adam_learning_rate=3e-3]
       [--base start|long] [--seed 0] [--time-limit 50m] [--report NAME]
"""

from __future__ import annotations

import argparse
import ast
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import load_average, machine, machine_line, pct, run_search, write_report

from search_spaces import hypermodel_class
from tuner_app.config import SearchConfig, parse_duration
from tuner_app.formatting import format_duration


def parse_setting(text: str) -> tuple[str, object]:
    name, _, value = text.partition("=")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--family", default="dense")
    parser.add_argument("--base", choices=("start", "long"), default="start")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--set", action="append", default=[], type=parse_setting, metavar="NAME=VALUE")
    parser.add_argument("--time-limit", type=parse_duration, default=parse_duration("50m"))
    parser.add_argument("--seed", type=int, default=0, help="the engine's split and initialisation")
    parser.add_argument("--report")
    args = parser.parse_args()
    family = hypermodel_class(args.family)
    base = family.LONG_RECIPE if args.base == "long" else family.START
    point = {**base, **dict(args.set)}

    class Point(family):
        START = point

    info = machine()
    info["load_before"] = load_average()
    with tempfile.TemporaryDirectory(prefix="known-point-") as tmp:
        config = SearchConfig(
            family=args.family, tuner="random", max_trials=1, epochs=args.epochs, seed=args.seed,
            time_limit_s=args.time_limit, project_dir=Path(tmp) / "project",
        )  # fmt: skip
        summary = run_search(config, hypermodel=Point())
    info["load_after"] = load_average()
    command = " ".join(["python benchmarks/known_point.py", *sys.argv[1:]])
    name = args.report or f"{args.family}_recipe"
    data = {
        "machine": info, "point": point, "epochs": args.epochs, "seed": args.seed, "command": command,
        "summary": summary,
    }  # fmt: skip
    write_report(name, markdown(data), data)


def markdown(data: dict) -> str:
    summary, info = data["summary"], data["machine"]
    test = (summary.get("test") or {}).get("test_accuracy")
    (curve,) = next(iter(summary["curves"].values()))
    seen = [v for v in curve if v is not None]
    best = max(seen) if seen else None
    return "\n".join([
        f"# One known point trained through the engine: {data['command']}",
        "",
        f"{machine_line(info)}; load average {info['load_before']} before, {info['load_after']} after",
        "",
        f"Point: {', '.join(f'{k}={v}' for k, v in data['point'].items())}; {data['epochs']} epochs, "
        f"full MNIST (50,000 train / 10,000 validation split, seed {data.get('seed', 0)}), test set read "
        "once by the engine.",
        "",
        f"- Test accuracy: {pct(test)}.",
        f"- Best validation {pct(best)}, at epoch {curve.index(best) + 1 if best else '-'} of "
        f"{len(curve)} trained.",
        f"- Wall time {format_duration(summary['wall_s'])} ({summary['wall_s'] / max(len(curve), 1):.0f} s "
        "an epoch, evaluation included).",
        "",
        "Validation accuracy per epoch: " + ", ".join(pct(v) for v in curve),
    ]) + "\n"  # fmt: skip


if __name__ == "__main__":
    main()
