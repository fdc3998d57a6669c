"""Pictures of a model at work: its reconstructions of rows, its denoising of corrupted rows, and the
first layer's weights (filters).

Example
-------
>>> from aekit import DenoisingAutoencoder
>>> from aekit.datasets import load
>>> X = load("digits").data
>>> dae = DenoisingAutoencoder(hidden=(32,), latent=8, image_shape=(1, 8, 8), epochs=2).fit(X)
>>> figures = [reconstructions(dae, X, n=8), denoising(dae, X), filters(dae, n=16)]
"""

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from torch import nn

from ..noise import corrupt
from .grids import (
    CELL,
    checked_image_shape,
    display_range,
    display_shape,
    first_rows,
    image_grid,
    image_rows,
    model_name,
    require_method,
    scaled_to_unit,
)


def reconstructions(est: BaseEstimator, X: ArrayLike, n: int = 10, image_shape: Sequence[int] | None = None
                    ) -> Figure:
    """The first ``n`` rows of ``X`` above their reconstructions.

    Both rows share one grey scale, the range of ``X``, so that a faint reconstruction looks faint.

    Parameters
    ----------
    est : fitted autoencoder
    X : array-like, shape (n_samples, n_features)
        Data in the original units.
    n : int
    image_shape : (C, H, W), optional
        Default: ``est.image_shape_``; one of the two is needed.

    Example
    -------
    >>> fig = reconstructions(ae, digits.data, n=8)  # doctest: +SKIP
    """
    require_method(est, "reconstruct", "reconstructions", "reconstructs rows")
    shape = display_shape(est, image_shape)
    first = first_rows(X, n)
    return image_rows({"input": first, "reconstruction": est.reconstruct(first)}, shape,
                      title=f"{model_name(est)}: reconstructions", value_range=display_range(X, shape))


def denoising(est: BaseEstimator, X: ArrayLike, kind: str | None = None, level: float | None = None, n: int = 10,
              random_state: int | None = 0, image_shape: Sequence[int] | None = None) -> Figure:
    """Rows of clean inputs, corrupted copies, and the model's reconstructions of the corrupted copies.

    Parameters
    ----------
    est : fitted autoencoder
    X : array-like, shape (n_samples, n_features)
        Clean data in the original units; its per-feature range bounds the noise (as in training).
    kind : {"gaussian", "masking", "salt_and_pepper"}, optional
        Default: the noise the model was trained with.
    level : float, optional
        Default: the model's ``noise_level``.
    n : int
        Number of columns (the first ``n`` rows of ``X``).
    random_state : int or None
        Seed of the corruption.
    image_shape : (C, H, W), optional
        Default: ``est.image_shape_``.

    Example
    -------
    >>> fig = denoising(dae, digits.data, "masking", 0.5)  # doctest: +SKIP
    """
    require_method(est, "reconstruct", "denoising", "reconstructs rows")
    shape = display_shape(est, image_shape)
    kind = kind if kind is not None else getattr(est, "noise", None)
    level = level if level is not None else getattr(est, "noise_level", None)
    if kind is None or level is None:
        raise ValueError(f"{model_name(est)} was trained without noise: give the kind and level of noise to apply")
    first = first_rows(X, n)
    noisy = corrupt(first, kind, level, random_state=random_state, low=np.min(X, 0), high=np.max(X, 0))
    return image_rows({"clean": first, "corrupted": noisy, "denoised": est.reconstruct(noisy)}, shape,
                      title=f"{model_name(est)}: {kind.replace('_', '-')} noise, level {level:g}",
                      value_range=display_range(X, shape))


def _first_weight_layer(est):
    require_method(est, "transform", "filters", "encodes rows")
    for module in est.model_.encoder.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            return module
    raise ValueError(f"{model_name(est)}: the encoder has no linear or convolutional layer")


def filters(est: BaseEstimator, n: int = 64, image_shape: Sequence[int] | None = None) -> Figure:
    """The first encoder layer's weights for ``n`` hidden units, each shown as an image.

    For a dense first layer the weights of a unit form an image of the input's shape: the pattern
    that excites the unit most. For a convolutional one they are its kernels. Each image is scaled to
    its own range (black lowest, white highest), since only the pattern matters.

    Parameters
    ----------
    est : fitted autoencoder
    n : int
        Units to show (the first ``n``; fewer if the layer has fewer).
    image_shape : (C, H, W), optional
        Dense first layers only; default ``est.image_shape_``.

    Example
    -------
    >>> fig = filters(ae, n=16)  # doctest: +SKIP
    """
    layer = _first_weight_layer(est)
    weights = layer.weight.detach().cpu().double().numpy()
    if isinstance(layer, nn.Conv2d):
        images, what = weights, (f"{weights.shape[2]}x{weights.shape[3]} kernels", "channels")
    else:
        images, what = weights.reshape(len(weights), *checked_image_shape(est, image_shape)), ("weights", "units")
    total = len(images)
    images = first_rows(images, n)
    flat = images.reshape(len(images), -1)
    images = scaled_to_unit(images, flat.min(1)[:, None, None, None], flat.max(1)[:, None, None, None])
    shown = f"{len(images)} of {total}" if len(images) < total else f"all {total}"
    n_cols = math.ceil(math.sqrt(len(images)))
    # cells grow in a small grid, so that the figure is wide enough for its title
    return image_grid(images, f"{model_name(est)}\nfirst-layer {what[0]} of {shown} {what[1]}",
                      n_cols, cell=max(0.8 * CELL, 4.0 / n_cols))

