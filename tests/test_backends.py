"""Keras's backends: --backend, what each records, and models that move between backends.

The fast tests run in any environment. The slow ones run real searches under JAX and PyTorch in
child processes (Keras reads its backend once per process); they skip where the backend's package is
not installed, unless TUNER_APP_REQUIRE_BACKENDS names it (CI's backend step sets it), so a CI run
without the package fails instead of passing on skips.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tuner_app.backend import BACKENDS, BackendError, requested_backend, select_backend
from tuner_app.config import ConfigError, SearchConfig
from tuner_app.device import Device, configure_device
from tuner_app.exit_codes import ExitCode
from tuner_app.tuner_factory import xla_setting

OTHER_BACKENDS = ("jax", "torch")
REQUIRED = {name.strip() for name in os.environ.get("TUNER_APP_REQUIRE_BACKENDS", "").split(",") if name}


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def needs(backend: str) -> None:
    """Skip without the backend's package, or fail when CI said it must be there."""
    if installed(backend):
        return
    if backend in REQUIRED:
        pytest.fail(f"TUNER_APP_REQUIRE_BACKENDS names {backend}; it is not installed in {sys.executable}")
    pytest.skip(f"{backend} is not installed (pip install 'tuner-app[{backend}]')")


def child_env(backend: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    return env


def cli(*args: str, backend_env: str | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tuner_app.search", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=child_env(backend_env),
    )


# -- choosing a backend -----------------------------------------------------------------------------
def test_backend_defaults_to_keras_backend_else_tensorflow(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert requested_backend() == "tensorflow"
    assert SearchConfig(project_dir=tmp_path / "p").validated().backend == "tensorflow"
    monkeypatch.setenv("KERAS_BACKEND", " JAX ")
    assert requested_backend() == "jax"
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    assert SearchConfig(project_dir=tmp_path / "p").validated().backend == "tensorflow"
    # a flag (or a resumed project's record) wins over the environment
    assert SearchConfig(project_dir=tmp_path / "p", backend="tensorflow").validated().backend == "tensorflow"


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_a_backend_that_is_not_installed_exits_2_with_the_install_command(backend, tmp_path):
    if installed(backend):
        pytest.skip(f"{backend} is installed here; the refusal is tested where it is not")
    project = tmp_path / "p"
    result = cli("--backend", backend, "--max-trials", "1", "--project-dir", str(project))
    assert result.returncode == ExitCode.USAGE, result.stdout + result.stderr
    assert f"pip install 'tuner-app[{backend}]'" in result.stderr
    assert not project.exists()  # refused before anything was written
    with pytest.raises(ConfigError, match=rf"tuner-app\[{backend}\]"):
        SearchConfig(project_dir=project, backend=backend).validated()


def test_an_unknown_backend_is_refused(tmp_path):
    result = cli("--backend", "mxnet", "--project-dir", str(tmp_path / "p"), timeout=120)
    assert result.returncode == ExitCode.USAGE
    assert "invalid choice: 'mxnet'" in result.stderr
    with pytest.raises(ConfigError, match="--backend 'mxnet' is unknown"):
        SearchConfig(project_dir=tmp_path / "p", backend="mxnet").validated()
    with pytest.raises(BackendError, match="choose one of tensorflow, jax, torch"):
        select_backend("mxnet")


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
@pytest.mark.parametrize(
    ("setting", "words"),
    [({"strategy": "mirrored"}, "MirroredStrategy"), ({"tensorboard": True}, "HParams")],
)
def test_tensorflow_only_parts_are_refused_on_other_backends(backend, setting, words, tmp_path):
    with pytest.raises(ConfigError, match=rf"--backend {backend}: .*{words}.*use --backend tensorflow"):
        SearchConfig(project_dir=tmp_path / "p", backend=backend, **setting).validated()
    SearchConfig(project_dir=tmp_path / "p", backend="tensorflow", **setting).validated()  # fine there


def test_selecting_a_backend_asks_for_gpu_memory_on_demand(monkeypatch):
    import keras  # loaded here already (conftest's data, the device tests)

    for name in ("XLA_PYTHON_CLIENT_PREALLOCATE", "TF_FORCE_GPU_ALLOW_GROWTH", "KERAS_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    select_backend(keras.backend.backend())  # the loaded one: allowed
    assert os.environ["KERAS_BACKEND"] == keras.backend.backend()
    assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"  # JAX: not 75 % up front
    assert os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "true")  # a user's own choice wins
    select_backend(keras.backend.backend())
    assert os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"] == "true"


def test_another_backend_after_keras_loaded_needs_a_new_process():
    import keras

    others = [b for b in BACKENDS if b != keras.backend.backend() and installed(b)]
    if not others:
        pytest.skip("no other backend installed here")
    with pytest.raises(BackendError, match=f"already loaded with the {keras.backend.backend()} backend"):
        select_backend(others[0])


def test_help_lists_the_backends():
    result = cli("--help", timeout=120)
    assert result.returncode == 0
    assert "--backend {tensorflow,jax,torch}" in result.stdout


# -- what each backend gets -------------------------------------------------------------------------
def test_xla_is_off_only_for_tensorflow_on_a_cpu():
    assert xla_setting("auto", Device(False, "CPU", "tensorflow")) is False
    assert xla_setting("auto", Device(True, "GPU", "tensorflow")) == "auto"
    for backend in OTHER_BACKENDS:  # JAX without jit runs op by op; torch's "auto" is eager anyway
        assert xla_setting("auto", Device(False, "CPU", backend)) == "auto"
        assert xla_setting("off", Device(False, "CPU", backend)) is False
    assert xla_setting("on", Device(False, "CPU", "tensorflow")) is True


def test_the_device_names_the_backend_that_trains():
    import keras

    device = configure_device()
    assert device.backend == keras.backend.backend()
    assert str(device).endswith(f", Keras backend {device.backend}")
    assert str(device).startswith("GPU: " if device.gpu else "CPU (")


# -- real searches under JAX and PyTorch, models classified under TensorFlow -----------------------
#: Classifies the first 200 test images with the pad's code (tuner_app.predict) under whatever
#: backend KERAS_BACKEND names; prints the backend and writes the probabilities to argv[2].
CLASSIFY = """
import sys
import numpy as np
import keras
from tuner_app import data, predict
model = predict.load_model(sys.argv[1])
images = data.load_mnist().x_test[:200].astype(np.float32) / 255.0
probs = np.stack([predict.predict_probabilities(model, image) for image in images])
np.save(sys.argv[2], probs)
print(keras.backend.backend())
"""


def classify(model_path: Path, out: Path, backend: str) -> np.ndarray:
    result = subprocess.run(
        [sys.executable, "-c", CLASSIFY, str(model_path), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(backend),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == backend  # it really ran there
    return np.load(out)


def summary(project: Path) -> dict:
    return json.loads((project / "summary.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_search_resume_and_the_pad_under_another_backend(backend, tmp_path, small_npz, mnist):
    """A dense search on `backend`, resumed without repeating --backend (the project's record
    decides), then its best model classified by the pad's code under TensorFlow and under the
    backend that trained it: the same probabilities."""
    needs(backend)
    project = tmp_path / "dense"
    common = ["--data", small_npz, "--subset", "1500", "--epochs", "2", "--project-dir", str(project)]
    first = cli("--backend", backend, "--family", "dense", "--max-trials", "1", *common)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"CPU ({os.cpu_count()} cores), Keras backend {backend}" in first.stdout
    resumed = cli("--resume", "--max-trials", "2", "--project-dir", str(project))  # no --backend
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    done = summary(project)
    assert done["config"]["backend"] == backend
    assert done["device"].endswith(f"Keras backend {backend}")
    assert done["state"] == "finished"
    assert done["trials"] == {"completed": 2}
    assert done["test"]["test_accuracy"] > 0.6  # 1,200 images, 2 epochs: far above chance

    model = project / "best_model.keras"
    on_tensorflow = classify(model, tmp_path / "tf.npy", "tensorflow")
    on_trainer = classify(model, tmp_path / "own.npy", backend)
    np.testing.assert_allclose(on_tensorflow, on_trainer, atol=1e-4)
    labels = mnist.y_test[:200]
    assert (on_tensorflow.argmax(axis=1) == labels).mean() > 0.6


@pytest.mark.slow
@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_a_conv_start_point_trained_on_another_backend_classifies_on_tensorflow(
    backend, tmp_path, small_npz, mnist
):
    """The conv family's START (convolutions, pooling, its schedule and whatever the space adds)
    saved on `backend` loads and predicts the same under TensorFlow."""
    needs(backend)
    project = tmp_path / "conv"
    result = cli(
        "--backend", backend, "--family", "conv", "--max-trials", "1", "--epochs", "1", "--data", small_npz,
        "--subset", "1500", "--project-dir", str(project), "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary(project)["device"].endswith(f"Keras backend {backend}")
    model = project / "best_model.keras"
    on_tensorflow = classify(model, tmp_path / "tf.npy", "tensorflow")
    on_trainer = classify(model, tmp_path / "own.npy", backend)
    np.testing.assert_allclose(on_tensorflow, on_trainer, atol=1e-4)
    assert np.allclose(on_tensorflow.sum(axis=1), 1.0, atol=1e-3)
    assert (on_tensorflow.argmax(axis=1) == mnist.y_test[:200]).mean() > 0.3  # one epoch on 1,200


JAX_CACHES = """
import jax
from tuner_app.graph_memory import TrialGraphs
step = jax.jit(lambda x: x * 2.0)
step(1.0)
assert step._cache_size() == 1, step._cache_size()
graphs = TrialGraphs()
graphs.mark()
assert graphs.release() == 0
assert step._cache_size() == 0, "a finished trial's compiled functions are still cached"
print("released")
"""


def test_a_finished_jax_trial_leaves_no_compiled_functions_behind():
    needs("jax")
    result = subprocess.run(
        [sys.executable, "-c", JAX_CACHES], capture_output=True, text=True, timeout=300, env=child_env("jax")
    )
    assert result.returncode == 0 and "released" in result.stdout, result.stdout + result.stderr


def test_backends_named_for_ci_are_known():
    assert sorted(REQUIRED - set(BACKENDS)) == []
