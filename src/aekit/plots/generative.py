"""Pictures of generative models: samples, interpolation between two codes, a traversal of each
latent dimension, and the decoded 2-D latent space (manifold).

Example
-------
>>> from aekit import VariationalAutoencoder, datasets
>>> vae = VariationalAutoencoder(latent=2, image_shape=(1, 8, 8), epochs=1).fit(datasets.load("digits").data)
>>> figures = samples(vae, n=16), manifold(vae, n=10)
"""

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator

from .grids import (
    checked_image_shape,
    display_shape,
    image_grid,
    image_rows,
    model_name,
    require_method,
    scaled_to_unit,
)


def _as_images(est, flat):
    """Decoded rows as (N, C, H, W) in [0, 1]; rows already in [0, 1] keep their grey values (a faint
    sample stays faint), others are stretched over their range."""
    shape = checked_image_shape(est, None)
    inside = flat.min() >= 0 and flat.max() <= 1
    low, high = (0.0, 1.0) if inside else (flat.min(), flat.max())
    return scaled_to_unit(flat.reshape(len(flat), *shape), low, high)


def samples(est: BaseEstimator, n: int = 64, random_state: int | None = 0) -> Figure:
    """``n`` new instances drawn from a generative model (VAE or GAN) in a near-square grid.

    Example
    -------
    >>> fig = samples(vae, n=36)  # doctest: +SKIP
    """
    if not hasattr(est, "sample"):
        raise ValueError(f"{model_name(est)} does not generate: samples need a VariationalAutoencoder or a GAN")
    if n < 1:
        raise ValueError(f"nothing to show: n={n}")
    drawn, title = est.sample(n, random_state=random_state), f"{model_name(est)}: {n} samples"
    if display_shape(est, None) is None:
        return image_rows({"samples": drawn}, None, title=title)
    return image_grid(_as_images(est, drawn), title, math.ceil(math.sqrt(n)))


def interpolation(est: BaseEstimator, a: ArrayLike, b: ArrayLike, steps: int = 10) -> Figure:
    """Decoded points on the straight line between the codes of images ``a`` and ``b``.

    Example
    -------
    >>> fig = interpolation(vae, X[0], X[1])  # doctest: +SKIP
    """
    require_method(est, "interpolate", "interpolation", "encodes and decodes rows")
    ends = np.stack([np.ravel(a), np.ravel(b)]).astype(np.float32)
    return image_rows({"inputs": ends, "interpolation": est.interpolate(a, b, steps)}, display_shape(est, None),
                      title=f"{model_name(est)}: from one code to another in {steps} steps")


def traversal(est: BaseEstimator, x: ArrayLike, dims: Sequence[int] | None = None,
              values: ArrayLike | None = None) -> Figure:
    """One row per latent dimension in ``dims``: the code of ``x`` with that dimension swept over
    ``values`` (default: 9 points over the range the dimension takes on the training data), the
    others held fixed. Dimensions that matter change the image; dead ones do not.

    Example
    -------
    >>> fig = traversal(vae, X[0], dims=range(8))  # doctest: +SKIP
    """
    require_method(est, "traverse", "traversal", "encodes and decodes rows")
    dims = list(range(min(est.latent, 8)) if dims is None else dims)
    if not dims or not all(0 <= d < est.latent for d in dims):
        raise ValueError(f"dims={dims} must be latent dimensions of {model_name(est)} (0 to {est.latent - 1})")
    rows = {}
    for dim in dims:
        sweep = values if values is not None else np.linspace(*est.code_range_[:, dim], 9)
        rows[f"z{dim}"] = est.traverse(x, dim, sweep)
    return image_rows(rows, display_shape(est, None), title=f"{model_name(est)}: one latent dimension at a time")


def manifold(est: BaseEstimator, n: int = 15, extent: float | None = None) -> Figure:
    """The decoded grid over a 2-D latent space: ``n`` x ``n`` codes spaced evenly over
    [-extent, extent] in each dimension (default: the range of the training codes; for a GAN,
    whose codes are draws from N(0, I), 3).

    Example
    -------
    >>> fig = manifold(VariationalAutoencoder(latent=2).fit(X))  # doctest: +SKIP
    """
    require_method(est, "inverse_transform", "manifold", "decodes codes")
    if est.latent != 2:
        raise ValueError(f"manifold needs a model with latent=2, {model_name(est)} has latent={est.latent}")
    if n < 2:
        raise ValueError(f"manifold needs n >= 2 points per axis, got {n}")
    if extent is None and not hasattr(est, "transform"):
        extent = 3.0
    ranges = [(-extent, extent)] * 2 if extent is not None else est.code_range_.T
    axis_0, axis_1 = np.linspace(*ranges[0], n), np.linspace(*ranges[1], n)[::-1]  # high values at the top
    codes = np.stack(np.meshgrid(axis_0, axis_1), -1).reshape(-1, 2).astype(np.float32)
    images = _as_images(est, est.inverse_transform(codes))
    return image_grid(images, f"{model_name(est)}: decoded 2-D latent space", n, cell=0.45, gap=False)

