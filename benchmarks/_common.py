"""Shared by the benchmark scripts: what machine ran them, running a search, writing a report.

Why a report states the machine, the load and the date: every figure in the README comes from one of
these files, and a figure without its machine cannot be compared with anything.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    """The machine in words plus the library versions that decide speed."""
    import keras
    import keras_tuner

    from tuner_app.device import configure_device

    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "device": str(configure_device()),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "keras_tuner": keras_tuner.__version__,
    }
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def machine_line(info: dict[str, Any]) -> str:
    versions = f"TF {info.get('tensorflow', '-')}, Keras {info['keras']} ({info['keras_backend']})"
    return (
        f"{info['date']}; {info['cpu']}, {info['cores']} cores, {info['device']}; "
        f"{versions}, KerasTuner {info['keras_tuner']}, Python {info['python']}"
    )


def write_report(name: str, markdown: str, data: dict[str, Any]) -> Path:
    """benchmarks/results/NAME.md and NAME.json; returns the markdown path."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    path = RESULTS / f"{name}.md"
    path.write_text(markdown.rstrip() + "\n")
    print(f"report: {path}")
    return path


def run_search(config, hypermodel=None) -> dict[str, Any]:
    """Run one real search through the engine; its summary.json plus wall time and every trial."""
    from tuner_app.engine import SearchEngine

    started = time.perf_counter()
    outcome = SearchEngine(config, listener=_print_progress, hypermodel=hypermodel).run()
    return summarise(outcome.project_dir, time.perf_counter() - started)


def summarise(project_dir: Path, wall_s: float) -> dict[str, Any]:
    """A finished project's summary.json plus wall time, every trial and its validation curves."""
    from tuner_app.report import SUMMARY_JSON, trial_row
    from tuner_app.results import read_results

    summary = json.loads((Path(project_dir) / SUMMARY_JSON).read_text())
    snapshot = read_results(project_dir)
    summary["wall_s"] = round(wall_s, 1)
    summary["all_trials"] = [trial_row(t, list(t.user_hyperparameters())) for t in snapshot.trials]
    summary["curves"] = {
        t.trial_id: [[e.metrics.get("val_accuracy") for e in ex] for ex in t.executions]
        for t in snapshot.trials
    }
    return summary


def _print_progress(event: dict[str, Any]) -> None:
    if event["event"] == "trial_finished":
        score = event.get("score")
        shown = f"{100 * score:.2f} %" if isinstance(score, float) else "-"
        print(f"  trial {event.get('trial_id')} {event.get('status')} val {shown}", flush=True)
    elif event["event"] == "test_evaluated":
        print(f"  test accuracy {100 * event['test_accuracy']:.2f} %", flush=True)


def pct(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f} %"
