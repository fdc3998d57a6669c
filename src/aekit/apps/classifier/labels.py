"""Labels of a semi-supervised classifier: ``UNLABELLED`` (-1) marks a row without a label (the
scikit-learn convention), and :func:`mask_labels` hides all but a few labels of a labelled set."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

from ...datasets.stream import as_stream

UNLABELLED = -1


def mask_labels(y, n_labeled: int, random_state=None) -> np.ndarray:
    """A copy of the labels ``y`` in which all but ``n_labeled`` are -1 (unlabelled).

    The labelled rows are drawn at random, as equally from every class as the class sizes allow
    (10 per class for 100 labels of 10 balanced classes); the remainder of an uneven split goes to
    classes chosen at random.

    Parameters
    ----------
    y : array-like of int, shape (n_samples,)
    n_labeled : int
        At least the number of classes and at most the number of rows.
    random_state : int, RandomState or None

    Example
    -------
    >>> mask_labels([0, 0, 0, 1, 1, 1], 2, random_state=0).tolist().count(-1)
    4
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "if":
        raise ValueError(f"y must be a 1-D array of numeric labels (-1 marks unlabelled rows), got {y.dtype} "
                         f"with shape {y.shape}")
    classes, index = np.unique(y, return_inverse=True)
    if not len(classes) <= n_labeled <= len(y):
        raise ValueError(f"n_labeled={n_labeled} must be between the number of classes ({len(classes)}) "
                         f"and the number of rows ({len(y)})")
    rng = check_random_state(random_state)
    order = rng.permutation(len(y))
    # rank of each row within its class in the random order; rows are taken rank by rank
    rank = np.empty(len(y), dtype=np.int64)
    for c in range(len(classes)):
        rows = order[index[order] == c]
        rank[rows] = np.arange(len(rows))
    class_order = rng.permutation(len(classes))[index]
    chosen = np.lexsort((class_order, rank))[:n_labeled]
    masked = np.full_like(y, UNLABELLED)
    masked[chosen] = y[chosen]
    return masked


def labelled_classes(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(labelled, classes, targets)`` of the labels ``y``: which rows have a label (numeric labels
    of -1 have none; labels of other types all count), the sorted classes, and the class index of
    each labelled row.

    Example
    -------
    >>> labelled, classes, targets = labelled_classes(np.array([3, -1, 5, 3]))
    >>> labelled.tolist(), classes.tolist(), targets.tolist()
    ([True, False, True, True], [3, 5], [0, 1, 0])
    """
    labelled = y != UNLABELLED if y.dtype.kind in "iuf" else np.ones(len(y), dtype=bool)
    if not labelled.any():
        raise ValueError("y has no labelled rows: every label is -1 (unlabelled)")
    check_classification_targets(y[labelled])
    classes, targets = np.unique(y[labelled], return_inverse=True)
    return labelled, classes, targets


def checked_rows(classifier, X, y):
    """``X`` as float32 rows or a stream of rows on disk, and ``y`` as a 1-D array of as many labels, for
    ``classifier`` (an :class:`~aekit.AutoencoderClassifier`, which learns the number of features)."""
    stream = as_stream(X)
    if stream is None:
        X, y = validate_data(classifier, X, y, dtype=[np.float32, np.float64])
        return X.astype(np.float32, copy=False), y
    if classifier._joint():
        raise ValueError(f"{type(classifier).__name__}: unlabelled={classifier._method()!r} holds every row in "
                         f"memory (a neighbour graph of them); for {stream} use unlabelled='pretrain'")
    classifier._check_stream(stream)
    y = column_or_1d(y, warn=True)
    if len(y) != stream.n_rows:
        raise ValueError(f"y has {len(y)} labels but {stream} has {stream.n_rows} rows")
    return X, y


__all__ = ["UNLABELLED", "checked_rows", "labelled_classes", "mask_labels"]
