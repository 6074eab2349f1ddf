"""Follows a project folder's results store with a QTimer: the window's only source of search data.

Why polling rather than engine callbacks: a search started from the form and a headless CLI run in
another process are followed the same way; ResultsReader.poll() reads only the lines added since.

Why a poll that raises is caught here: an exception escaping the timer's slot would leave the window
showing stale numbers with nobody told. A failed poll is logged (with its traceback), reported through
`failed` (the window's status bar) and retried with a growing interval; the retry reads the log again
from its start with a fresh reader, because the failed reader may already have consumed the chunk it
was folding, and the events after the failing one must not be lost.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from tuner_app.events import SearchState
from tuner_app.gui.errors import summarise
from tuner_app.project_lock import lock_holder
from tuner_app.results import ResultsReader, SearchSnapshot

POLL_MS = 500
MAX_RETRY_MS = 8000  # a poll that keeps failing is retried at most this far apart

log = logging.getLogger(__name__)


class ProjectFollower(QObject):
    """Emits `changed(snapshot)` only when the store's version moved: no work on idle polls."""

    changed = Signal(object)
    failed = Signal(str, str)  # one-line summary, traceback: reading the store raised

    def __init__(
        self,
        parent: QObject | None = None,
        interval_ms: int = POLL_MS,
        reader_factory: Callable[[Path], ResultsReader] = ResultsReader,
    ):
        super().__init__(parent)
        self.reader_factory = reader_factory  # public: a test injects a failing reader
        self._reader: ResultsReader | None = None
        self._project: Path | None = None
        self._seen_version = -1
        self._seen_live: bool | None = None
        self._interval_ms = interval_ms
        self._resync = False  # the last poll raised: start again from the log's first line
        self._last_failure: str | None = None
        self.failures = 0
        self.version = 0  # counts `changed` emits; unlike the reader's, it survives a resync
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)
        self.snapshot: SearchSnapshot | None = None

    @property
    def project_dir(self) -> Path | None:
        return self._project

    @property
    def active(self) -> bool:
        """True while the timer polls (follow() until stop())."""
        return self._timer.isActive()

    def follow(self, project_dir: str | Path) -> SearchSnapshot | None:
        """Start following `project_dir` (reads everything written so far at once)."""
        self._project = Path(project_dir)
        self._reader = self.reader_factory(self._project)
        self._seen_version = -1
        self._resync = False
        self._last_failure = None
        self._timer.setInterval(self._interval_ms)
        self.snapshot = None
        self.poll()
        self._timer.start()
        return self.snapshot

    def stop(self) -> None:
        self._timer.stop()

    def poll(self) -> None:
        """Fold in new events and emit `changed`; an exception is reported, never raised."""
        if self._project is None:
            return
        try:
            if self._resync or self._reader is None:
                self._reader = self.reader_factory(self._project)
                self._seen_version = -1
            self._resync = False
            self._reader.poll()
            live = self._live()
            if self._reader.version == self._seen_version and live == self._seen_live:
                self._recovered()
                return
            snapshot = self._reader.snapshot(live=live)
        except Exception as exc:
            self._poll_failed(exc)
            return
        self._recovered()
        self._seen_version = self._reader.version
        self._seen_live = live
        self.snapshot = snapshot
        self.version += 1
        self.changed.emit(snapshot)  # a slot that raises goes to the app's error hook, not here

    def _live(self) -> bool | None:
        """While the log says "running": does a process still hold the folder? (None otherwise.)"""
        if self._reader is None or self._reader.state is not SearchState.RUNNING:
            return None
        return lock_holder(self._project) is not None

    def _poll_failed(self, exc: Exception) -> None:
        self._resync = True
        self.failures += 1
        self._timer.setInterval(min(max(self._timer.interval(), self._interval_ms) * 2, MAX_RETRY_MS))
        summary = f"Reading {self._project} failed: {summarise(type(exc), exc)}"
        if summary == self._last_failure:  # the same failure again: once in the log is enough
            log.debug("%s (again)", summary)
            return
        self._last_failure = summary
        log.error("%s; retrying", summary, exc_info=exc)
        self.failed.emit(summary, "".join(traceback.format_exception(exc)))

    def _recovered(self) -> None:
        if self._last_failure is not None or self._timer.interval() != self._interval_ms:
            self._last_failure = None
            self._timer.setInterval(self._interval_ms)
