"""Load a saved Keras model safely and ask it what digit a 28x28 image shows.

Why `safe_mode=True` and our own error type: a `.keras` file picked in the window may come from
anywhere; a Lambda layer in it would run arbitrary Python, so Keras must refuse it, and every way a
load can fail (missing, corrupt, not a Keras model, refused) is reported as one ModelLoadError whose
message a person can act on, never a traceback.

A `.keras` file is backend-neutral: a model trained under JAX or PyTorch loads and predicts here
under whatever backend this process runs (the window's is TensorFlow unless KERAS_BACKEND says
otherwise); tests/test_backends.py trains on JAX and classifies under TensorFlow.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tuner_app.backend import share_gpu_memory
from tuner_app.data import IMAGE_SHAPE, NUM_CLASSES


class ModelLoadError(ValueError):
    """The model file cannot be used; the message names the file and the reason."""


def load_model(path: str | Path) -> Any:
    """Load a `.keras` model with safe_mode on; raise ModelLoadError with a clear message."""
    path = Path(path)
    if not path.exists():
        raise ModelLoadError(f"Model file {path} does not exist.")
    if path.is_dir():
        raise ModelLoadError(f"{path} is a folder; pick a .keras model file (e.g. best_model.keras).")
    if path.suffix != ".keras":
        raise ModelLoadError(f"{path} is not a Keras model: expected a .keras file saved by Keras 3.")
    if not zipfile.is_zipfile(path):
        raise ModelLoadError(f"{path} is corrupt or not a Keras model (a .keras file is a zip archive).")
    share_gpu_memory()  # the pad shares the GPU with searches: no backend may take it all at load
    import keras

    try:
        model = keras.models.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises ValueError, TypeError, KeyError, OSError... on bad files
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "safe_mode" in str(exc) or "Lambda" in str(exc):
            raise ModelLoadError(
                f"{path} contains a Lambda layer (arbitrary Python code); refusing to load it in safe mode."
            ) from exc
        raise ModelLoadError(f"{path} could not be loaded as a Keras model: {text}") from exc
    if not isinstance(model, keras.Model):
        raise ModelLoadError(f"{path} holds a {type(model).__name__}, not a Keras model.")
    _check_interface(model, path)
    return model


def _check_interface(model: Any, path: Path) -> None:
    """The model must take 28x28 images (flat or not) and give 10 class probabilities."""
    try:
        out_shape = tuple(model.outputs[0].shape)
        in_size = int(np.prod([d for d in model.inputs[0].shape[1:] if d is not None]))
    except (AttributeError, IndexError, TypeError):
        return  # subclassed models expose no symbolic shapes; the first prediction will tell
    if out_shape[-1] != NUM_CLASSES or in_size != IMAGE_SHAPE[0] * IMAGE_SHAPE[1]:
        raise ModelLoadError(
            f"{path} takes inputs of shape {tuple(model.inputs[0].shape)} and gives {out_shape}; "
            "expected 28x28 MNIST images in and 10 class probabilities out."
        )


def predict_probabilities(model: Any, image: np.ndarray) -> np.ndarray:
    """(28, 28) float image in [0, 1] -> float (10,) probabilities (softmax applied if needed).

    `predict_on_batch`: neither `model.predict`, which sets up a data pipeline per call, nor an
    eager `model(x)`, which runs layer by layer: its traced (TensorFlow) or jitted (JAX) predict
    step is about 10x faster after the first call (measured on the 2-core CPU: 1.7 vs 20 ms for the
    99.6 % conv model, 4.0 vs 65 ms for an ensemble of three; 40 loads did not grow memory). The pad
    predicts as the user draws; its model loader makes the first, tracing call off the GUI thread.
    """
    x = np.asarray(image, dtype=np.float32)
    if x.shape != IMAGE_SHAPE:
        raise ValueError(f"Expected a {IMAGE_SHAPE} image, got {x.shape}.")
    shape = tuple(d if d is not None else -1 for d in model.inputs[0].shape[1:])
    batch = x.reshape((1, *shape))
    import keras

    # convert_to_numpy: a JAX array, a TensorFlow tensor or a (GPU) torch tensor, by the backend's rules
    out = np.asarray(keras.ops.convert_to_numpy(model.predict_on_batch(batch)), dtype=np.float64).reshape(-1)
    if out.min() < 0 or abs(out.sum() - 1.0) > 1e-3:  # logits: apply softmax
        out = np.exp(out - out.max())
        out = out / out.sum()
    return out
