"""Runs SearchEngine(config).run() off the GUI thread; Stop calls engine.cancel().

Why a QThread and no engine callbacks into widgets: the engine writes the results store and the
window follows the store (tuner_app.gui.follower), exactly as it follows a headless CLI run, so the
only cross-thread traffic is `finished`/`failed` once at the end.
"""

from __future__ import annotations

import sys
import threading
import traceback

from PySide6.QtCore import QThread, Signal

from tuner_app.config import ConfigError, SearchConfig
from tuner_app.data import DataError
from tuner_app.results import ResultsError


class SearchThread(QThread):
    succeeded = Signal(str, str)  # state, reason
    failed = Signal(str, str)  # title, message

    def __init__(self, config: SearchConfig, parent=None):
        super().__init__(parent)
        self.config = config
        self._lock = threading.Lock()
        self._engine = None
        self._cancelled = False

    def cancel(self) -> None:
        """Thread-safe: stop after the current epoch (or before starting, if not started yet)."""
        with self._lock:
            self._cancelled = True
            if self._engine is not None:
                self._engine.cancel()

    def run(self) -> None:
        try:
            from tuner_app.native_logs import import_backend_quietly

            import_backend_quietly()
            from tuner_app.engine import SearchEngine

            engine = SearchEngine(self.config)
            with self._lock:
                self._engine = engine
                if self._cancelled:
                    engine.cancel()
            outcome = engine.run()
            self.succeeded.emit(outcome.state, outcome.reason)
        except Exception as exc:  # every failure ends in a dialog; a traceback only on stderr
            if _expected(exc):
                self.failed.emit("Search failed", str(exc))
            else:
                traceback.print_exc(file=sys.stderr)
                self.failed.emit("Search failed", f"Unexpected error: {type(exc).__name__}: {exc}")


def _expected(exc: Exception) -> bool:
    """Errors whose message is meant for the user (the engine's module may not have imported)."""
    engine = sys.modules.get("tuner_app.engine")
    search_error = getattr(engine, "SearchError", DataError)
    return isinstance(exc, DataError | ConfigError | ResultsError | search_error)
