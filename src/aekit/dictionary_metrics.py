"""Measures of a sparse dictionary: how well it reconstructs (fraction of variance unexplained), how
sparse its codes are (L0, dead units), and, against a known dictionary, which true directions it found
(mean max cosine, one-to-one matched MCC). Re-exported by :mod:`aekit.metrics`.

Directions are rows (n_directions, n_features), as scikit-learn's ``DictionaryLearning.components_``
and :attr:`aekit.SparseAutoencoder.components_` hold them.

Example
-------
>>> import numpy as np
>>> true = np.eye(3)
>>> round(mcc(true[[2, 0, 1]], true), 6), round(mean_max_cosine(true[:2], true), 6)
(1.0, 0.666667)
"""

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linear_sum_assignment


def fraction_of_variance_unexplained(X: ArrayLike, X_hat: ArrayLike) -> float:
    """sum ||x - x_hat||^2 / sum ||x - mean(x)||^2 over the rows: 0 for a perfect reconstruction, 1 for
    one no better than the mean row."""
    X, X_hat = np.asarray(X, np.float64), np.asarray(X_hat, np.float64)
    if X.shape != X_hat.shape:
        raise ValueError(f"X and X_hat must have the same shape, got {X.shape} and {X_hat.shape}")
    total = np.square(X - X.mean(0)).sum()
    return float(np.square(X - X_hat).sum() / total) if total > 0 else float("nan")


def l0(codes: ArrayLike) -> float:
    """Mean number of non-zero code units per row."""
    codes = np.asarray(codes)
    return float(np.count_nonzero(codes) / max(len(codes), 1))


def dead_fraction(codes: ArrayLike) -> float:
    """Fraction of code units (columns) that are zero on every row."""
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] == 0:
        raise ValueError(f"codes must be (n_samples, n_units), got shape {codes.shape}")
    return float(np.mean(~np.any(codes != 0, axis=0)))


def _cosines(learned, true):
    learned, true = np.asarray(learned, np.float64), np.asarray(true, np.float64)
    if learned.ndim != 2 or true.ndim != 2 or learned.shape[1] != true.shape[1]:
        raise ValueError(f"learned and true must be (n, n_features) with the same n_features, got {learned.shape} "
                         f"and {true.shape}")

    def unit(rows):
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms > 0, norms, 1.0)

    return unit(true) @ unit(learned).T  # (n_true, n_learned)


def mean_max_cosine(learned: ArrayLike, true: ArrayLike) -> float:
    """MMCS: for each true direction (rows of ``true``), the largest cosine with any learned one (rows
    of ``learned``), averaged over the true directions; signed, as features fire with positive values."""
    return float(_cosines(learned, true).max(1).mean())


def mcc(learned: ArrayLike, true: ArrayLike) -> float:
    """Mean cosine of a one-to-one matching of learned to true directions that maximises the total
    (Hungarian assignment), averaged over the matched pairs (every true direction when there are at
    least as many learned ones): a learned direction serves one true direction only, unlike
    :func:`mean_max_cosine`."""
    cosines = _cosines(learned, true)
    rows, cols = linear_sum_assignment(cosines, maximize=True)
    return float(cosines[rows, cols].mean())


__all__ = ["dead_fraction", "fraction_of_variance_unexplained", "l0", "mcc", "mean_max_cosine"]
