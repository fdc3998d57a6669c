"""Pictures of what trained models are used for: nearest neighbours from a code index, ROC curves of
outlier scores, and rate against distortion of codecs.

Example
-------
>>> fig = rate_distortion({"aekit": [(20, 18.1), (40, 19.0)], "JPEG": [(300, 17.5)]}, pixels=784)
"""

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score, roc_curve

from .grids import display_range, display_shape, first_rows, image_rows

if TYPE_CHECKING:
    from ..apps.retrieval import CodeIndex


def neighbours(index: "CodeIndex", queries: ArrayLike, database: ArrayLike, k: int = 8,
               image_shape: Sequence[int] | None = None, n: int = 6) -> Figure:
    """Each of the first ``n`` query images followed by its ``k`` nearest stored items.

    Parameters
    ----------
    index : aekit.CodeIndex
        Holds the items of ``database`` with ids 0, 1, ... (their row numbers).
    queries, database : arrays of flat images (rows)
    image_shape : (C, H, W), optional
        Default: the index's estimator's ``image_shape_``.

    Example
    -------
    >>> fig = neighbours(index, X_test, X_train)  # doctest: +SKIP
    """
    shape = display_shape(index.estimator, image_shape)
    first = first_rows(queries, n)
    _, ids = index.search(first, k)
    rows = {f"query {i}": np.concatenate([first[i:i + 1], np.asarray(database)[found[found >= 0]]])
            for i, found in enumerate(ids)}
    return image_rows(rows, shape, title=f"{k} nearest neighbours ({index.metric}) after each query",
                      value_range=display_range(database, shape))


def roc(scores_by_name: Mapping[str, ArrayLike], is_outlier: ArrayLike,
        title: str = "ROC: outliers found against normal rows flagged") -> Figure:
    """ROC curves of outlier scores (higher = more normal, as ``score_samples`` gives), with their AUCs.

    Example
    -------
    >>> fig = roc({"detector": detector.score_samples(X_test)}, y_test != 0)  # doctest: +SKIP
    """
    is_outlier = np.asarray(is_outlier, dtype=bool)
    if is_outlier.all() or not is_outlier.any():
        raise ValueError("is_outlier must mark some rows as outliers and some as normal")
    fig = Figure(figsize=(5.5, 4.5), layout="constrained")
    ax = fig.subplots()
    for name, scores in scores_by_name.items():
        anomaly = -np.asarray(scores, dtype=np.float64)
        false_pos, true_pos, _ = roc_curve(is_outlier, anomaly)
        ax.plot(false_pos, true_pos, label=f"{name} (AUC {roc_auc_score(is_outlier, anomaly):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("normal rows flagged (false positive rate)")
    ax.set_ylabel("outliers found (true positive rate)")
    ax.legend(loc="lower right")
    ax.set_title(title)
    return fig


def rate_distortion(curves: Mapping[str, Sequence[tuple[float, float]]], title: str = "Rate and distortion",
                    pixels: int | None = None) -> Figure:
    """Rate against PSNR for each codec: ``curves`` maps a name to (bytes per row, PSNR) points; a
    name with one point (a single trained model) is drawn as a marker alone.

    With ``pixels`` (values per row: 784 for a 28 x 28 grey image, 3,072 for 32 x 32 colour), the
    rate is drawn in bits per pixel, ``8 * bytes / pixels``; else in bytes per row.

    Example
    -------
    >>> fig = rate_distortion({"aekit": [(20, 18.1), (40, 19.0)], "JPEG": [(300, 17.5)]}, pixels=784)
    """
    fig = Figure(figsize=(6.5, 4.5), layout="constrained")
    ax = fig.subplots()
    per = 8.0 / pixels if pixels else 1.0
    for name, points in curves.items():
        # a mean PSNR is infinite when one image came back exact (a lossless setting): not drawable
        points = [p for p in points if np.isfinite(p[1])]
        if not points:
            continue
        size, quality = np.asarray(sorted(points), dtype=np.float64).reshape(-1, 2).T
        ax.plot(size * per, quality, marker="o", linestyle="-" if len(size) > 1 else "none", label=name)
    ax.set_xscale("log")
    # ticks at 1, 2 and 5 of each decade, written plainly: a log axis's default labels of a range
    # within one decade (0.2 to 0.6 bits per pixel, say) overlap
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("bits per pixel (log scale)" if pixels else "bytes per row (log scale)")
    ax.set_ylabel("PSNR (dB)")
    ax.legend()
    ax.set_title(title)
    return fig
