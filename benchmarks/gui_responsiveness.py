"""Benchmark (not a test): is the window responsive while a real search trains, and is the pad fast?

Measures, with the real window and a real small search started from its form:
  1. the longest stall of the Qt event loop while the search runs (a 10 ms QTimer records the gaps
     between its ticks; a stall is a gap minus the 10 ms period) - target < 100 ms;
  2. the pad's draw-to-probabilities latency: a stroke drawn with mouse events, from the button
     release to the bars updated (preprocess + model call + repaint request) - target < 50 ms,
     both idle and while a search trains.
Like the app (tuner_app.gui.app.main), Keras is imported before the measured event loop runs; that
start-up cost is reported separately. The markdown keeps the previous run's figures as "before".
Writes benchmarks/results/gui_responsiveness.{md,json}. Run: python benchmarks/gui_responsiveness.py

The window on a 200-trial project, opened and followed live with every view: benchmarks/gui_views.py.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QElapsedTimer, QPoint, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tuner_app.gui.app import preload_keras  # noqa: E402
from tuner_app.gui.main_window import MainWindow  # noqa: E402

STALL_TARGET_MS, LATENCY_TARGET_MS, TICK_MS = 100.0, 50.0, 10
# The run before plots updated in place and models loaded off the GUI thread (commit e9fb50d, same
# machine class: 2 CPU cores, offscreen Qt, same search): figures kept for comparison.
BEFORE = {
    "date": "2026-11-25T19:44:24+00:00",
    "what": "figures rebuilt per redraw (~100 ms), best model loaded on the GUI thread "
    "(its first load imported TensorFlow)",
    "first_search": {"max_stall_ms": 5494.8, "p99_stall_ms": 4.6, "stalls_over_100ms": 8},
    "second_search_with_drawing": {"max_stall_ms": 888.5, "p99_stall_ms": 26.3, "stalls_over_100ms": 10},
    "pad_latency_idle": {"median_ms": 4.5, "p95_ms": 4.9, "max_ms": 6.4},
    "pad_latency_while_training": {"median_ms": 8.7, "p95_ms": 20.1, "max_ms": 27.5},
}
ENGINE_LABEL = {
    "process": "child process (python -m tuner_app.search via QProcess), window follows the store",
    "thread": "QThread in the window's process (TUNER_APP_ENGINE=thread)",
}


class StallMeter:
    """Records the gaps between ticks of a 10 ms timer: what a user feels as a frozen window."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.gaps: list[tuple[float, float]] = []  # (seconds since start, stall ms)
        self._last = 0.0

    def start(self) -> None:
        self.gaps.clear()
        self.clock.start()
        self._last = self.clock.nsecsElapsed() / 1e6
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        self.gaps.append((now / 1000, max(now - self._last - TICK_MS, 0.0)))
        self._last = now

    def summary(self) -> dict[str, float]:
        stalls = sorted(g for _, g in self.gaps)
        worst_at = max(self.gaps, key=lambda p: p[1])[0] if self.gaps else 0.0
        return {
            "ticks": len(stalls),
            "max_stall_ms": round(stalls[-1], 1) if stalls else 0.0,
            "p99_stall_ms": round(stalls[int(0.99 * (len(stalls) - 1))], 1) if stalls else 0.0,
            "stalls_over_100ms": sum(1 for s in stalls if s > 100),
            "stalls_over_50ms": sum(1 for s in stalls if s > 50),
            "worst_at_s": round(worst_at, 2),
            "stalls_over_50ms_at_s": [[round(t, 2), round(g)] for t, g in self.gaps if g > 50],
        }


