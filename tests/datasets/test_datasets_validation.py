"""Every check ends in a ValueError that names the file and the problem."""

import numpy as np
import pytest

from aekit.datasets import load


def _writer(name, write):
    """A function of tmp_path that writes ``name`` there with ``write(path)`` and returns the path."""
    def make(folder):
        write(folder / name)
        return folder / name
    return make


def _npy(array):
    return _writer("x.npy", lambda p: np.save(p, array))


def _csv(text):
    return _writer("x.csv", lambda p: p.write_text(text))


def _npz(**arrays):
    return _writer("x.npz", lambda p: np.savez(p, **arrays))


CASES = {
    "empty rows": (_npy(np.zeros((0, 3))), r"empty data: 0 rows"),
    "empty features": (_npy(np.zeros((3, 0))), r"empty data: 3 rows and 0 features"),
    "empty csv": (_csv(""), r"empty data"),
    "header only": (_csv("a,b\n"), r"empty data: 0 rows"),
    "nan": (_npy(np.array([[1, 2], [np.nan, np.inf], [3, np.nan]])),
            r"3 NaN or infinite values in 2 rows; the first is in row 1"),
    "nan in csv": (_csv("1,2\n3,nan\n"), r"1 NaN or infinite values .* row 1"),
    "overflow": (_npy(np.array([[1e300, 0.0]])), r"1 NaN or infinite values"),
    "1-D": (_npy(np.ones(5)), r"wrong dimensions: .* got shape \(5,\)"),
    "5-D": (_npy(np.ones((2, 1, 1, 1, 1))), r"wrong dimensions: .* got shape \(2, 1, 1, 1, 1\)"),
    "strings in npy": (_npy(np.array([["a", "b"]])), r"data must be numeric"),
    "object npy": (_writer("x.npy", lambda p: np.save(p, np.array([[1], [2, 3]], dtype=object))),
                   r"object array, which cannot be read without unpickling"),
    "ragged csv": (_csv("1,2\n3,4\n5\n"), r"ragged rows: line 3 has 1 fields, line 1 has 2"),
    "non-numeric cell": (_csv("a,b\n1,2\n3,oops\n"), r"non-numeric cell at line 3, column 'b': 'oops'"),
    "empty cell": (_csv("1,2\n,4\n"), r"empty cell \(a missing value\) at line 2, column '0': fill it in"),
    "missing label name": (_csv("a,b\n1,2\n"),
                           r"label column 'label' does not exist; available columns: 'a', 'b'"),
    "missing label index": (_csv("1,2\n3,4\n"), r"label column 5 does not exist; the file has 2 columns"),
    "labels length": (_npz(X=np.ones((3, 2)), y=[0, 1]), r"2 labels for 3 rows"),
    "fractional labels": (_npz(X=np.ones((2, 2)), y=[0.5, 1]), r"labels must be integers or strings"),
    "npz without data": (_npz(Z=np.ones(2), W=np.ones(2)), r"no array named 'X' or 'data'; found Z, W"),
    "unsupported type": (_writer("x.txt", lambda p: p.write_text("1")), r"unsupported file type"),
}
LABEL = {"missing label name": "label", "missing label index": 5}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_names_file_and_problem(tmp_path, case):
    write, problem = CASES[case]
    path = write(tmp_path)
    kwargs = {"label_column": LABEL[case]} if case in LABEL else {}
    with pytest.raises(ValueError, match=problem) as info:
        load(path, **kwargs)
    assert str(path) in str(info.value)


def test_unknown_name_lists_builtins():
    with pytest.raises(ValueError, match=r"unknown data set 'nope'.*digits, fashion-mnist, mnist, mnist5k"):
        load("nope")


@pytest.mark.parametrize("split", ["val", "TRAIN", 0])
def test_bad_split(split):
    with pytest.raises(ValueError, match="split must be None, 'train' or 'test'"):
        load("digits", split)


def test_bad_label_column_type(tmp_path):
    (tmp_path / "x.csv").write_text("1,2\n")
    with pytest.raises(ValueError, match="label_column must be"):
        load(tmp_path / "x.csv", label_column=1.5)


def test_split_of_one_row(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((1, 2)))
    with pytest.raises(ValueError, match="'x.npy' has 1 row; split='test' needs at least 2"):
        load(tmp_path / "x.npy", "test")


def test_csv_that_is_not_text(tmp_path):
    (tmp_path / "x.csv").write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(ValueError, match=r"x.csv: not a UTF-8 CSV"):
        load(tmp_path / "x.csv")


def test_not_a_name_or_path():
    with pytest.raises(TypeError, match="name_or_path"):
        load(3)
