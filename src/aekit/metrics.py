"""Measures of what a model produces: reconstruction error, PSNR, the Frechet distance between two
sets of rows, and class coverage of generated rows by a reference classifier that aekit trains.

Every function takes rows (n_samples, n_features) in the data's original units.

Example
-------
>>> import numpy as np
>>> from aekit.metrics import frechet_distance, psnr
>>> X = np.random.RandomState(0).rand(500, 4)
>>> round(frechet_distance(X, X), 6)
0.0
>>> round(psnr(X, X + 0.01), 3)
40.0
"""

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg

# re-exported: the measures of sparse dictionaries live beside this module
from .dictionary_metrics import dead_fraction, fraction_of_variance_unexplained, l0, mcc, mean_max_cosine

# re-exported: users and the GAN call aekit.metrics.reference_classifier (its home is aekit.reference)
from .reference import ReferenceClassifier, reference_classifier

if TYPE_CHECKING:
    from .apps.retrieval import CodeIndex


def _rows(X, name="X"):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples, features), got shape {X.shape}")
    return X


# ---- reconstructions ------------------------------------------------------------------------------
def reconstruction_error(X: ArrayLike, X_hat: ArrayLike) -> np.ndarray:
    """Squared error per row, summed over the features: the "error per image" of the literature.

    Example
    -------
    >>> reconstruction_error([[0.0, 1.0]], [[0.5, 1.0]])
    array([0.25])
    """
    X, X_hat = _rows(X), _rows(X_hat, "X_hat")
    if X.shape != X_hat.shape:
        raise ValueError(f"X and X_hat must have the same shape, got {X.shape} and {X_hat.shape}")
    return np.square(X - X_hat).sum(1)


def psnr(clean: ArrayLike, other: ArrayLike, peak: float = 1.0, reduction: str = "mean") -> float | np.ndarray:
    """Peak signal-to-noise ratio in dB, 10 log10(peak^2 / MSE), of each row of ``other`` against
    the same row of ``clean`` (MSE per row, averaged over its features).

    Parameters
    ----------
    clean, other : array-like (n_samples, n_features)
    peak : float, default=1.0
        The largest possible value (1 for images in [0, 1], 255 for bytes).
    reduction : {"mean", "none"}, default="mean"
        The mean over rows of the per-row PSNR (a float), or the per-row values (an array). An
        identical row has infinite PSNR, and then so has the mean.
    """
    mse = reconstruction_error(clean, other) / np.shape(clean)[1]
    with np.errstate(divide="ignore"):
        per_row = 10 * np.log10(peak ** 2 / mse)
    if reduction == "none":
        return per_row
    if reduction != "mean":
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    return float(per_row.mean())


# ---- Frechet distance -----------------------------------------------------------------------------
def frechet_distance(real: ArrayLike, generated: ArrayLike,
                     features: Callable[[ArrayLike], ArrayLike] | None = None) -> float:
    """The Frechet (2-Wasserstein) distance between Gaussians fitted to two sets of rows:
    ``|mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))``.

    Parameters
    ----------
    real, generated : array-like (n_samples, n_features)
    features : callable, optional
        ``rows -> features`` applied to both sets first (e.g. ``reference_classifier(...).features``);
        None compares the raw rows.

    Returns
    -------
    float
        0 for two sets with the same mean and covariance; in the squared units of the features.

    Notes
    -----
    With the Inception-v3 pool features of Heusel et al. (2017) this is the FID. With aekit's
    reference classifier's features it is **not** the FID: the numbers are comparable only with
    other numbers computed with the same classifier (same data set, same aekit), and both sets
    should have the same size (the estimate is biased upwards for small sets).

    Example
    -------
    >>> clf = reference_classifier("mnist5k")  # doctest: +SKIP
    >>> frechet_distance(X_test, gan.sample(1000), features=clf.features)  # doctest: +SKIP
    """
    real, generated = (_rows(features(x) if features is not None else x, name)
                       for x, name in ((real, "real"), (generated, "generated")))
    if real.shape[1] != generated.shape[1]:
        raise ValueError(f"the sets have {real.shape[1]} and {generated.shape[1]} features")
    if min(len(real), len(generated)) < 2:
        raise ValueError("each set needs at least two rows to estimate a covariance")
    mu_1, mu_2 = real.mean(0), generated.mean(0)
    s_1, s_2 = np.atleast_2d(np.cov(real, rowvar=False)), np.atleast_2d(np.cov(generated, rowvar=False))
    with warnings.catch_warnings():
        # constant features make the product singular; the checks below catch a bad root
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s_1 @ s_2)
        if not np.isfinite(covmean).all():
            # shift both covariances by a tiny ridge (as the reference FID code does)
            ridge = np.eye(len(s_1)) * 1e-6
            covmean = linalg.sqrtm((s_1 + ridge) @ (s_2 + ridge))
    if np.iscomplexobj(covmean):
        # rounding gives tiny imaginary parts; large ones mean the covariances are not PSD
        scale = max(1.0, float(np.abs(covmean).max()))
        if np.abs(covmean.imag).max() > 1e-3 * scale:
            raise ValueError(f"the square root of the covariance product has a large imaginary part "
                             f"({np.abs(covmean.imag).max():.3g}); are there enough rows for the features?")
        covmean = covmean.real
    distance = np.square(mu_1 - mu_2).sum() + np.trace(s_1) + np.trace(s_2) - 2 * np.trace(covmean)
    return max(float(distance), 0.0)  # rounding can leave -1e-12 for identical sets


