import numpy as np
import pytest

from aekit.datasets import load


def _check_bunch(b, n, d):
    assert b.data.shape == (n, d)
    assert b.data.dtype == np.float32 and b.data.flags.c_contiguous
    assert b.target is None or (b.target.dtype == np.int64 and b.target.shape == (n,))


def test_npy_2d(tmp_path):
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.save(tmp_path / "x.npy", X)
    b = load(tmp_path / "x.npy")
    _check_bunch(b, 4, 3)
    np.testing.assert_array_equal(b.data, X)
    assert b.target is None and b.image_shape is None and b.name == "x.npy"


@pytest.mark.parametrize("shape, image_shape", [((5, 4, 3), (1, 4, 3)), ((5, 3, 4, 2), (3, 4, 2))])
def test_npy_image_stack_is_flattened(tmp_path, shape, image_shape):
    X = np.random.default_rng(0).random(shape).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    b = load(str(tmp_path / "x.npy"))
    _check_bunch(b, 5, int(np.prod(image_shape)))
    assert b.image_shape == image_shape
    np.testing.assert_array_equal(b.data.reshape(shape), X)


def test_npz_with_labels(tmp_path):
    X = np.ones((6, 2))
    np.savez(tmp_path / "d.npz", X=X, y=np.array(["b", "a", "b", "a", "c", "c"]))
    b = load(tmp_path / "d.npz")
    _check_bunch(b, 6, 2)
    assert b.target.tolist() == [1, 0, 1, 0, 2, 2]
    assert b.target_names == ["a", "b", "c"]


def test_npz_of_one_array_of_any_name_is_the_data(tmp_path):
    X = np.arange(12.0).reshape(4, 3)
    np.savez(tmp_path / "d.npz", X)  # stored as "arr_0"
    b = load(tmp_path / "d.npz")
    np.testing.assert_array_equal(b.data, X)
    assert b.target is None


def test_npz_data_target_keys(tmp_path):
    np.savez(tmp_path / "d.npz", data=np.ones((3, 2)), target=np.array([0.0, 1.0, 1.0]))
    b = load(tmp_path / "d.npz")
    assert b.target.tolist() == [0, 1, 1] and b.target_names is None


def test_csv_header_and_string_labels(tmp_path):
    (tmp_path / "iris.csv").write_text("a,b,species\n1,2,setosa\n3,4.5,virginica\n5,6,setosa\n")
    b = load(tmp_path / "iris.csv", label_column="species")
    _check_bunch(b, 3, 2)
    np.testing.assert_array_equal(b.data, [[1, 2], [3, 4.5], [5, 6]])
    assert b.feature_names == ["a", "b"]
    assert b.target.tolist() == [0, 1, 0] and b.target_names == ["setosa", "virginica"]


def test_csv_without_header_and_label_index(tmp_path):
    (tmp_path / "d.csv").write_text("0,1.5,2\n1,2.5,3\n\n10,3.5,4\n2,4.5,5\n")
    b = load(tmp_path / "d.csv", label_column=0)
    _check_bunch(b, 4, 2)
    assert b.feature_names is None
    # numeric labels stay numbers: 10 is not sorted before 2 as a string would be
    assert b.target.tolist() == [0, 1, 10, 2] and b.target_names is None
    assert load(tmp_path / "d.csv").data.shape == (4, 3)


def test_csv_negative_label_index(tmp_path):
    (tmp_path / "d.csv").write_text("x,y,label\n1,2,0\n3,4,1\n")
    assert load(tmp_path / "d.csv", label_column=-1).target.tolist() == [0, 1]


def test_csv_label_index_given_as_text_as_the_command_line_gives_it(tmp_path):
    (tmp_path / "d.csv").write_text("0.5,1.5,7\n1,2.5,3\n")
    for text in ("2", "-1"):
        b = load(tmp_path / "d.csv", label_column=text)
        assert b.target.tolist() == [7, 3] and b.data.shape == (2, 2)
    # a header's own name wins over the index it could also be read as
    (tmp_path / "h.csv").write_text("a,0,label\n1,2,3\n4,5,6\n")
    assert load(tmp_path / "h.csv", label_column="0").target.tolist() == [2, 5]
    (tmp_path / "n.csv").write_text("a,b,label\n1,2,3\n4,5,6\n")
    assert load(tmp_path / "n.csv", label_column="2").target.tolist() == [3, 6]


def test_option_for_wrong_source_is_rejected(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((2, 2)))
    with pytest.raises(ValueError, match="label_column does not apply .* only for CSV files"):
        load(tmp_path / "x.npy", label_column="y")
    with pytest.raises(ValueError, match="image_size does not apply to the built-in data set 'digits'"):
        load("digits", image_size=(4, 4))


def test_split_of_a_file_is_seeded_and_disjoint(tmp_path):
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    np.savez(tmp_path / "d.npz", X=X, y=np.repeat([0, 1], 10))
    train, test = load(tmp_path / "d.npz", "train"), load(tmp_path / "d.npz", "test")
    assert len(train.data) == 16 and len(test.data) == 4
    assert np.bincount(test.target).tolist() == [2, 2]  # stratified
    assert not set(train.data[:, 0]) & set(test.data[:, 0])
    np.testing.assert_array_equal(load(tmp_path / "d.npz", "train").data, train.data)


def test_split_without_enough_rows_per_class_is_plain(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.ones((5, 2)), y=[0, 1, 1, 1, 2])
    assert len(load(tmp_path / "d.npz", "test").data) == 1
