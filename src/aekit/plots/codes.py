"""Pictures of codes: how active the code units are (histogram), the codes of data as points
(scatter), and a handful of codes as an annotated grid (heatmap).

Example
-------
>>> import numpy as np
>>> fig = code_heatmap(np.random.rand(8, 3), [f"input {i}" for i in range(8)])
"""

from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.decomposition import PCA

from .grids import model_name, require_method

# Up to this many distinct labels get a colour each and a legend; more are drawn on a colour scale.
_MAX_LEGEND_CLASSES = 20


def code_histogram(est: BaseEstimator, X: ArrayLike, bins: int = 50) -> Figure:
    """How active the code units are: all activations pooled, and each unit's mean activation.

    The left panel, on a log count scale, shows the spike at zero that a sparse code has; the right
    one shows whether the activity is spread over all units or concentrated in a few (and, for a
    target sparsity, the target). Both are annotated with the fraction of exact zeros and the mean.

    Parameters
    ----------
    est : fitted autoencoder
    X : array-like, shape (n_samples, n_features)
    bins : int

    Example
    -------
    >>> fig = code_histogram(sparse_ae, digits.data)  # doctest: +SKIP
    """
    require_method(est, "transform", "code-histogram", "encodes rows")
    codes = est.transform(X).astype(np.float64)
    zeros, mean = float((codes == 0).mean()), float(codes.mean())
    unit_means = np.sort(codes.mean(0))[::-1]
    fig = Figure(figsize=(10, 4), layout="constrained")
    pooled, units = fig.subplots(1, 2)
    pooled.hist(codes.ravel(), bins=bins, color="C0")
    pooled.set_yscale("log")
    pooled.set_xlabel("code activation")
    pooled.set_ylabel("count (all units, log scale)")
    box = {"facecolor": "white", "alpha": 0.8, "edgecolor": "0.8"}
    pooled.text(0.97, 0.95, f"exact zeros: {zeros:.1%}\nmean activation: {mean:.3g}", transform=pooled.transAxes,
                ha="right", va="top", bbox=box)
    units.bar(np.arange(len(unit_means)), unit_means, width=1.0, color="C1")
    # a unit that is zero on every row is dead: a sparsity penalty that is too strong kills units
    dead = int((codes == 0).all(0).sum())
    units.text(0.97, 0.95, f"units never active: {dead} of {codes.shape[1]}", transform=units.transAxes,
               ha="right", va="top", bbox=box)
    target = getattr(est, "sparsity_target", None) if getattr(est, "sparsity", None) in ("kl", "squared") else None
    if target is not None:
        units.axhline(target, color="k", linestyle="--", linewidth=1, label=f"target {target:g}")
        units.legend(fontsize="small", loc="center right")
    units.set_xlabel("code unit (sorted by mean activation)")
    units.set_ylabel("mean activation")
    units.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"{model_name(est)}: {codes.shape[1]} code units on {len(codes)} rows")
    return fig


def latent_scatter(est: BaseEstimator, X: ArrayLike, y: ArrayLike | None = None) -> Figure:
    """The codes of ``X`` as points: directly for 2-D codes, else their first two principal components.

    Parameters
    ----------
    est : fitted autoencoder
    X : array-like, shape (n_samples, n_features)
    y : array-like, optional
        One label per row (numbers or names). Up to 20 distinct labels get a colour each and a legend;
        more are coloured on a scale with a colour bar.

    Example
    -------
    >>> fig = latent_scatter(ae, digits.data, digits.target)  # doctest: +SKIP
    """
    require_method(est, "transform", "latent-scatter", "encodes rows")
    codes = est.transform(X)
    if codes.shape[1] == 2:
        points, axis_labels, how = codes, ("code 1", "code 2"), "codes"
    elif codes.shape[1] > 2:
        pca = PCA(n_components=2).fit(codes)
        points = pca.transform(codes)
        axis_labels = [f"principal component {i + 1} ({r:.0%} of variance)"
                       for i, r in enumerate(pca.explained_variance_ratio_)]
        how = f"{codes.shape[1]}-D codes, PCA"
    else:
        # one code unit: spread the points vertically so that their density shows
        jitter = np.random.RandomState(0).uniform(-1, 1, len(codes))
        points, axis_labels, how = np.column_stack([codes[:, 0], jitter]), ("code 1", "jitter"), "1-D codes"

    fig = Figure(figsize=(7, 6), layout="constrained")
    ax = fig.add_subplot()
    # small, slightly transparent markers: thousands of points must not become one blot
    style = {"s": 8 if len(points) < 2000 else 3, "alpha": 0.7, "linewidths": 0}
    if y is None:
        ax.scatter(points[:, 0], points[:, 1], color="C0", **style)
    else:
        y = np.asarray(y)
        if len(y) != len(points):
            raise ValueError(f"y has {len(y)} labels for {len(points)} rows")
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) <= _MAX_LEGEND_CLASSES:
            cmap = matplotlib.colormaps["tab10" if len(classes) <= 10 else "tab20"]
            sc = ax.scatter(points[:, 0], points[:, 1], c=index, cmap=cmap, vmin=-0.5,
                            vmax=cmap.N - 0.5, **style)
            handles, _ = sc.legend_elements(num=None)
            ax.legend(handles, [str(c) for c in classes], title="label", fontsize="small",
                      loc="center left", bbox_to_anchor=(1.0, 0.5))
        else:
            numeric = y.dtype.kind in "biuf"
            sc = ax.scatter(points[:, 0], points[:, 1], c=y if numeric else index, cmap="viridis", **style)
            fig.colorbar(sc, ax=ax, label="label" if numeric else "label (sorted)")
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(f"{model_name(est)}: {how}, {len(points)} rows")
    return fig


def code_heatmap(codes: ArrayLike, row_labels: Sequence | None = None, title: str | None = None) -> Figure:
    """Codes (n_rows, n_units) as a grid of cells, each annotated with its value: for a handful of
    rows and units, such as the 8-3-8 encoder's three hidden values per input.

    Example
    -------
    >>> fig = code_heatmap(np.random.rand(8, 3), [f"input {i}" for i in range(8)])
    """
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or codes.size == 0:
        raise ValueError(f"codes must be a non-empty (rows, units) array, got shape {codes.shape}")
    n_rows, n_units = codes.shape
    fig = Figure(figsize=(1.0 * n_units + 2.5, 0.4 * n_rows + 1.2), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(codes, cmap="viridis", aspect="auto")
    for (r, c), value in np.ndenumerate(codes):
        # dark text on the bright half of the colour map, light on the dark half
        bright = image.norm(value) > 0.5
        ax.text(c, r, f"{value:.2f}", ha="center", va="center", color="black" if bright else "white")
    ax.set_xticks(range(n_units), [f"unit {u}" for u in range(n_units)])
    ax.set_yticks(range(n_rows), row_labels if row_labels is not None else range(n_rows))
    fig.colorbar(image, ax=ax)
    if title:
        ax.set_title(title)
    return fig

