"""Driver for test_close_while_running.py: the real app, a real search, the window closed mid-search.

`python tests/gui/close_driver.py PROJECT_DIR` creates the QApplication, schedules the steps below on
its event loop, then runs the app's own entry point (tuner_app.gui.app.main), so start-up, the event
loop, shutdown and interpreter exit are the ones a user gets:
1. start a small dense search from the window's form into PROJECT_DIR (a child process);
2. once PROJECT_DIR/results.jsonl holds its first "epoch" event, close the window.
The process's exit status is the app's. Prints "closing" when it closes the window, then whether the
window is still open (it should be, until the search has stopped).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEADLINE_S = 240.0


def has_epoch(results: Path) -> bool:
    """True once the log holds an "epoch" event (lines still being written are skipped)."""
    try:
        lines = results.read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        try:
            if json.loads(line).get("event") == "epoch":
                return True
        except ValueError:
            continue
    return False


def main(project: Path) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from tuner_app.gui import app as gui_app
    from tuner_app.gui.main_window import MainWindow

    qt_app = QApplication(sys.argv[:1])
    started = time.monotonic()

    def window() -> MainWindow:
        return next(w for w in qt_app.topLevelWidgets() if isinstance(w, MainWindow))

    def start_search() -> None:
        form = window().form
        form.family.setCurrentText("dense")
        form.tuner.setCurrentText("random")
        form.max_trials.setText("2")
        form.epochs.setText("3")
        form.subset.setText("2000")
        form.project.setText(str(project))
        form.start_button.click()
        if window().search_runner is None:
            print(f"search did not start: {form.visible_errors()}", flush=True)
            qt_app.exit(3)
            return
        watch.start(100)

    def check() -> None:
        if has_epoch(project / "results.jsonl"):
            watch.stop()
            print("closing", flush=True)
            window().close()  # with a search running: stops it, closes once it has ended
            print(f"still open while the search stops: {window().isVisible()}", flush=True)
        elif time.monotonic() - started > DEADLINE_S:
            print("no epoch event in time", flush=True)
            qt_app.exit(4)

    watch = QTimer()
    watch.timeout.connect(check)
    # Start once the app's start-up (the Keras import) is over, as a user would: a timer set here
    # fired in the processEvents() before that import, and when the import took 6-14 s on a loaded
    # machine the small search could end before the window was ever closed (a flaky failure).
    preload = gui_app.preload_keras

    def preload_then_start() -> float:
        seconds = preload()
        QTimer.singleShot(0, start_search)  # runs once app.main's event loop starts
        return seconds

    gui_app.preload_keras = preload_then_start
    return gui_app.main([])


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
