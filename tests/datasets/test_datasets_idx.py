import numpy as np
import pytest

from aekit.datasets import load


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (6, 4, 5), dtype=np.uint8)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_images_with_labels_next_to_them(tmp_path, write_idx, images, gz):
    suffix = ".gz" if gz else ""
    path = write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images, gz=gz)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", np.arange(6, dtype=np.uint8) % 3, gz=gz)
    b = load(path)
    assert b.data.shape == (6, 20) and b.data.dtype == np.float32
    assert b.image_shape == (1, 4, 5)
    np.testing.assert_allclose(b.data, images.reshape(6, 20) / 255, rtol=1e-6)
    assert b.target.tolist() == [0, 1, 2, 0, 1, 2]


def test_idx_labels_found_across_gz(tmp_path, write_idx, images):
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(6, np.uint8), gz=True)
    assert load(path).target.tolist() == [0] * 6


def test_idx_without_labels(tmp_path, write_idx, images):
    b = load(write_idx(tmp_path / "train-images.idx3-ubyte", images))
    assert b.target is None and b.data.max() <= 1


def test_idx_float_values_are_kept(tmp_path, write_idx):
    b = load(write_idx(tmp_path / "x-idx3-ubyte", np.full((2, 3, 3), 7.5, np.float32)))
    assert b.data.max() == 7.5


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_idx(tmp_path, write_idx, images, gz):
    full = write_idx(tmp_path / "full", images, gz=gz).read_bytes()
    path = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    path.write_bytes(full[:-40] if gz else full[:-7])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*truncated IDX file: expected 136 bytes"):
        load(path)


def test_idx_bad_magic(tmp_path):
    (tmp_path / "a-idx3-ubyte").write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="a-idx3-ubyte: not an IDX file"):
        load(tmp_path / "a-idx3-ubyte")


def test_idx_labels_count_mismatch(tmp_path, write_idx, images):
    path = write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.*train-labels-idx1-ubyte.*5 labels for 6 rows"):
        load(path)
