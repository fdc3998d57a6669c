from pathlib import Path

import numpy as np
import pytest

from aekit import datasets
from aekit.datasets import _builtin, load


def test_builtin_names():
    assert datasets.builtin_names() == ["digits", "fashion-mnist", "mnist", "mnist5k"]
    assert set(datasets.BUILTIN) == set(datasets.builtin_names())


def test_digits():
    b = load("digits")
    assert b.data.shape == (1797, 64) and b.image_shape == (1, 8, 8) and b.name == "digits"
    assert b.data.dtype == np.float32 and b.data.min() == 0 and b.data.max() == 1
    assert len(load("digits", "train").data) == 1437 and len(load("digits", "test").data) == 360


def test_mnist5k_split():
    full, train, test = load("mnist5k"), load("mnist5k", "train"), load("mnist5k", "test")
    assert full.data.shape == (5000, 784) and full.image_shape == (1, 28, 28)
    assert full.data.min() == 0 and full.data.max() == 1
    assert train.data.shape == (4000, 784) and test.data.shape == (1000, 784)
    assert np.bincount(test.target).tolist() == [100] * 10  # stratified
    # disjoint: compare whole rows through their bytes (mnist5k has no duplicate images)
    assert not {r.tobytes() for r in train.data} & {r.tobytes() for r in test.data}
    again = load("mnist5k", "train")
    np.testing.assert_array_equal(again.data, train.data)
    np.testing.assert_array_equal(again.target, train.target)
    # the cache is not exposed: changing a result does not change the next one
    train.data[:] = 7
    assert load("mnist5k", "train").data.max() == 1


@pytest.fixture
def no_idx_data(tmp_path, monkeypatch):
    monkeypatch.setenv("AEKIT_DATA", str(tmp_path))
    monkeypatch.setattr(_builtin, "SYSTEM_DIR", tmp_path / "system")
    return tmp_path


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_missing_idx_data_says_where_it_looked(no_idx_data, name):
    with pytest.raises(FileNotFoundError) as info:
        load(name, "test")
    message = str(info.value)
    assert "\n" not in message  # the CLI shows the first line alone
    assert f"built-in data set {name!r} not found" in message
    assert "t10k-images-idx3-ubyte[.gz]" in message
    assert str(no_idx_data / name) in message and str(no_idx_data / "system" / name) in message
    assert f"DIR/{name}/" in message
    if name == "fashion-mnist":
        assert "apt-get install dataset-fashion-mnist" in message


def test_idx_builtin_from_aekit_data(no_idx_data, write_idx):
    folder = no_idx_data / "mnist"
    folder.mkdir()
    for part, n in (("train", 5), ("t10k", 3)):
        write_idx(folder / f"{part}-images-idx3-ubyte.gz", np.full((n, 28, 28), n, np.uint8), gz=True)
        write_idx(folder / f"{part}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8))
    full, test = load("mnist"), load("mnist", "test")
    assert full.data.shape == (8, 784) and full.image_shape == (1, 28, 28)
    assert full.target.tolist() == [0, 1, 2, 3, 4, 0, 1, 2]  # train first, then test
    assert test.data.shape == (3, 784) and np.allclose(test.data, 3 / 255)


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="apt-get install dataset-fashion-mnist")
def test_fashion_mnist_installed(monkeypatch):
    monkeypatch.delenv("AEKIT_DATA", raising=False)
    test = load("fashion-mnist", "test")
    assert test.data.shape == (10000, 784) and test.image_shape == (1, 28, 28)
    assert test.data.min() == 0 and test.data.max() == 1
    assert np.bincount(test.target).tolist() == [1000] * 10
    assert test.target_names[9] == "Ankle boot"


def test_split_is_the_documented_train_test_split_call():
    from sklearn.model_selection import train_test_split

    full = load("digits")
    X_train, X_test, y_train, y_test = train_test_split(full.data, full.target, test_size=0.2, random_state=0,
                                                        stratify=full.target)
    np.testing.assert_array_equal(load("digits", "train").data, X_train)
    np.testing.assert_array_equal(load("digits", "test").target, y_test)
