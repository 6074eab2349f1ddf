"""Silence TensorFlow's native start-up chatter (CUDA probes on CPU machines) on the console.

TensorFlow's C++ logs bypass Python and ignore TF_CPP_MIN_LOG_LEVEL until absl is initialised, so
the only way to keep the console readable is to point file descriptor 2 elsewhere while TensorFlow
loads and probes devices. Python exceptions are unaffected: they print after the block ends.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced(enabled: bool = True) -> Iterator[None]:
    if not enabled or os.environ.get("TUNER_APP_NATIVE_LOGS"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_backend_quietly() -> None:
    """Import Keras (and its backend) and probe devices with native logs silenced."""
    with native_stderr_silenced():
        import keras

        from tuner_app.device import has_gpu

        keras.backend.backend()
        has_gpu()
