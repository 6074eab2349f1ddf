"""Benchmark (not a test): the window on a 200-trial project, opened and then followed live.

Measures, with the real window (Qt offscreen) on a project written by hand (200 trials x 2
replicates x 10 epochs, 8 hyperparameters, a KerasTuner space record):
  1. time to open it (table filled, first plot drawn) - target < 2 s;
  2. each view's redraw: new data applied on the GUI thread + picture drawn on the render thread -
     target < 200 ms (wall and CPU time; the benchmark blocks the event loop while it times these);
  3. the longest event-loop stall while the project is followed live with every view present - target
     < 100 ms (measured before the redraw timings, so each view's first visit and first build count). A
     writer thread appends new trials to the results log, an epoch every 0.1 s (ten times
     a real MNIST search's pace on this CPU), while the user's side switches to the next tab every 1.5 s
     and changes the selection every 4 s, all through the event loop as a user's clicks would.
The stall is measured only while the project is followed live: the other phases block the event
loop on purpose, to time the work.
Writes benchmarks/results/gui_views.{md,json}. Run: python benchmarks/gui_views.py
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gui_responsiveness import STALL_TARGET_MS, StallMeter, wait  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tuner_app.gui.app import preload_keras  # noqa: E402
from tuner_app.gui.main_window import MainWindow  # noqa: E402

VIEW_REDRAW_TARGET_MS, OPEN_TARGET_S = 200.0, 2.0
EXECUTIONS, EPOCHS = 2, 10
START_TIME = 1_800_000_000.0


def _numeric(kind: str, name: str, low: float, high: float, sampling: str = "linear") -> dict:
    return {
        "class_name": kind,
        "config": {"name": name, "min_value": low, "max_value": high, "sampling": sampling},
    }


def _choice(name: str, values: list, ordered: bool) -> dict:
    return {"class_name": "Choice", "config": {"name": name, "values": values, "ordered": ordered}}


BENCH_SPACE = [
    _numeric("Int", "num_layers", 1, 3),
    _choice("activation", ["relu", "gelu", "tanh"], False),
    _numeric("Float", "dropout", 0.0, 0.5),
    _numeric("Int", "units_0", 32, 512),
    _numeric("Int", "units_1", 32, 512),
    _numeric("Float", "learning_rate", 1e-4, 0.3, "log"),
    _choice("batch_size", [64, 128, 256, 512], True),
    _choice("optimizer", ["sgd", "adam"], False),
]


def trial_lines(trial_id: str, rng: random.Random, now: float) -> list[dict]:
    """One trial's events, start to finish: random but plausible hyperparameters and curves."""
    hps = {
        "num_layers": rng.randint(1, 3), "activation": rng.choice(["relu", "gelu", "tanh"]),
        "dropout": round(rng.uniform(0, 0.5), 1), "units_0": rng.randrange(32, 513, 32),
        "learning_rate": 10 ** rng.uniform(-4, math.log10(0.3)),
        "batch_size": rng.choice([64, 128, 256, 512]), "optimizer": rng.choice(["sgd", "adam"]),
    }  # fmt: skip
    if hps["num_layers"] > 1:
        hps["units_1"] = rng.randrange(32, 513, 32)
    ceiling = 0.98 - 0.05 * abs(math.log10(hps["learning_rate"]) + 2.5) - 0.02 * hps["dropout"]
    lines = [{"event": "trial_started", "time": now, "trial_id": trial_id, "hyperparameters": hps}]
    for execution in range(EXECUTIONS):
        lines.append(
            {"event": "execution_started", "time": now, "trial_id": trial_id, "execution": execution}
        )
        for epoch in range(EPOCHS):
            now += 1
            acc = ceiling * (1 - math.exp(-(epoch + 1) / 2)) + rng.uniform(-0.005, 0.005)
            metrics = {"accuracy": acc, "val_accuracy": acc - 0.01, "loss": 1 - acc, "val_loss": 1.02 - acc}
            lines.append(
                {"event": "epoch", "time": now, "trial_id": trial_id, "epoch": epoch, "metrics": metrics}
            )
    lines.append({"event": "trial_finished", "time": now, "trial_id": trial_id, "status": "completed"})
    return lines


def _text(lines: list[dict]) -> str:
    return "".join(json.dumps({"worker": "main", **line}) + "\n" for line in lines)


