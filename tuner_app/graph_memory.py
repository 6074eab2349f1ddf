"""Hand back what TensorFlow keeps of a finished trial's traced graphs.

Why: a `tf.custom_gradient` traced inside a `tf.function` registers its gradient closure in
TensorFlow's process-global gradient registry under a fresh name ("CustomGradient-<uid>") and never
removes it. The closure holds the trial's whole traced train step (every FuncGraph, op and tensor),
so neither `keras.backend.clear_session()` nor `gc.collect()` frees it: a long search grew about
8 MiB per trial (810 -> 1,156 MiB over 50 short dense trials). Found by walking `gc.get_referrers`
from a surviving `one_step_on_data` FuncGraph to `ops._gradient_registry`.

A finished trial's graphs are never traced again (each trial and replicate builds a new model), so
the names registered while it ran can be dropped when it ends. JAX and PyTorch have no such
registry (TensorFlow, loaded under them only to be seeded, traces nothing), so on them this part is
skipped, and said once in the log (`SKIPPED`).

JAX keeps every compiled train/eval step in process-wide caches that outlive the trial's model: 16
one-epoch dense trials in one process grew from 1,728 to 3,449 MiB resident (+99.6 % from trial 3;
benchmarks/results/backend_memory.md). With `jax.clear_caches()` and a garbage collection when each
trial ends: 1,579 to 1,814 MiB (+14.8 %, flat over the last four trials). A later trial compiles
its own new model anyway, so nothing is lost. PyTorch: not measured yet.

The registry is process-wide: a model traced by another thread during the trial (the window's
in-process mode loading a model for the pad) loses its entries too, which matters only if something
later differentiates through that model's custom gradients; nothing in this tool does.
"""

from __future__ import annotations

import logging
from typing import Any

import keras

PREFIX = "CustomGradient-"
SKIPPED = "TensorFlow graph release skipped: only TensorFlow registers gradients per trial (Keras backend {})"
_log = logging.getLogger(__name__)
_said_skipped = False


def _registry() -> dict[str, Any] | None:
    backend = keras.backend.backend()
    if backend != "tensorflow":
        _say_skipped(backend)
        return None
    try:
        from tensorflow.python.framework import ops
    except ImportError:  # pragma: no cover - TensorFlow's internal layout changed
        return None
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None


def _say_skipped(backend: str) -> None:
    global _said_skipped
    if not _said_skipped:
        _said_skipped = True
        _log.info(SKIPPED.format(backend))


class TrialGraphs:
    """`mark()` when a trial starts, `release()` when it ends."""

    def __init__(self) -> None:
        self._before: set[str] | None = None

    def mark(self) -> None:
        registry = _registry()
        self._before = set(registry) if registry is not None else None

    def release(self) -> int:
        """Drop what the finished trial left: TensorFlow's custom-gradient entries registered since
        `mark()` (returns how many), JAX's compiled-function caches (returns 0)."""
        if keras.backend.backend() == "jax":
            _release_jax()
        registry = _registry()
        if registry is None or self._before is None:
            return 0
        stale = [name for name in registry if name.startswith(PREFIX) and name not in self._before]
        for name in stale:
            registry.pop(name, None)
        self._before = None
        return len(stale)


def _release_jax() -> None:
    import gc

    import jax

    jax.clear_caches()
    gc.collect()
