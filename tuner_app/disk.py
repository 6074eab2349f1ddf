"""A full disk ends the search at the first failed write, with one clear message and no crash.

Why this module exists: KerasTuner catches every exception a trial raises and records the trial as
failed, so on a full disk every following trial "failed" too (each checkpoint save hit ENOSPC), and
the process then died with a segmentation fault at exit. The crash came from HDF5: Keras's
`save_weights` skips closing its HDF5 file when a write raises, the file then cannot be closed on
garbage collection either (closing flushes metadata to the full disk: h5py's "Can't decrement id ref
count"), so its ids stay registered in libhdf5, and HDF5's own exit handler (`H5_term_library`)
crashes closing them.

Here: writes that fail because the disk (or the user's quota) is full raise `DiskFull`, a KerasTuner
`FatalError`, which KerasTuner re-raises untouched instead of failing the trial; checkpoints are
built in memory and written with plain file writes, so HDF5 never holds a file on the failing disk;
KerasTuner's JSON state is written atomically, so a full disk cannot leave a truncated oracle.json or
trial.json behind and `--resume` works once space is freed.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from keras_tuner.errors import FatalError

DISK_FULL_ERRNOS = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code)
# How libraries that do not raise OSError (TensorFlow's file API, HDF5 messages) spell the same errors.
DISK_FULL_TEXTS = tuple(
    dict.fromkeys(
        [os.strerror(code) for code in sorted(DISK_FULL_ERRNOS)]
        + ["No space left on device", "Disk quota exceeded"]
    )
)


class DiskFull(FatalError):
    """A write failed because the disk holding the project folder is full (ENOSPC, EDQUOT).

    A KerasTuner `FatalError`: raised inside a trial it ends `search()` instead of failing the trial.
    """

    def __init__(self, strerror: str, path: str | None = None):
        super().__init__(f"{strerror}: {path}" if path else strerror)
        self.strerror = strerror
        self.path = path

    def reason(self, folder: str | Path) -> str:
        return f"the disk holding {folder} is full ({self.strerror})"

    def message(self, folder: str | Path) -> str:
        return f"{self.reason(folder)}; finished trials are kept; free space and continue with --resume"


def disk_full_text(text: str | None) -> str | None:
    """The disk-full error named in `text` (a trial's failure message, a library's error), if any."""
    if not text:
        return None
    return next((known for known in DISK_FULL_TEXTS if known in text), None)


def as_disk_full(exc: BaseException | None) -> DiskFull | None:
    """`exc` as a DiskFull when it, or an error it was raised from or while handling, is a full disk."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DiskFull):
            return exc
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            path = exc.filename if isinstance(exc.filename, str) else None
            return DiskFull(os.strerror(exc.errno), path)
        text = disk_full_text(str(exc))
        if text:
            return DiskFull(text)
        exc = exc.__cause__ or exc.__context__
    return None


def raise_if_disk_full(exc: BaseException) -> None:
    """Raise `exc` as a DiskFull (chained to it) when it is one; return otherwise."""
    full = as_disk_full(exc)
    if full is exc:
        raise full
    if full is not None:
        raise full from exc


@contextlib.contextmanager
def tolerating_disk_full(on_full: Callable[[DiskFull], None]) -> Iterator[None]:
    """Best-effort writes after the disk filled (closing records): a full disk is reported to
    `on_full` instead of raised; any other error still raises."""
    try:
        yield
    except Exception as exc:
        full = as_disk_full(exc)
        if full is None:
            raise
        on_full(full)


def write_file_atomically(path: str | Path, data: bytes | bytearray | memoryview) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    A failed write (full disk) leaves the previous `path` intact and no partial file behind."""
    path = os.fspath(path)
    unique = f"{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}"
    name = f".{os.path.basename(path)}.{unique}.tmp"
    tmp = os.path.join(os.path.dirname(path) or ".", name)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data).cast("B")
            while view:  # os.write may write less than asked (e.g. the last free block)
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if exc.filename is None:  # os.write names no file; say which one
            raise OSError(exc.errno, exc.strerror, path) from exc
        raise


def save_weights_file(model: Any, path: str | Path) -> None:
    """`model.save_weights(path)` (Keras's .weights.h5 format), built in memory and written atomically.

    Keras's own `save_weights` writes through HDF5 straight to `path`; when the disk fills mid-write
    it leaves the HDF5 file open and unclosable, and the process crashes at exit (see the module
    docstring). Here HDF5 writes into a BytesIO only; the bytes reach the disk through plain writes.
    """
    from tuner_app.keras_tuner_seam import weights_store

    found = weights_store()
    if found is None:  # a Keras without these internals: its own writer
        model.save_weights(path)
        return
    store_class, save_state = found
    buffer = io.BytesIO()
    store = store_class(buffer, mode="w")
    try:
        save_state(model, weights_store=store, assets_store=None, inner_path="", visited_saveables=set())
    finally:
        store.close()  # closes the HDF5 file; the BytesIO stays open
    write_file_atomically(path, buffer.getbuffer())


def _save_best_epoch(callback: Any) -> None:
    """KerasTuner's `SaveBestEpoch._save_model`, through `save_weights_file`.

    (KerasTuner redirects non-chief workers of a multi-worker TensorFlow strategy to a temporary
    folder; the app has no such strategy: "mirrored" is one machine, always the chief.)"""
    try:
        save_weights_file(callback.model, callback.filepath)
    except OSError as exc:
        raise_if_disk_full(exc)
        raise


def save_checkpoints_safely(callbacks: list[Any]) -> None:
    """Make KerasTuner's best-epoch checkpoint callback (in a trial's callbacks) write safely."""
    from tuner_app.keras_tuner_seam import override_checkpoint_save

    for callback in callbacks:
        override_checkpoint_save(callback, _save_best_epoch)


_KT_SAVE_JSON: Callable[[str, Any], str] | None = None


def _save_json_atomically(path: str, obj: Any) -> str:
    """KerasTuner's `utils.save_json`, atomic for local files; a full disk raises DiskFull."""
    text = json.dumps(obj)
    if "://" in str(path):  # gs://, ram:// ...: KerasTuner's own writer
        assert _KT_SAVE_JSON is not None
        return _KT_SAVE_JSON(path, obj)
    try:
        write_file_atomically(path, text.encode())
    except OSError as exc:
        raise_if_disk_full(exc)
        raise
    return text


def install_atomic_keras_tuner_json() -> None:
    """KerasTuner rewrites oracle.json and trial.json in place (truncate, then write); on a full disk
    that leaves them empty and the search cannot be resumed. Route its `save_json` through an atomic
    write (idempotent; affects this process's KerasTuner only)."""
    global _KT_SAVE_JSON
    from tuner_app.keras_tuner_seam import replace_save_json

    before = replace_save_json(_save_json_atomically)
    if before is not _save_json_atomically:
        _KT_SAVE_JSON = before
