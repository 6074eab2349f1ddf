"""Which Keras backend trains: TensorFlow (the default), JAX or PyTorch, chosen before Keras loads.

Why a module of its own: Keras reads `KERAS_BACKEND` once, when `keras` is first imported, and never
again in that process. So the choice must be applied before anything imports Keras (the CLI does it
right after parsing its flags), and a process that already loaded Keras with another backend must be
told so instead of silently training on the wrong one. Nothing here imports Keras or a backend: the
parser, `--help` and the window's form stay fast.

GPU memory: JAX preallocates 75 % of a GPU's memory when it starts, which would starve the window's
pad (and anything else) sharing that GPU; `XLA_PYTHON_CLIENT_PREALLOCATE=false` makes it allocate
as it goes. It too is read only when JAX loads, so it is set here, before Keras imports JAX.
TensorFlow's memory growth and PyTorch (which allocates on demand) are handled in `device.py`.
"""

from __future__ import annotations

import importlib.util
import os
import sys

#: The Keras backends this tool runs on, the default first.
BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT_BACKEND = "tensorflow"
#: The package each backend imports, and the extra of ours that installs its CPU build.
_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}
_INSTALL = {
    "tensorflow": "pip install tensorflow",
    "jax": "pip install 'tuner-app[jax]'",
    "torch": "pip install 'tuner-app[torch]'",
}
#: Parts of the tool that exist only on TensorFlow (KerasTuner 1.4 and Keras 3 limit them to it).
TENSORFLOW_ONLY = {
    "strategy": "--strategy mirrored uses TensorFlow's MirroredStrategy",
    "tensorboard": "--tensorboard writes KerasTuner's TensorBoard HParams logs, which KerasTuner 1.4 "
    "writes only on the TensorFlow backend",
}


class BackendError(ValueError):
    """The backend cannot be used in this process; the message says what to do instead."""


def requested_backend() -> str:
    """The backend asked for by the environment (`KERAS_BACKEND`), else the default (TensorFlow)."""
    return os.environ.get("KERAS_BACKEND", "").strip().lower() or DEFAULT_BACKEND


def backend_problem(name: str) -> str | None:
    """Why `name` cannot be used here (unknown, or its package is not installed), or None."""
    if name not in BACKENDS:
        return f"--backend {name!r} is unknown; choose one of {', '.join(BACKENDS)}."
    if importlib.util.find_spec(_PACKAGES[name]) is None:
        return (
            f"--backend {name}: the {name} package is not installed in this Python "
            f"({sys.executable}); install it with: {_INSTALL[name]}"
        )
    return None


def loaded_backend() -> str | None:
    """The backend Keras loaded with in this process, or None when Keras is not imported yet."""
    if "keras" not in sys.modules:
        return None
    import keras

    return keras.backend.backend()


def select_backend(name: str) -> None:
    """Make `name` the backend Keras loads with (call before the first `import keras`).

    Raises BackendError when the backend is unknown or not installed, or when Keras is already loaded
    with another backend in this process (a new process is the only cure).
    """
    problem = backend_problem(name)
    if problem:
        raise BackendError(problem)
    loaded = loaded_backend()
    if loaded is not None and loaded != name:
        raise BackendError(
            f"Keras is already loaded with the {loaded} backend in this process; --backend {name} "
            "needs a new process (python -m tuner_app.search --backend ...)."
        )
    os.environ["KERAS_BACKEND"] = name
    share_gpu_memory()


def share_gpu_memory() -> None:
    """Ask every backend loaded from now on to take GPU memory as it needs it, not up front.

    JAX preallocates 75 % of the GPU and TensorFlow maps nearly all of it unless told otherwise;
    both read these variables when they load. A user's own setting wins. Call it before Keras is
    imported: the CLI through `select_backend`, the pad's loader (tuner_app.predict) directly.
    """
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