def write_big_project(folder: Path, trials: int, finished: bool = True) -> Path:
    """A project of `trials` trials and its space record; `finished=False` leaves it "running"."""
    rng = random.Random(0)
    (folder / "keras_tuner").mkdir(parents=True)
    (folder / "keras_tuner" / "oracle.json").write_text(
        json.dumps({"hyperparameters": {"space": BENCH_SPACE}})
    )
    config = {
        "family": "dense",
        "tuner": "random",
        "max_trials": trials,
        "epochs": EPOCHS,
        "executions": EXECUTIONS,
    }
    lines = [{"event": "search_started", "time": START_TIME, "config": config, "planned_trials": trials}]
    for t in range(trials):
        lines += trial_lines(f"{t:03d}", rng, START_TIME + t * EXECUTIONS * EPOCHS)
    if finished:
        lines.append(
            {
                "event": "search_finished",
                "time": START_TIME + 1e6,
                "state": "finished",
                "reason": "max trials",
            }
        )
    (folder / "results.jsonl").write_text(_text(lines))
    return folder


class LiveWriter(threading.Thread):
    """Appends new trials to a project's results log, one event line every `period_s`."""

    def __init__(self, project: Path, first_trial: int, period_s: float, seconds: float):
        super().__init__(name="live-writer", daemon=True)
        self.project, self.first_trial, self.period_s, self.seconds = project, first_trial, period_s, seconds
        self.lines_written = 0

    def run(self) -> None:
        rng, trial, end = random.Random(1), self.first_trial, time.monotonic() + self.seconds
        with (self.project / "results.jsonl").open("a") as log:
            while time.monotonic() < end:
                for line in trial_lines(f"{trial:03d}", rng, time.time()):
                    log.write(_text([line]))
                    log.flush()
                    self.lines_written += 1
                    time.sleep(self.period_s)
                    if time.monotonic() >= end:
                        return
                trial += 1


def time_views(app: QApplication, window: MainWindow) -> dict[str, dict]:
    """Redraw every view twice (all trials, then the best five selected), each timed alone."""
    views = {}
    for selection in ([], window._best_ids(5)):
        window.select_trials(selection)
        for index in range(window.tabs.count()):
            name = window.tabs.tabText(index)
            window.tabs.setCurrentIndex(index)
            canvas = window.current_canvas()
            if canvas is window.examination.canvas:
                continue  # drawn from examination.json, absent here
            app.processEvents()
            canvas.flush()
            if hasattr(canvas, "wait"):
                canvas.wait()  # importance: the forest is fitted on a worker thread, then drawn
                canvas.flush()
            draws, begun, cpu = canvas.draws, time.perf_counter(), time.thread_time()
            canvas.render(window.snapshot, selection)  # new data on the GUI thread...
            apply_ms, apply_cpu = (time.perf_counter() - begun) * 1000, (time.thread_time() - cpu) * 1000
            canvas.flush()  # ...and the picture from the render thread
            total_ms = (time.perf_counter() - begun) * 1000
            with canvas.lock:  # the same draw again, timed as this thread's CPU time (load-independent)
                cpu = time.thread_time()
                canvas._agg.draw()
                draw_cpu = (time.thread_time() - cpu) * 1000
            key = f"{name} ({'best 5 selected' if selection else 'nothing selected'})"
            views[key] = {
                "apply_ms": round(apply_ms, 1),
                "redraw_ms": round(total_ms, 1),
                "cpu_ms": round(apply_cpu + draw_cpu, 1),
                "draws": canvas.draws - draws,
            }
            print(f"    {key}: {views[key]}", flush=True)
    return views


