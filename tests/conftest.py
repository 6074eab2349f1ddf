"""Shared fixtures: the real MNIST (offline copy), small real subsets, quiet TensorFlow."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

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


@pytest.fixture(scope="session")
def finished_project(tmp_path_factory, small_npz) -> Path:
    """A real finished project (1 trial, 1 epoch, 1,000 images) written by the CLI; copy it before
    changing it (`project_copy`)."""
    project = tmp_path_factory.mktemp("finished") / "run"
    cmd = [
        sys.executable, "-m", "tuner_app.search", "--max-trials", "1", "--epochs", "1", "--subset", "1000",
        "--data", small_npz, "--project-dir", str(project), "--quiet",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.fixture
def project_copy(tmp_path) -> Callable[[Path], Path]:
    """Copies a project into this test's folder, so a test may damage it."""

    def copy(project: Path) -> Path:
        target = tmp_path / "copy"
        shutil.copytree(project, target)
        return target

    return copy
