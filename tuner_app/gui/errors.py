"""Exceptions that escape a Qt slot, an event handler or a thread: logged with their traceback and shown
in the window, never the end of the window.

Why a hook: PySide6 hands an exception raised in a slot (a timer callback, the follower's poll, a
loader thread's run, a paint event) to `sys.excepthook` and carries on. The default hook only prints
it, so the user never learns that part of the window stopped updating (and other setups, PyQt's
default among them, abort the process instead). `ErrorReporter` logs the traceback to stderr and
emits `reported`, which the main window shows in its status bar; it may be called from any thread
(the signal is queued to the window's thread).
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Signal

log = logging.getLogger("tuner_app.gui")

SUMMARY_CHARS = 160


def summarise(exc_type: type[BaseException], exc: BaseException | None) -> str:
    """One line a person can read in a status bar: the exception's type and message."""
    text = f"{exc_type.__name__}: {exc}" if exc is not None and str(exc) else exc_type.__name__
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


class ErrorReporter(QObject):
    """`sys.excepthook` / `threading.excepthook` for the app: log, count, and tell the window."""

    reported = Signal(str, str)  # one-line summary, full traceback
    interrupted = Signal()  # Ctrl+C in the terminal reached a slot: close the window cleanly

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.count = 0
        self._previous: tuple | None = None

    def install(self) -> ErrorReporter:
        """Become the process's exception hooks (the previous ones come back with `uninstall`)."""
        if self._previous is None:
            self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.handle
        threading.excepthook = self.handle_thread
        return self

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None

    def handle(
        self, exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Log the exception with its traceback and emit `reported`; never raises."""
        try:
            if issubclass(exc_type, KeyboardInterrupt):
                self.interrupted.emit()
                return
            details = "".join(traceback.format_exception(exc_type, exc, tb))
            log.error("Unexpected error in the window (it keeps running):\n%s", details.rstrip())
            self.count += 1
            self.reported.emit(summarise(exc_type, exc), details)
        except Exception:  # the reporter itself failed (its QObject gone at exit): print, go on
            sys.__excepthook__(exc_type, exc, tb)  # type: ignore[arg-type]

    def handle_thread(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return  # what threading's own hook does
        self.handle(args.exc_type, args.exc_value, args.exc_traceback)


def install_error_hook(window=None) -> ErrorReporter:
    """Install an ErrorReporter and, given the main window, show its reports in the status bar."""
    reporter = ErrorReporter(window).install()
    if window is not None:
        reporter.reported.connect(window.report_error)
        reporter.interrupted.connect(window.close)
    return reporter