def follow_live(app: QApplication, window: MainWindow, project: Path, trials: int, seconds: float) -> dict:
    """Phase 3: the stall meter runs while new trials stream in and the user clicks through the views."""
    meter, writer = StallMeter(), LiveWriter(project, trials, period_s=0.1, seconds=seconds)
    tab_timer, selection_timer = QTimer(), QTimer()
    tab_timer.timeout.connect(
        lambda: window.tabs.setCurrentIndex((window.tabs.currentIndex() + 1) % window.tabs.count())
    )
    picks = iter([[], *([window._best_ids(5), []] * 100)])
    selection_timer.timeout.connect(lambda: window.select_trials(next(picks)))
    window.tabs.setCurrentIndex(0)
    rows_before = window.table_model.rowCount()
    meter.start()
    writer.start()
    tab_timer.start(1500)
    selection_timer.start(4000)
    wait(app, lambda: not writer.is_alive(), seconds + 30)
    wait(app, lambda: window.follower_version() and window.snapshot is not None, 5)
    end = time.monotonic() + 1.0  # the last poll
    wait(app, lambda: time.monotonic() > end, 5)
    tab_timer.stop()
    selection_timer.stop()
    meter.stop()
    summary = meter.summary()
    summary |= {
        "seconds": seconds,
        "lines_appended": writer.lines_written,
        "rows_before": rows_before,
        "rows_after": window.table_model.rowCount(),
    }
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--live-seconds", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    window.show()
    window.resize(1366, 740)
    keras_s = preload_keras()
    project = write_big_project(
        Path(tempfile.mkdtemp(prefix="gui-views-")) / "big", args.trials, finished=False
    )

    print(f"1/3 opening a {args.trials}-trial project...", flush=True)
    started = time.perf_counter()
    window.open_project(project)
    window.curves.flush()
    open_s = time.perf_counter() - started
    rows = window.table_model.rowCount()
    print(f"    {open_s:.2f} s, {rows} rows", flush=True)

    live_what = "an epoch every 0.1 s, every view visited, its first visit included"
    print(f"2/3 following it live for {args.live_seconds:.0f} s ({live_what})", flush=True)
    live = follow_live(app, window, project, rows, args.live_seconds)
    print(f"    {live}", flush=True)

    print("3/3 timing each view's redraw...", flush=True)
    views = time_views(app, window)
    window.close()

    worst = max(v["redraw_ms"] for v in views.values())
    worst_cpu = max(v["cpu_ms"] for v in views.values())
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "qt_platform": os.environ.get("QT_QPA_PLATFORM"),
            "load_average_before": load_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "project": {
            "trials": rows,
            "executions": EXECUTIONS,
            "epochs": EPOCHS,
            "hyperparameters": len(BENCH_SPACE),
        },
        "startup_keras_import_s": round(keras_s, 1),
        "open_s": round(open_s, 2),
        "views": views,
        "live": live,
        "targets": {
            "open_s": OPEN_TARGET_S,
            "redraw_ms": VIEW_REDRAW_TARGET_MS,
            "max_stall_ms": STALL_TARGET_MS,
        },
        "verdict": {
            "open": "met" if open_s < OPEN_TARGET_S else "missed",
            "redraw": "met" if worst < VIEW_REDRAW_TARGET_MS else "missed",
            "redraw_cpu": "met" if worst_cpu < VIEW_REDRAW_TARGET_MS else "missed",
            "stall": "met" if live["max_stall_ms"] < STALL_TARGET_MS else "missed",
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gui_views.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "gui_views.md").write_text(markdown(report, worst, worst_cpu))
    print(json.dumps(report["verdict"]), f"\nwrote {args.out / 'gui_views.md'} and .json")
    return 0


def markdown(report: dict, worst: float, worst_cpu: float) -> str:
    machine, verdict, live, targets = report["machine"], report["verdict"], report["live"], report["targets"]
    project = report["project"]
    load = f"load average {machine['load_average_before']} before, {machine['load_average_after']} after"
    shape = f"{project['trials']} trials x {project['executions']} replicates x {project['epochs']} epochs"
    open_target, redraw_target = f"< {targets['open_s']:.0f} s", f"< {targets['redraw_ms']:.0f} ms"
    stall_target = f"< {targets['max_stall_ms']:.0f} ms"
    lines = [
        f"# The window on a {project['trials']}-trial project, opened and followed live",
        "",
        f"Run {report['date']} on {machine['platform']}, {machine['cpu_count']} CPU cores ({load}), "
        f"Qt {machine['qt_platform']}.",
        f"Project: {shape}, {project['hyperparameters']} hyperparameters (written by `write_big_project`). "
        "Command: `python benchmarks/gui_views.py`.",
        "",
        "| what | figure | target | verdict |",
        "|---|---|---|---|",
        f"| open (table filled, curves drawn) | {report['open_s']:.2f} s | {open_target} | "
        f"{verdict['open']} |",
        f"| slowest view redraw | {worst:.0f} ms | {redraw_target} | {verdict['redraw']} |",
        f"| slowest view redraw, CPU time (apply + draw) | {worst_cpu:.0f} ms | {redraw_target} | "
        f"{verdict['redraw_cpu']} |",
        f"| longest event-loop stall, followed live | {live['max_stall_ms']:.1f} ms | {stall_target} | "
        f"{verdict['stall']} |",
        "",
        f"Live phase: {live['seconds']:.0f} s, {live['lines_appended']} event lines appended (an epoch "
        f"every 0.1 s), table {live['rows_before']} -> {live['rows_after']} rows, the next tab every 1.5 s, "
        f"the selection changed every 4 s; {live['ticks']} ticks of a 10 ms timer, p99 stall "
        f"{live['p99_stall_ms']} ms, {live['stalls_over_50ms']} over 50 ms, {live['stalls_over_100ms']} over "
        f"100 ms (over 50 ms at s: {live['stalls_over_50ms_at_s']}).",
        "",
        "| view | data applied (GUI thread) | redraw until shown | CPU time (apply + draw) |",
        "|---|---|---|---|",
        *[
            f"| {k} | {v['apply_ms']} ms | {v['redraw_ms']} ms | {v['cpu_ms']} ms |"
            for k, v in report["views"].items()
        ],
        "",
        "Importance is timed after its forest was fitted (on a worker thread, cached per set of scores).",
        "Wall-clock figures include waiting for a CPU: compare them with the load average above (2 cores"
        " shared with other jobs); the CPU-time column is what the window itself spends.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