def draw_stroke(window: MainWindow, x: int) -> float:
    """A vertical stroke with mouse events; ms from the release event to the bars updated."""
    pad = window.pad_panel.pad
    pad.clear()
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(x, 40))
    for y in range(50, 241, 15):
        QTest.mouseMove(pad, QPoint(x + (y - 40) // 8, y))
    started = time.perf_counter()
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(x + 25, 240))
    elapsed = (time.perf_counter() - started) * 1000
    assert window.pad_panel.probabilities is not None, "no prediction: is a model loaded?"
    return elapsed


def wait(app: QApplication, condition, timeout_s: float, every=None, period_s: float = 0.3) -> None:
    deadline, next_call = time.monotonic() + timeout_s, time.monotonic()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        if every is not None and time.monotonic() >= next_call:
            every()
            next_call = time.monotonic() + period_s
        app.processEvents()
        time.sleep(0.002)


def run_search(app, window, meter, project: Path, args, during=None) -> tuple[dict, float]:
    form = window.form
    form.family.setCurrentText(args.family)
    form.max_trials.setText(str(args.trials))
    form.epochs.setText(str(args.epochs))
    form.subset.setText(str(args.subset))
    form.project.setText(str(project))
    meter.start()
    started = time.monotonic()
    form.start_button.click()
    if window.search_runner is None:
        raise RuntimeError(f"search did not start: {form.visible_errors()}")
    wait(app, lambda: window.search_runner is None, 1800, every=during)
    meter.stop()
    return meter.summary(), time.monotonic() - started


def latency_summary(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "strokes": len(values),
        "median_ms": round(statistics.median(values), 1),
        "p95_ms": round(values[int(0.95 * (len(values) - 1))], 1),
        "max_ms": round(values[-1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--family", default="dense")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--subset", type=int, default=12000)
    parser.add_argument("--strokes", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--suffix", default="", help="append to the result file names, e.g. _thread")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = MainWindow()
    window.show()
    keras_s = preload_keras()  # as the app does at start-up, before its event loop runs
    print(f"0/3 start-up: Keras/TensorFlow imported in {keras_s:.1f} s (before the event loop)", flush=True)
    meter = StallMeter()
    tmp = Path(tempfile.mkdtemp(prefix="gui-bench-"))

    print(
        f"1/3 search from the form ({args.family}, {args.trials} trials x {args.epochs} epochs, "
        f"subset {args.subset}), measuring event-loop stalls...",
        flush=True,
    )
    renders = window.curves.renders
    first, first_s = run_search(app, window, meter, tmp / "first", args)
    first["curve_renders"] = window.curves.renders - renders
    print(f"    {first_s:.0f} s, {first}", flush=True)
    wait(app, lambda: not window.model_loading(), 120)  # the best model loads in a ModelLoader thread
    if window.pad_panel.model is None:
        raise RuntimeError("the search's best model was not loaded on the pad")

    print("2/3 pad latency, idle...", flush=True)
    draw_stroke(window, 120)  # first call traces the model: reported separately
    first_call = window.pad_panel.last_latency_ms
    idle = latency_summary([draw_stroke(window, 100 + i % 40) for i in range(args.strokes)])
    print(f"    first stroke {first_call:.1f} ms, then {idle}", flush=True)

    print("3/3 second search, drawing a stroke every 0.3 s while it trains...", flush=True)
    busy: list[float] = []
    renders = window.curves.renders
    second, second_s = run_search(
        app, window, meter, tmp / "second", args, during=lambda: busy.append(draw_stroke(window, 110))
    )
    second["curve_renders"] = window.curves.renders - renders
    wait(app, lambda: not window.model_loading(), 120)
    busy_summary = latency_summary(busy)
    print(f"    {second_s:.0f} s, {second}; pad while training {busy_summary}", flush=True)
    window.close()

    worst_stall = max(first["max_stall_ms"], second["max_stall_ms"])
    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "qt_platform": os.environ.get("QT_QPA_PLATFORM"),
            "device": window.device_label.text(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],  # shared machine: other jobs
        },
        "search": {
            "family": args.family,
            "trials": args.trials,
            "epochs": args.epochs,
            "subset": args.subset,
            "engine": ENGINE_LABEL[os.environ.get("TUNER_APP_ENGINE", "process")],
        },
        "startup_keras_import_s": round(keras_s, 1),
        "event_loop_first_search": first | {"search_s": round(first_s, 1)},
        "event_loop_second_search_with_drawing": second | {"search_s": round(second_s, 1)},
        "pad_first_prediction_ms": round(first_call or 0.0, 1),
        "pad_latency_idle": idle,
        "pad_latency_while_training": busy_summary,
        "targets": {"max_stall_ms": STALL_TARGET_MS, "pad_latency_ms": LATENCY_TARGET_MS},
        "verdict": {
            "stall": "met" if worst_stall < STALL_TARGET_MS else "missed",
            "pad_idle_p95": "met" if idle["p95_ms"] < LATENCY_TARGET_MS else "missed",
            "pad_training_p95": "met" if busy_summary["p95_ms"] < LATENCY_TARGET_MS else "missed",
        },
        "before": BEFORE,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"gui_responsiveness{args.suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / f"gui_responsiveness{args.suffix}.md").write_text(markdown(report))
    print(json.dumps(report["verdict"]), f"\nwrote {args.out / 'gui_responsiveness.md'} and .json")
    return 0


def markdown(r: dict) -> str:
    m, s = r["machine"], r["search"]
    rows = []
    for name, key in (
        ("first search", "event_loop_first_search"),
        ("second search, drawing every 0.3 s", "event_loop_second_search_with_drawing"),
    ):
        e = r[key]
        rows.append(
            f"| {name} | {e['search_s']} | {e['ticks']} | {e['max_stall_ms']} | {e['p99_stall_ms']} | "
            f"{e['stalls_over_50ms']} | {e['stalls_over_100ms']} | {e['worst_at_s']} | "
            f"{e.get('curve_renders', '-')} |"
        )
    pads = [
        f"| {name} | {p['strokes']} | {p['median_ms']} | {p['p95_ms']} | {p['max_ms']} |"
        for name, p in (("idle", r["pad_latency_idle"]), ("while training", r["pad_latency_while_training"]))
    ]
    return "\n".join(
        [
            "# GUI responsiveness",
            "",
            f"Date: {r['date']}. Machine: {m['platform']}, {m['cpu_count']} CPU cores, Python {m['python']}, "
            f"Qt platform {m['qt_platform']}, {m['device']}; load average at the end "
            f"{m.get('load_average_at_end')} (machine shared with other jobs: expect noise).",
            f"Start-up (before the event loop, as in the app): Keras/TensorFlow import "
            f"{r['startup_keras_import_s']} s.",
            f"Search: {s['family']}, {s['trials']} trials x {s['epochs']} epochs, subset {s['subset']}, "
            f"started from the window's form; engine: {s['engine']}.",
            "",
            f"## Event-loop stalls (10 ms timer; target: longest < {r['targets']['max_stall_ms']:.0f} ms) - "
            f"{r['verdict']['stall']}",
            "",
            "| run | search s | ticks | max stall ms | p99 ms | > 50 ms | > 100 ms | worst at s "
            "| curve renders |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"## Pad: mouse release to probabilities (target < {r['targets']['pad_latency_ms']:.0f} ms)",
            "",
            f"First prediction after loading the model: {r['pad_first_prediction_ms']} ms "
            "(the ModelLoader thread calls the model once before handing it over).",
            "",
            "| condition | strokes | median ms | p95 ms | max ms |",
            "|---|---|---|---|---|",
            *pads,
            "",
            f"Verdict: {json.dumps(r['verdict'])}",
            "",
            *before_markdown(r.get("before")),
        ]
    )


def before_markdown(b: dict | None) -> list[str]:
    if not b:
        return []
    rows = [
        f"| {name} | {b[key]['max_stall_ms']} | {b[key]['p99_stall_ms']} | {b[key]['stalls_over_100ms']} |"
        for name, key in (
            ("first search", "first_search"),
            ("second search, drawing every 0.3 s", "second_search_with_drawing"),
        )
    ]
    pads = [
        f"| {name} | {b[key]['median_ms']} | {b[key]['p95_ms']} | {b[key]['max_ms']} |"
        for name, key in (("idle", "pad_latency_idle"), ("while training", "pad_latency_while_training"))
    ]
    return [
        f"## Before ({b['date']}): {b['what']}",
        "",
        "| run | max stall ms | p99 ms | > 100 ms |",
        "|---|---|---|---|",
        *rows,
        "",
        "| pad | median ms | p95 ms | max ms |",
        "|---|---|---|---|",
        *pads,
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
