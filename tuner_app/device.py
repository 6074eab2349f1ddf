"""Which device trains: a GPU when the backend sees one (memory growth on), the CPU otherwise."""

from __future__ import annotations

import os
from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class Device:
    """What trains: decisions read `gpu`; people read `str(device)`, e.g. 'GPU: NVIDIA H100'."""

    gpu: bool
    description: str

    def __str__(self) -> str:
        return self.description


def configure_device(mixed_precision: bool = False) -> Device:
    """Prepare the backend and say which device trains."""
    gpus = _gpu_names()
    if mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16" if gpus else "mixed_bfloat16")
    cores = os.cpu_count() or 1
    if gpus:
        return Device(True, f"GPU: {', '.join(gpus)}")
    return Device(False, f"CPU ({cores} cores)")


def has_gpu() -> bool:
    return bool(_gpu_names())


def _gpu_names() -> list[str]:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        names = []
        for gpu in gpus:
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:
                pass  # already initialised: growth can only be set before first use
            details = tf.config.experimental.get_device_details(gpu)
            names.append(details.get("device_name", gpu.name))
        return names
    if backend == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []
