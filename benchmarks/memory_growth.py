"""Does memory creep over a long search? Run N short real trials and record RSS after each.

Prints the resident set size after every trial and writes benchmarks/results/memory_growth.{md,json}.
Target (issue 4): growth from trial 5 to trial 50 under 10 %.
Usage: python benchmarks/memory_growth.py [--trials 50] [--subset 2000]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import tempfile
from pathlib import Path

from tuner_app.config import SearchConfig
from tuner_app.engine import SearchEngine

RESULTS = Path(__file__).parent / "results"


def rss_mib() -> float:
    """Current resident set size (not the peak) from /proc, in MiB."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--subset", type=int, default=2000)
    args = parser.parse_args()
    samples: list[float] = []

    def listener(event: dict) -> None:
        if event["event"] == "trial_finished":
            samples.append(rss_mib())
            print(f"trial {len(samples):3d}: RSS {samples[-1]:7.1f} MiB", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        config = SearchConfig(
            family="dense", tuner="random", max_trials=args.trials, epochs=1,
            subset=args.subset, project_dir=Path(tmp) / "p",
        )  # fmt: skip
        SearchEngine(config, listener=listener).run()
    first = samples[min(4, len(samples) - 1)]
    growth = 100 * (samples[-1] - first) / first
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, CPU",
        "trials": len(samples),
        "rss_mib_after_each_trial": [round(s, 1) for s in samples],
        "rss_trial_5_mib": round(first, 1),
        "rss_last_mib": round(samples[-1], 1),
        "growth_trial_5_to_last_percent": round(growth, 2),
        "target_percent": 10,
    }
    print(f"growth from trial 5 to trial {len(samples)}: {growth:.1f} % (target < 10 %)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "memory_growth.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "memory_growth.md").write_text(
        f"# Memory over a long search\n\n{report['date']}, {report['machine']}; dense family, random "
        f"tuner, {len(samples)} trials of 1 epoch on {args.subset} images, one process.\n\n"
        f"RSS after trial 5: {first:.1f} MiB; after trial {len(samples)}: {samples[-1]:.1f} MiB; "
        f"growth {growth:.1f} % (target < 10 %).\n"
    )


if __name__ == "__main__":
    main()
