"""Loading saved models safely, with clear errors, and predicting class probabilities."""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest

from tuner_app.predict import ModelLoadError, load_model, predict_probabilities


@pytest.fixture(scope="module")
def tiny_model_path(tmp_path_factory) -> Path:
    inputs = keras.Input((28, 28))
    x = keras.layers.Flatten()(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    path = tmp_path_factory.mktemp("models") / "tiny.keras"
    keras.Model(inputs, outputs).save(path)
    return path


def test_loads_and_predicts_probabilities(tiny_model_path: Path) -> None:
    model = load_model(tiny_model_path)
    image = np.zeros((28, 28), np.float32)
    image[4:24, 13:15] = 1.0
    probabilities = predict_probabilities(model, image)
    assert probabilities.shape == (10,)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    expected = np.asarray(model(image[None], training=False))[0]
    np.testing.assert_allclose(probabilities, expected, rtol=1e-5)


def test_wrong_image_shape_is_refused(tiny_model_path: Path) -> None:
    with pytest.raises(ValueError, match="28, 28"):
        predict_probabilities(load_model(tiny_model_path), np.zeros((20, 20)))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(tmp_path / "nope.keras")


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.keras"
    path.write_bytes(b"\x00not a zip at all")
    with pytest.raises(ModelLoadError, match="corrupt"):
        load_model(path)


def test_zip_that_is_not_a_keras_model(tmp_path: Path) -> None:
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        load_model(path)


def test_not_a_keras_file(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text("{}")
    with pytest.raises(ModelLoadError, match="not a Keras model"):
        load_model(path)


def test_lambda_layer_is_refused(tmp_path: Path) -> None:
    inputs = keras.Input((28, 28))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ModelLoadError, match="Lambda"):
        load_model(path)


def test_model_with_the_wrong_interface(tmp_path: Path) -> None:
    inputs = keras.Input((5,))
    outputs = keras.layers.Dense(3)(inputs)
    path = tmp_path / "wrong.keras"
    keras.Model(inputs, outputs).save(path)
    with pytest.raises(ModelLoadError, match="expected 28x28"):
        load_model(path)
