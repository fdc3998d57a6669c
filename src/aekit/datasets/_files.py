"""Readers for arrays on disk: ``.npy``, ``.npz`` and ``.csv``.

Arrays are read with ``allow_pickle=False``: a data file must never be able to run code.
"""

import csv
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._bunch import make_bunch


def _np_load(path):
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise _unreadable(path, e) from None


def _unreadable(path, error):
    # numpy's messages do not name the file, and "allow_pickle" means an object array
    if "allow_pickle" in str(error):
        return ValueError(f"{path}: holds an object array, which cannot be read without unpickling; "
                          f"save plain numeric arrays instead")
    return ValueError(f"{path}: not a readable NumPy file ({error})")


def read_npy(path: Path) -> Bunch:
    """A 2-D array (rows are samples) or an image stack (N, H, W) / (N, C, H, W)."""
    array = _np_load(path)
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{path}: is an .npz archive, not a single array; name it .npz")
    return make_bunch(array, source=str(path), name=path.name)


def _pick(archive, keys, path, what):
    found = [k for k in keys if k in archive.files]
    if len(found) > 1:
        raise ValueError(f"{path}: has both {found[0]!r} and {found[1]!r}; keep one array of {what}")
    if not found:
        return None
    try:
        return archive[found[0]]
    except (ValueError, OSError, EOFError) as e:
        raise _unreadable(f"{path} (array {found[0]!r})", e) from None


def read_npz(path: Path) -> Bunch:
    """Arrays ``X`` or ``data`` (required) and ``y`` or ``target`` (optional labels); an archive of one
    array, whatever its name (``np.savez(path, X)`` calls it ``arr_0``), is the data."""
    archive = _np_load(path)
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an .npz archive (a single array? name it .npy)")
    with archive:
        only = archive.files if len(archive.files) == 1 else ()
        data = _pick(archive, ("X", "data", *only), path, "data")
        if data is None:
            raise ValueError(f"{path}: no array named 'X' or 'data'; found {', '.join(archive.files) or 'none'}")
        target = _pick(archive, ("y", "target"), path, "labels")
    return make_bunch(data, target, source=str(path), name=path.name)


def _is_number(cell):
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_integer_text(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _label_index(label_column, columns, path):
    if label_column is None:
        return None
    listing = ", ".join(repr(c) for c in columns)
    if isinstance(label_column, str):
        if label_column not in columns:
            raise ValueError(f"{path}: label column {label_column!r} does not exist; available columns: {listing}")
        return columns.index(label_column)
    if isinstance(label_column, int | np.integer) and not isinstance(label_column, bool):
        if not -len(columns) <= label_column < len(columns):
            raise ValueError(f"{path}: label column {label_column} does not exist; the file has "
                             f"{len(columns)} columns: {listing}")
        return int(label_column) % len(columns)
    raise ValueError(f"label_column must be a column name or an integer index, got {label_column!r}")


def read_csv(path: Path, label_column: str | int | None = None) -> Bunch:
    """Comma-separated numbers, one sample per line, with an optional header and label column.

    The first row is a header when none of its cells is a number, or when ``label_column`` is a
    name (names can only be looked up in a header). Blank lines are skipped. A ``label_column`` of
    integer text ("64", "-1", as the command line gives it) that names no column is an index.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig drops the BOM that Excel writes
            reader = csv.reader(f)
            rows = [(reader.line_num, row) for row in reader if row]
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(f"{path}: not a UTF-8 CSV text file ({e})") from None
    if not rows:
        raise ValueError(f"{path}: empty data: the file has no rows")
    first_line, first = rows[0]
    names = [c.strip() for c in first]
    by_name = isinstance(label_column, str) and (label_column in names or not _is_integer_text(label_column))
    has_header = by_name or not any(_is_number(c) for c in first)
    header, body = (names, rows[1:]) if has_header else (None, rows)
    if isinstance(label_column, str) and not by_name:
        label_column = int(label_column)
    width = len(first)
    for line, row in body:
        if len(row) != width:
            raise ValueError(f"{path}: ragged rows: line {line} has {len(row)} fields, "
                             f"line {first_line} has {width}")
    columns = header or [str(i) for i in range(width)]
    label = _label_index(label_column, columns, path)
    features = [j for j in range(width) if j != label]
    data = np.empty((len(body), len(features)), dtype=np.float64)
    for i, (line, row) in enumerate(body):
        try:
            data[i] = [float(row[j]) for j in features]
        except ValueError:
            j = next(j for j in features if not _is_number(row[j]))
            if not row[j].strip():
                raise ValueError(f"{path}: empty cell (a missing value) at line {line}, column {columns[j]!r}: "
                                 "fill it in or drop the row") from None
            raise ValueError(f"{path}: non-numeric cell at line {line}, column {columns[j]!r}: {row[j]!r}") from None
    target = None if label is None else [row[label].strip() for _, row in body]
    return make_bunch(data, target, source=str(path), name=path.name,
                      feature_names=None if header is None else [header[j] for j in features])