# ---- class coverage -------------------------------------------------------------------------------
class ClassCoverage(NamedTuple):
    """Result of :func:`class_coverage`."""

    coverage: float
    """Fraction of the classes predicted at least once."""
    fractions: np.ndarray
    """Fraction of the rows predicted as each class, in the order of ``classes``."""
    classes: np.ndarray


def _predict(classifier, X):
    if not (hasattr(classifier, "predict") or callable(classifier)):
        raise ValueError(f"classifier must have predict or be a function of rows, got {type(classifier).__name__} "
                         "(aekit.metrics.reference_classifier(dataset) gives one for digit-like data)")
    return np.asarray(classifier.predict(X) if hasattr(classifier, "predict") else classifier(X))


def class_coverage(generated: ArrayLike, classifier: object, n_classes: int | None = None) -> ClassCoverage:
    """How the rows of ``generated`` spread over the classes ``classifier`` knows: mode collapse
    shows as classes that are never predicted.

    Parameters
    ----------
    generated : array-like (n_samples, n_features)
    classifier : object with ``predict`` or callable rows -> labels
    n_classes : int, optional
        Labels are 0 .. n_classes - 1. Default: the classifier's ``classes_`` when it has them,
        else 0 .. the largest predicted integer label (else the labels predicted: coverage 1).

    Returns
    -------
    ClassCoverage
        ``coverage`` (fraction of classes present), ``fractions`` (per class) and ``classes``.

    Example
    -------
    >>> class_coverage(np.zeros((5, 2)), lambda X: np.zeros(len(X), int), n_classes=4).coverage
    0.25
    """
    labels = _predict(classifier, generated)
    if n_classes is not None:
        classes = np.arange(n_classes)
    elif getattr(classifier, "classes_", None) is not None:
        classes = np.asarray(classifier.classes_)
    elif labels.dtype.kind in "iu" and len(labels):
        classes = np.arange(labels.max() + 1)
    else:
        classes = np.unique(labels)
    fractions = np.array([(labels == c).mean() if len(labels) else 0.0 for c in classes])
    return ClassCoverage(float((fractions > 0).mean()) if len(classes) else 0.0, fractions, classes)


# ---- retrieval ------------------------------------------------------------------------------------
def precision_at_k(index: "CodeIndex", Q: ArrayLike, q_labels: ArrayLike, db_labels: ArrayLike,
                   k: int = 10) -> float:
    """Mean over queries of the fraction of their ``k`` nearest stored items that share their label.

    Parameters
    ----------
    index : aekit.CodeIndex
    Q : array-like (n_queries, n_features)
        Query rows, encoded by the index's estimator; codes if the index has no estimator.
    q_labels : array-like (n_queries,)
    db_labels : array-like (n_items,)
        Labels of the stored items in the order they were added (the order of ``index.ids_``).
    k : int, default=10

    Returns
    -------
    float
        In [0, 1]; a neighbour an approximate search did not find counts as a miss.

    Example
    -------
    >>> from aekit import CodeIndex
    >>> index = CodeIndex()
    >>> index.add_codes([[0.0], [0.1], [5.0], [5.1]])
    >>> precision_at_k(index, [[0.05], [5.2]], q_labels=[0, 1], db_labels=[0, 0, 1, 0], k=2)
    0.75
    """
    q_labels, db_labels = np.asarray(q_labels), np.asarray(db_labels)
    if q_labels.shape != (len(Q),):
        raise ValueError(f"q_labels must have one label per query ({len(Q)}), got shape {q_labels.shape}")
    if db_labels.shape != (len(index),):
        raise ValueError(f"db_labels must have one label per stored item ({len(index)}), got shape "
                         f"{db_labels.shape}")
    search = index.search if index.estimator is not None else index.search_codes
    _, ids = search(Q, k)
    # stored ids -> positions in the order of addition (ids may be any integers)
    order = np.argsort(index.ids_, kind="stable")
    positions = order[np.searchsorted(index.ids_[order], ids).clip(0, len(order) - 1)]
    hits = (db_labels[positions] == q_labels[:, None]) & (ids >= 0)
    return float(hits.mean()) if hits.size else 0.0


__all__ = ["ClassCoverage", "ReferenceClassifier", "class_coverage", "dead_fraction",
           "fraction_of_variance_unexplained", "frechet_distance", "l0", "mcc", "mean_max_cosine",
           "precision_at_k", "psnr", "reference_classifier", "reconstruction_error"]
