"""Appends events to a project's results log (`results.jsonl`), safely for crashes and workers.

Each event is one JSON line, written whole under an advisory lock and fsynced (after the lock is
released) before `append` returns, so a kill loses at most the line being written and several worker
processes can share one log. The reader is `tuner_app.results`.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

RESULTS_FILE = "results.jsonl"


class LogReplaced(RuntimeError):
    """The results log was deleted or replaced under a running search; appending would split it."""


class ResultsWriter:
    """Appends events to the project's log; every line is flushed to disk before it returns.

    The first append creates the log (and the folder); later appends refuse to write into a log that
    was deleted or replaced meanwhile (LogReplaced), since recreating it would keep only the events
    written after the swap and the search would look like another one.
    """

    def __init__(self, project_dir: str | Path, worker: str = "main"):
        self.path = Path(project_dir) / RESULTS_FILE
        self.worker = worker
        self._file_id: tuple[int, int] | None = None  # (device, inode) of the log first written
        self._end = 0  # the log's size after this writer's last line: it can only grow

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        record = {"event": event, "time": time.time(), "worker": self.worker, **fields}
        line = (json.dumps(record, default=_json_default, allow_nan=True) + "\n").encode()
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # several workers may share one project folder
            try:
                _repair_torn_tail(fd)
                _append_whole_line(fd, line)
                self._end = os.fstat(fd).st_size
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            # Flushed to disk after the lock is let go: the line is already in the log for every
            # reader and writer, and fsync is the slow part (milliseconds; more on a busy disk). Held
            # through it, a writer stopped there (Ctrl+Z, SIGSTOP, a debugger) froze every other
            # worker's next event, and once a resumed chief, until it was continued.
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC
        if self._file_id is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags |= os.O_CREAT
        try:
            fd = os.open(self.path, flags, 0o644)
        except FileNotFoundError:
            raise LogReplaced(
                f"{self.path} was deleted while the search was writing it; the search stops so that "
                "it does not start a log of its own half (KerasTuner's state and checkpoints remain)"
            ) from None
        info = os.fstat(fd)
        file_id = (info.st_dev, info.st_ino)
        if self._file_id is None:
            self._file_id = file_id
        elif file_id != self._file_id:
            os.close(fd)
            raise LogReplaced(
                f"{self.path} was replaced by another file while the search was writing it; the "
                "search stops rather than mix its events into that file"
            )
        elif info.st_size < self._end:  # emptied or cut in place (`: > file`, an editor's save)
            os.close(fd)
            raise LogReplaced(
                f"{self.path} was truncated while the search was writing it (it holds "
                f"{info.st_size} bytes, {self._end} were written); the search stops rather than "
                "continue a log that lost its beginning"
            )
        return fd


def _repair_torn_tail(fd: int) -> None:
    """After a crash mid-write, end the torn line so the next event starts on a line of its own."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        os.write(fd, b"\n")


def _append_whole_line(fd: int, line: bytes) -> None:
    """Append `line` whole or not at all: on a full disk os.write writes what fits and only the next
    write raises (ENOSPC); the part written is cut off again, so the log keeps no torn line (the
    caller holds the lock, so nobody appended meanwhile)."""
    start = os.fstat(fd).st_size
    try:
        view = memoryview(line)
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        try:
            os.ftruncate(fd, start)
        except OSError:
            pass
        raise


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)
