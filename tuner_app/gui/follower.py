"""Follows a project folder's results store with a QTimer: the window's only source of search data.

Why polling rather than engine callbacks: a search started from the form and a headless CLI run in
another process are followed the same way; ResultsReader.poll() reads only the lines added since.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from tuner_app.results import ResultsReader, SearchSnapshot

POLL_MS = 500


class ProjectFollower(QObject):
    """Emits `changed(snapshot)` only when the store's version moved: no work on idle polls."""

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None, interval_ms: int = POLL_MS):
        super().__init__(parent)
        self._reader: ResultsReader | None = None
        self._seen_version = -1
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)
        self.snapshot: SearchSnapshot | None = None

    @property
    def project_dir(self) -> Path | None:
        return self._reader.project_dir if self._reader else None

    def follow(self, project_dir: str | Path) -> SearchSnapshot:
        """Start following `project_dir` (reads everything written so far at once)."""
        self._reader = ResultsReader(project_dir)
        self._seen_version = -1
        self.snapshot = None
        self.poll()
        self._timer.start()
        return self.snapshot or self._reader.snapshot()

    def stop(self) -> None:
        self._timer.stop()

    def poll(self) -> None:
        if self._reader is None:
            return
        self._reader.poll()
        if self._reader.version == self._seen_version:
            return
        self._seen_version = self._reader.version
        self.snapshot = self._reader.snapshot()
        self.changed.emit(self.snapshot)
