"""One project folder, one search: an exclusive `fcntl.flock` on the folder, held for the life of a
search or chief.

Why flock: the kernel drops it when the holding process ends, however it ends (kill -9, a crash, a
reboot), so a stale lock can never block a folder. The lock file also names its holder (pid, host,
start time, role) so a refused second search can say who has the folder. Workers never take it:
they join their chief's folder and register with the chief.

What it does not guarantee: flock over NFS or other network file systems is only as good as the
server's lock support (Linux NFSv4 emulates it with byte-range locks; older setups may not lock at
all). On such folders run one chief and let the workers share it; do not start two chiefs.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import secrets
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tuner_app.files import unique_suffix

LOCK_FILE = "search.lock"
#: A peek at the lock (the window asking "is this search alive?") holds it for microseconds; an
#: acquirer retries this long before it calls the folder busy.
ACQUIRE_RETRY_S = 1.0


@dataclass(frozen=True)
class LockHolder:
    """Who holds a project folder, as written into its lock file."""

    pid: int
    host: str
    started_at: float
    role: str = "standalone"
    token: str = ""  # random per acquisition: a worker proves it sees the chief's own folder

    def describe(self) -> str:
        when = datetime.datetime.fromtimestamp(self.started_at).strftime("%Y-%m-%d %H:%M:%S")
        return f"pid {self.pid} on {self.host}, started {when} ({self.role} search)"


class ProjectBusy(RuntimeError):
    """Another live process holds the project folder; the message names it and says what to do."""

    def __init__(self, project_dir: Path, holder: LockHolder | None):
        self.project_dir = project_dir
        self.holder = holder
        who = holder.describe() if holder else "a process that has not yet said who it is"
        stop = f"Ctrl+C, kill {holder.pid}" if holder else "Ctrl+C"
        super().__init__(
            f"{project_dir} is in use by another search: {who}. Wait for it to end or stop it "
            f"({stop}, or Stop in the window), or choose another --project-dir."
        )


class ProjectLock:
    """Hold the project folder exclusively; use as a context manager around the whole search.

    The lock is taken on the folder itself, not on a file in it: a lock file can be deleted under a
    running search, and the next search would then lock a new file and run beside it. The folder
    cannot vanish without the search's results going with it. `search.lock` only names the holder.
    """

    def __init__(self, project_dir: str | Path, role: str = "standalone"):
        self.project_dir = Path(project_dir)
        self.path = self.project_dir / LOCK_FILE
        self.role = role
        self.token = secrets.token_hex(8)  # tells a worker that it shares this very folder
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> ProjectLock:
        """Take the lock or raise ProjectBusy naming the holder (OSError if the folder is unusable)."""
        if self._fd is not None:
            return self
        self.project_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.project_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        deadline = time.monotonic() + ACQUIRE_RETRY_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise ProjectBusy(self.project_dir, read_holder(self.project_dir)) from None
                time.sleep(0.05)
        holder = LockHolder(os.getpid(), socket.gethostname(), time.time(), self.role, self.token)
        try:
            tmp = self.path.with_name(f".{LOCK_FILE}.{unique_suffix()}.tmp")
            tmp.write_text(json.dumps(asdict(holder)) + "\n")
            os.replace(tmp, self.path)  # whole or not at all: a reader never sees half of it
        except OSError as exc:
            os.close(fd)
            raise OSError(exc.errno, f"cannot write {self.path}: {exc.strerror}", str(self.path)) from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> ProjectLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(project_dir: str | Path) -> LockHolder | None:
    """The live process holding `project_dir`, or None when no search runs there now.

    Why not trust the log's "running": a search killed with -9 never writes that it ended; the
    kernel's lock is the only fact that cannot go stale.
    """
    try:
        fd = os.open(project_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return read_holder(project_dir) or LockHolder(0, "?", 0.0, "unknown")
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def read_holder(project_dir: str | Path) -> LockHolder | None:
    """What `search.lock` says of its holder (None if missing or unreadable); says nothing of
    whether that holder still lives: `lock_holder` does."""
    try:
        data = json.loads((Path(project_dir) / LOCK_FILE).read_text() or "null")
        return LockHolder(
            pid=int(data["pid"]),
            host=str(data["host"]),
            started_at=float(data["started_at"]),
            role=str(data.get("role", "standalone")),
            token=str(data.get("token", "")),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def busy_problem(project_dir: str | Path) -> str | None:
    """The message a second search would get in `project_dir` now, or None when it is free."""
    holder = lock_holder(project_dir)
    return str(ProjectBusy(Path(project_dir), holder)) if holder is not None else None
