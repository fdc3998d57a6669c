import numpy as np
import pytest

from aekit.datasets import load


def test_class_folders_two_sizes(tmp_path, write_png):
    write_png(tmp_path / "dog" / "a.png", (4, 3), value=255)
    write_png(tmp_path / "dog" / "b.png", (4, 3), value=0)
    write_png(tmp_path / "cat" / "c.png", (6, 5), value=51)
    b = load(tmp_path)
    # the most common size wins: (width 4, height 3)
    assert b.image_shape == (1, 3, 4) and b.data.shape == (3, 12)
    assert b.target_names == ["cat", "dog"] and b.target.tolist() == [0, 1, 1]
    np.testing.assert_allclose(b.data[:, 0], [0.2, 1.0, 0.0], atol=1e-6)
    assert b.name == tmp_path.name


def test_unlabelled_rgb_with_image_size(tmp_path, write_png):
    write_png(tmp_path / "a.png", (4, 4), mode="L")
    write_png(tmp_path / "b.png", (8, 8), mode="RGB", value=255)
    b = load(tmp_path, image_size=(2, 3))
    assert b.target is None and b.image_shape == (3, 2, 3) and b.data.shape == (2, 18)
    # (C, H, W) order: the first 6 values of the RGB image are its red channel
    np.testing.assert_allclose(b.data[1, :6], 1.0)
    np.testing.assert_allclose(b.data[1, 12:], 0.0)


def test_bad_image_size(tmp_path, write_png):
    write_png(tmp_path / "a.png", (4, 4))
    with pytest.raises(ValueError, match="image_size must be"):
        load(tmp_path, image_size=(0, 4))


def test_empty_folder(tmp_path):
    with pytest.raises(ValueError, match=f"{tmp_path}: empty folder"):
        load(tmp_path)


def test_empty_class_folder(tmp_path, write_png):
    write_png(tmp_path / "a" / "x.png", (2, 2))
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match="b: class folder has no images"):
        load(tmp_path)


def test_file_that_is_not_an_image(tmp_path, write_png):
    write_png(tmp_path / "a.png", (2, 2))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="notes.txt: not an image"):
        load(tmp_path)


def test_loose_files_next_to_class_folders(tmp_path, write_png):
    write_png(tmp_path / "a" / "x.png", (2, 2))
    write_png(tmp_path / "y.png", (2, 2))
    with pytest.raises(ValueError, match="loose files such as 'y.png'"):
        load(tmp_path)
