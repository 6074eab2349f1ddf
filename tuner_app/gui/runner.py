"""Runs a search off the GUI thread: in a child process (default) or a QThread; Stop = engine.cancel().

Why a QThread and no engine callbacks into widgets: the engine writes the results store and the
window follows the store (tuner_app.gui.follower), exactly as it follows a headless CLI run, so the
only cross-thread traffic is `finished`/`failed` once at the end.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QThread, Signal

from tuner_app.config import ConfigError, SearchConfig
from tuner_app.data import DataError
from tuner_app.exit_codes import ExitCode
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
            from tuner_app.backend import select_backend

            select_backend(self.config.backend)  # in-process: only the backend already loaded, if any
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
    from tuner_app.backend import BackendError

    return isinstance(exc, DataError | ConfigError | ResultsError | BackendError | search_error)


# -- child process ---------------------------------------------------------------------------------
EXIT_MESSAGES = {ExitCode.FAILED: "The search failed.", ExitCode.USAGE: "The search could not start."}


def config_to_argv(config: SearchConfig) -> list[str]:
    """The `python -m tuner_app.search` arguments that rebuild `config` in a child process.

    Derived from the core's settings table, so a setting added there reaches the child unasked.
    """
    from tuner_app.settings import config_to_argv as settings_argv

    return [*settings_argv(config), "--project-dir", str(config.project_dir), "--quiet"]


class SearchProcess(QObject):
    """Runs the search as `python -m tuner_app.search --quiet` in a child process (QProcess).

    Why: measured on 2 CPU cores, TensorFlow training in a thread of the window's process holds the
    GIL long enough to freeze the window for 200-700 ms at a time; a child process cannot. Stop sends
    SIGTERM, which the CLI turns into engine.cancel() (stop after the current epoch, trials kept).
    Same signals as SearchThread.
    """

    succeeded = Signal(str, str)
    failed = Signal(str, str)
    finished = Signal()

    def __init__(self, config: SearchConfig, parent: QObject | None = None):
        super().__init__(parent)
        self.config = config
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.process.finished.connect(self._ended)
        self.process.errorOccurred.connect(self._error)
        self._reported = False
        self._cancelled = False

    def start(self) -> None:
        root = Path(__file__).resolve().parents[2]
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONPATH", os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
        self.process.setProcessEnvironment(env)
        self.process.start(sys.executable, ["-m", "tuner_app.search", *config_to_argv(self.config)])
        if self.process.waitForStarted(5000):  # a few ms; failures still arrive as errorOccurred
            lower_priority(self.process.processId())

    def cancel(self) -> None:
        self._cancelled = True
        if self.process.state() == QProcess.ProcessState.Starting:
            self.process.waitForStarted(5000)
        if self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.terminate()  # SIGTERM: the CLI stops after the current epoch

    def isRunning(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def wait(self, msecs: int = -1) -> bool:
        return self.process.waitForFinished(msecs)

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._reported = True
            self.failed.emit(
                "Search failed", f"Could not start {sys.executable}: {self.process.errorString()}"
            )
            self.finished.emit()

    def _ended(self, code: int, status: QProcess.ExitStatus) -> None:
        if self._reported:
            return
        stderr = bytes(self.process.readAllStandardError().data()).decode(errors="replace")
        errors = [line[len("error: ") :] for line in stderr.splitlines() if line.startswith("error: ")]
        if status == QProcess.ExitStatus.CrashExit and self._cancelled:
            self.succeeded.emit("stopped", "stopped before the search had started")  # SIGTERM came first
        elif status == QProcess.ExitStatus.CrashExit:
            self.failed.emit("Search failed", "The search process crashed; finished trials are kept.")
        elif code in EXIT_MESSAGES:
            self.failed.emit("Search failed", errors[-1] if errors else EXIT_MESSAGES[code])
        else:
            self.succeeded.emit("stopped" if code == ExitCode.INTERRUPTED else "finished", "")
        self.finished.emit()


SEARCH_NICENESS = 10


def lower_priority(pid: int) -> None:
    """Run the child search at a lower CPU priority than the window (nice +SEARCH_NICENESS).

    Why: on 2 cores TensorFlow's threads take both; a plot redraw that costs ~45 ms on an idle
    machine measured 100-290 ms of frozen window under that load. Lowered right after exec, before
    TensorFlow starts its thread pools, which inherit it. Training loses only the CPU the window uses.
    """
    if not hasattr(os, "setpriority") or pid <= 0:
        return
    try:
        os.setpriority(os.PRIO_PROCESS, pid, SEARCH_NICENESS)
    except OSError:
        pass  # not allowed or already gone: the search runs at normal priority


def make_runner(config: SearchConfig, parent: QObject | None = None) -> SearchThread | SearchProcess:
    """A child process by default (measured responsive); TUNER_APP_ENGINE=thread runs it in-process."""
    if os.environ.get("TUNER_APP_ENGINE", "process") == "thread":
        return SearchThread(config, parent)
    return SearchProcess(config, parent)
