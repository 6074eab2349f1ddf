"""Which backend and device train: a GPU when the backend sees one, the CPU otherwise.

Why per backend: each of Keras's backends finds GPUs and takes their memory its own way, and a search
shares the GPU with the window's pad. TensorFlow maps nearly all of a GPU's memory on first use unless
memory growth is set (done here, before first use); JAX preallocates 75 % unless told not to when it
loads (`tuner_app.backend.select_backend` sets XLA_PYTHON_CLIENT_PREALLOCATE=false; repeated below for
code that imports this module before Keras); PyTorch allocates on demand and needs nothing.

The description names the backend as well as the device ("CPU (2 cores), Keras backend jax"): it is
what the console prints, what summary.json and the window show, so a trial's record says what
actually trained it even when the process was started some other way than with --backend.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from tuner_app.backend import share_gpu_memory

share_gpu_memory()  # read when JAX (or TensorFlow) loads, if Keras has not loaded it yet

import keras  # noqa: E402  (after the environment it reads)

#: JAX's platform names for GPUs (CUDA and ROCm builds); "cpu" and "tpu" are not GPUs.
_JAX_GPU_PLATFORMS = ("gpu", "cuda", "rocm")


@dataclass(frozen=True)
class Device:
    """What trains: decisions read `gpu`; people read `str(device)`, e.g. 'GPU: NVIDIA H100, Keras
    backend jax'."""

    gpu: bool
    description: str
    backend: str = "tensorflow"

    def __str__(self) -> str:
        return self.description


def configure_device(mixed_precision: bool = False) -> Device:
    """Prepare the backend's devices (memory growth, precision policy) and say which one trains.

    Mixed precision: float16 with loss scaling on GPUs (their tensor cores run it), bfloat16 on CPUs
    (no loss scaling needed; Keras's CPU kernels accept it on every backend).
    """
    backend = keras.backend.backend()
    if backend != "tensorflow":
        _tensorflow_aside()
    gpus = _gpu_names(backend)
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16" if gpus else "mixed_bfloat16")
    hardware = f"GPU: {', '.join(gpus)}" if gpus else f"CPU ({os.cpu_count() or 1} cores)"
    return Device(bool(gpus), f"{hardware}, Keras backend {backend}", backend)


def has_gpu() -> bool:
    return bool(_gpu_names(keras.backend.backend()))


def _gpu_names(backend: str) -> list[str]:
    if backend == "tensorflow":
        return _tensorflow_gpus()
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform in _JAX_GPU_PLATFORMS]
    if backend == "torch":
        import torch

        if not torch.cuda.is_available():
            return []
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def _tensorflow_aside() -> None:
    """On JAX or PyTorch, load TensorFlow now, quietly, and keep it off the GPU.

    Why: `keras.utils.set_random_seed` (the engine seeds every search) also seeds TensorFlow whenever
    it is installed, and it is (a hard dependency), so TensorFlow loads under every backend. Loaded
    there, its native start-up logs reach the console and, on a GPU machine, it could claim GPU
    memory the training backend needs; hiding the GPUs from it before first use prevents both.
    """
    from tuner_app.native_logs import native_stderr_silenced

    if importlib.util.find_spec("tensorflow") is None:
        return  # e.g. a GPU machine with only JAX or PyTorch: nothing to load or hide
    with native_stderr_silenced():
        import tensorflow as tf

        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:
            pass  # TensorFlow already initialised its devices in this process: too late to hide them


def _tensorflow_gpus() -> list[str]:
    import tensorflow as tf

    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:
            pass  # already initialised: growth can only be set before first use
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return names
