"""Resident memory over many trials in one process, per Keras backend (issue 13).

Why: a search runs every trial in one process for hours; TensorFlow's per-trial leak is handled by
tuner_app/graph_memory.py (benchmarks/memory_growth.py). Under JAX every trial's compiled steps stay
in JAX's process-wide caches unless released; `--no-release` turns that release off to show what it
saves. Dense random trials (1 epoch, 600 images, no start point), RSS after each trial.
Writes benchmarks/results/backend_memory.{md,json} (one row per run, rows of earlier runs kept).

Usage: KERAS_BACKEND=jax python benchmarks/backend_memory.py [--trials 16] [--no-release]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--no-release", action="store_true", help="do not release JAX's caches per trial")
    args = parser.parse_args()

    from _common import RESULTS, load_average, machine, machine_line, write_report

    import tuner_app.graph_memory as graph_memory
    from tuner_app.config import SearchConfig
    from tuner_app.engine import SearchEngine

    if args.no_release:
        graph_memory._release_jax = lambda: None
    rss: list[float] = []

    def listener(event: dict) -> None:
        if event["event"] == "trial_finished":
            rss.append(round(rss_mib(), 1))

    info = machine()
    info["load_start"] = load_average()
    project = Path(tempfile.mkdtemp()) / "p"
    config = SearchConfig(
        family="dense", max_trials=args.trials, epochs=1, subset=600, project_dir=project, start_point=False
    ).validated()
    SearchEngine(config, listener=listener).run()
    shutil.rmtree(project.parent, ignore_errors=True)
    info["load_end"] = load_average()
    row = {
        "machine": info,
        "backend": info["keras_backend"],
        "release": not args.no_release,
        "trials": args.trials,
        "rss_mib": rss,
        "growth_from_trial_3": round((rss[-1] - rss[2]) / rss[2], 4),
    }
    path = RESULTS / "backend_memory.json"
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    rows.append(row)
    lines = [
        "# Resident memory over trials in one process, per backend",
        "",
        "Dense random trials, 1 epoch on 600 images each; RSS after each trial.",
        "Command: `KERAS_BACKEND=... python benchmarks/backend_memory.py [--no-release]`",
        "",
        "| backend | per-trial release | trials | RSS after trial 3 | RSS at the end | growth "
        "| machine, load |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['backend']} | {'on' if r['release'] else 'off'} | {r['trials']} | {r['rss_mib'][2]} MiB "
            f"| {r['rss_mib'][-1]} MiB | {100 * r['growth_from_trial_3']:+.1f} % "
            f"| {machine_line(r['machine'])}; "
            f"load {r['machine']['load_start']} -> {r['machine']['load_end']} |"
        )
    write_report("backend_memory", "\n".join(lines), {"rows": rows})
    print(f"RSS MiB after each trial: {rss}")


if __name__ == "__main__":
    main()
