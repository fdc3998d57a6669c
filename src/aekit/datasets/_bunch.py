"""The checks every loader shares, and the seeded train/test split.

Every loader ends in :func:`make_bunch`, so a data set from any source has passed the same checks and
has the same shape and dtypes; :func:`split_rows` is the one place the 80/20 split rule lives.
"""

import math

import numpy as np
from numpy.typing import ArrayLike
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

SPLITS = (None, "train", "test")
TEST_SIZE = 0.2
SPLIT_SEED = 0


def check_split(split: str | None) -> None:
    """Raise ValueError unless ``split`` is None, "train" or "test"."""
    if not (split is None or (isinstance(split, str) and split in SPLITS)):
        raise ValueError(f"split must be None, 'train' or 'test', got {split!r}")


def encode_labels(values: ArrayLike, source: str) -> tuple[np.ndarray, list[str] | None]:
    """Labels as int64 class numbers, plus the class names when they were strings.

    Strings that all read as integers ("0", "1", "10") count as numbers, so that "10" does not sort
    before "2"; other strings become 0..K-1 in sorted order and the names are returned.

    Examples
    --------
    >>> encode_labels(["cat", "dog", "cat"], "pets.csv")
    (array([0, 1, 0]), ['cat', 'dog'])
    """
    y = np.asarray(values)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{source}: labels must be 1-D, got shape {y.shape}")
    if y.dtype.kind in "US":
        try:
            y = y.astype(np.float64)
        except ValueError:
            names, codes = np.unique(y.astype(str), return_inverse=True)
            return codes.astype(np.int64), [str(n) for n in names]
    if y.dtype.kind in "biu":
        return y.astype(np.int64), None
    if y.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))
        if len(bad):
            raise ValueError(f"{source}: labels must be integers or strings; label {bad[0]} is {y[bad[0]]!r}")
        return y.astype(np.int64), None
    raise ValueError(f"{source}: labels must be integers or strings, got dtype {y.dtype}")


def make_bunch(data: ArrayLike, target: ArrayLike | None = None, *, source: str, name: str,
               image_shape: tuple[int, ...] | None = None, feature_names: list[str] | None = None,
               target_names: list[str] | None = None) -> Bunch:
    """Check a loaded data set and package it as the Bunch that ``load`` returns.

    Parameters
    ----------
    data : array-like
        2-D (samples, features), or an image stack (N, H, W) / (N, C, H, W) that is flattened to
        (N, C*H*W) with ``image_shape`` set to (C, H, W).
    target : array-like or None
        One label per row: integers, integer-valued floats or strings (see :func:`encode_labels`).
    source : str
        The file or data set name that every error message starts with.
    name, image_shape, feature_names, target_names
        Copied into the Bunch.

    Raises
    ------
    ValueError
        Non-numeric data, wrong number of dimensions, no rows or no features, NaN or infinite values,
        or a number of labels that differs from the number of rows.

    Examples
    --------
    >>> b = make_bunch(np.zeros((5, 2, 3)), [0, 1, 0, 1, 0], source="x.npy", name="x")
    >>> b.data.shape, b.image_shape, b.target.dtype
    ((5, 6), (1, 2, 3), dtype('int64'))
    """
    data = np.asarray(data)
    if data.dtype.kind not in "biuf":
        raise ValueError(f"{source}: data must be numeric, got dtype {data.dtype}")
    if image_shape is None and data.ndim in (3, 4):
        image_shape = data.shape[1:] if data.ndim == 4 else (1, *data.shape[1:])
        data = data.reshape(data.shape[0], math.prod(image_shape))
    if data.ndim != 2:
        raise ValueError(f"{source}: wrong dimensions: expected a 2-D array (samples, features) or an "
                         f"image stack (N, H, W) or (N, C, H, W), got shape {data.shape}")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValueError(f"{source}: empty data: {data.shape[0]} rows and {data.shape[1]} features")
    # float64 values beyond float32's range become inf here, and are reported as such just below
    with np.errstate(over="ignore"):
        data = np.ascontiguousarray(data, dtype=np.float32)
    # summing first is one cheap pass; the per-value search only runs when something is wrong
    if not np.isfinite(data.sum(dtype=np.float64)):
        bad = ~np.isfinite(data)
        rows = np.flatnonzero(bad.any(axis=1))
        if len(rows):
            raise ValueError(f"{source}: {int(bad.sum())} NaN or infinite values in {len(rows)} rows; "
                             f"the first is in row {rows[0]} (data rows counted from 0)")
    if target is not None:
        target, names = encode_labels(target, source)
        target_names = target_names if names is None else names
        if len(target) != len(data):
            raise ValueError(f"{source}: {len(target)} labels for {len(data)} rows")
    return Bunch(data=data, target=target, image_shape=None if image_shape is None else tuple(map(int, image_shape)),
                 name=name, feature_names=feature_names, target_names=target_names)


def _can_stratify(target, n):
    if target is None:
        return False
    counts = np.unique(target, return_counts=True)[1]
    # train_test_split's own rounding: the test part gets ceil(0.2 n) rows, and a stratified split
    # needs every class to fit in both parts
    n_test = math.ceil(TEST_SIZE * n)
    return counts.min() >= 2 and len(counts) <= min(n_test, n - n_test)


def split_rows(bunch: Bunch, split: str | None) -> Bunch:
    """The rows of ``bunch`` that ``split`` selects by the seeded 80/20 rule (see ``aekit.datasets``).

    Rows come in the order ``train_test_split`` returns them, so
    ``train_test_split(X, y, test_size=0.2, random_state=0, stratify=...)`` gives the same arrays.
    """
    check_split(split)
    if split is None:
        return bunch
    n = len(bunch.data)
    if n < 2:
        raise ValueError(f"data set {bunch.name!r} has {n} row; split={split!r} needs at least 2")
    stratify = bunch.target if _can_stratify(bunch.target, n) else None
    train, test = train_test_split(np.arange(n), test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=stratify)
    return take_rows(bunch, train if split == "train" else test)


def take_rows(bunch: Bunch, rows: np.ndarray | slice) -> Bunch:
    """A copy of ``bunch`` with only ``rows`` (an index array or slice)."""
    out = Bunch(**bunch)
    out.data = np.ascontiguousarray(bunch.data[rows])
    out.target = None if bunch.target is None else bunch.target[rows]
    return out
