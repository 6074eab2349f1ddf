"""Shared fixtures: the real MNIST (offline copy), small real subsets, quiet TensorFlow."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from tuner_app import data


@pytest.fixture(scope="session")
def mnist() -> data.Mnist:
    return data.load_mnist()


@pytest.fixture(scope="session")
def small_npz(tmp_path_factory, mnist) -> str:
    """A real 3,000/1,000-image MNIST subset written in Keras's npz layout."""
    path = tmp_path_factory.mktemp("data") / "small.npz"
    np.savez(
        path,
        x_train=mnist.x_train[:3000],
        y_train=mnist.y_train[:3000],
        x_test=mnist.x_test[:1000],
        y_test=mnist.y_test[:1000],
    )
    return str(path)
