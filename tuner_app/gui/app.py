"""`tuner-app` / `python -m tuner_app`: open the window, optionally on a project and a model.

The hidden `--demo-digit` option draws a sample "7" on the pad with the pad's own stroke code (the
same path a mouse drag takes) so screenshots show a real drawing classified by a real model.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported anywhere

SAMPLE_SEVEN = [
    [(70, 62), (140, 58), (205, 60), (185, 105), (160, 160), (140, 225)],
    [(120, 140), (200, 138)],
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tuner-app", description="Desktop window for tuner_app searches.")
    parser.add_argument("--project", type=Path, help="open (and follow) this project folder")
    parser.add_argument("--model", type=Path, help="use this .keras model on the drawing pad")
    parser.add_argument("--demo-digit", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tab", help=argparse.SUPPRESS)  # screenshots: show this tab ("Slices")
    parser.add_argument("--side-tab", help=argparse.SUPPRESS)  # screenshots: "Drawing pad"
    parser.add_argument("--select-best", type=int, default=0, help=argparse.SUPPRESS)
    return parser


def preload_keras() -> float:
    """Import Keras (and TensorFlow) now; seconds taken. Call before the event loop starts.

    Why: the first model load imports TensorFlow, which froze the window for 5.5 s when it happened
    on the GUI thread, and stalled the event loop 0.7 s even from a worker thread (the import holds
    the GIL). Paid once at start-up, in view, the later loads in ModelLoader only read the file.
    """
    started = time.perf_counter()
    from tuner_app.native_logs import import_backend_quietly
    from tuner_app.trial_analysis import import_forest_library

    import_backend_quietly()  # also probes the devices, silenced: no "cuInit ... (303)" line later
    import_forest_library()  # the Importance view's forest: its first import stalled the window 264 ms
    # What was imported stays for the process's life: move it out of the garbage collector's sight.
    # A full collection walked its ~400,000 objects in 0.24 s while holding the GIL, and the first
    # one that a redraw's allocations set off froze the window for that long (measured on Slices).
    gc.freeze()
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    """Run the window until it closes; the exit status is the event loop's (0 unless told otherwise).

    Before returning, everything that runs beside the event loop is stopped and waited for (the
    search, loader threads, the plot render thread): a thread still running while the interpreter
    exits aborted the process (exit 134) when the window was closed during a search.
    """
    args = build_parser().parse_args(argv)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from tuner_app.gui.errors import install_error_hook
    from tuner_app.gui.main_window import MainWindow
    from tuner_app.gui.render_thread import stop_renderer

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("tuner-app")
    window = MainWindow()
    reporter = install_error_hook(window)  # a slot that raises is shown in the status bar
    window.show()
    window.state_label.setText("Starting: loading TensorFlow/Keras (once, a few seconds)…")
    for _ in range(3):  # let the window and its message paint before the import blocks
        app.processEvents()
    seconds = preload_keras()
    if not window.isVisible():  # closed while it started: app.exec() would wait for a window forever
        window.shutdown()
        stop_renderer()
        reporter.uninstall()
        return 0
    window.state_label.setText("No project open")
    window.statusBar().showMessage(f"TensorFlow/Keras loaded in {seconds:.1f} s", 5000)
    if args.project is not None:
        window.open_project(args.project)
    if args.model is not None:
        window.open_model(args.model)
    if args.demo_digit:
        QTimer.singleShot(300, lambda: draw_sample(window))
    if args.tab or args.side_tab or args.select_best:
        QTimer.singleShot(500, lambda: show_for_screenshot(window, args.tab, args.side_tab, args.select_best))
    try:
        code = app.exec()
    finally:
        window.shutdown()
        stop_renderer()
        reporter.uninstall()
    return code


def show_for_screenshot(window, tab: str | None, side_tab: str | None, best: int) -> None:
    """The hidden screenshot options: bring a tab forward, select the best trials."""
    for tabs, name in ((window.tabs, tab), (window.side, side_tab)):
        for index in range(tabs.count()):
            if name and tabs.tabText(index).lower() == name.lower():
                tabs.setCurrentIndex(index)
    if best:
        window.select_trials(window._best_ids(best))


def draw_sample(window) -> None:
    for stroke in SAMPLE_SEVEN:
        window.pad_panel.pad.draw_polyline(stroke)


if __name__ == "__main__":
    sys.exit(main())
