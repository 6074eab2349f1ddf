"""Closing the window while it still starts (before Keras is loaded) ends the app: it waited for
a window forever (found by the break-it pass: a close in the first ~50 ms hung)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

DRIVER = textwrap.dedent(
    """
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    qt_app = QApplication(sys.argv[:1])
    from tuner_app.gui import app
    from tuner_app.gui.main_window import MainWindow

    def close():
        for widget in qt_app.topLevelWidgets():
            if isinstance(widget, MainWindow):
                widget.close()

    QTimer.singleShot(0, close)  # runs in the start-up's first event pass
    sys.exit(app.main([]))
    """
)


def test_closing_the_window_while_it_starts_ends_the_app() -> None:
    ran = subprocess.run([sys.executable, "-c", DRIVER], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
