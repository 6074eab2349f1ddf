"""Names for temporary files that two processes can never share, and the sweep of those a killed
writer left behind."""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path


def unique_suffix() -> str:
    """pid + random: a pid alone repeats across machines sharing a folder and after pid reuse."""
    return f"{os.getpid()}.{secrets.token_hex(4)}"


#: A temporary name made with `unique_suffix` (".NAME.PID.RANDOM.tmp", optionally ".tmp.EXT").
_TEMPORARY = re.compile(r"\A\..+\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp(\.\w+)?\Z")


def sweep_stale_temporaries(folder: str | Path, older_than_s: float = 600.0) -> list[Path]:
    """Delete the temporary files a killed writer left in `folder` and below (a kill -9 between
    writing a model and renaming it leaves one of up to tens of MB); returns those deleted.

    Stale: older than `older_than_s` and its writer's pid not alive here. A worker on another
    machine sharing the folder may have the same pid as a live local process (its file is then
    kept, harmless), and no write takes minutes, so a file in flight is never taken.
    """
    now = time.time()
    deleted = []
    try:
        candidates = list(Path(folder).rglob(".*.tmp*"))  # folders it cannot list are passed over
    except OSError:
        return deleted
    for path in candidates:
        match = _TEMPORARY.match(path.name)
        if match is None:
            continue
        try:
            if not path.is_file() or now - path.stat().st_mtime < older_than_s:
                continue
            if _alive(int(match["pid"])):
                continue
            path.unlink()
        except OSError:  # unreadable, gone meanwhile, or not ours to delete: leave it
            continue
        deleted.append(path)
    return deleted


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, OSError):  # someone else's process (EPERM), or a pid no process can have
        return True
    return True
