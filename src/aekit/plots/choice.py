"""The choice of pictures per model: which of the pictures say something about a given fitted model
and data set (``aekit train`` writes those).

Example
-------
>>> from aekit import Autoencoder
>>> from aekit.datasets import load
>>> digits = load("digits")
>>> ae = Autoencoder(hidden=(16,), latent=2, image_shape=(1, 8, 8), epochs=1).fit(digits.data)
>>> sorted(pictures(ae, digits.data, digits.target))
['filters', 'latent-scatter', 'loss-curves', 'reconstructions']
"""

from collections.abc import Callable

from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator

from .codes import code_histogram, latent_scatter
from .curves import gan_monitor, has_gan_monitor, loss_curves
from .generative import interpolation, manifold, samples, traversal
from .model import denoising, filters, reconstructions


def pictures(est: BaseEstimator, X: ArrayLike | None = None, y: ArrayLike | None = None
             ) -> dict[str, Callable[[], Figure]]:
    """The pictures that say something about a fitted ``est`` and data ``X`` (labels ``y``).

    Returns a dict name -> function of no arguments that draws the Figure, in a stable order, so
    that a caller draws (and holds in memory) one at a time. The names are those of ``aekit plot``:

    - ``"loss-curves"`` when there is a history, and ``"gan-monitor"`` for a GAN's;
    - ``"samples"`` from a generative model, with ``"manifold"`` for images in a 2-D latent space;
    - ``"filters"`` for image data (``est.image_shape_``);
    - with data: ``"reconstructions"``; ``"interpolation"`` and ``"traversal"`` for a VAE;
      ``"denoising"`` when the model was trained with noise; ``"latent-scatter"`` when ``y`` is
      given; ``"code-histogram"`` when the model has a sparsity penalty. Rows that are not images
      are drawn as heatmaps (see :func:`image_rows`);
    - without data, only the pictures that need none.

    Example
    -------
    >>> for name, draw in pictures(ae, digits.data, digits.target).items():  # doctest: +SKIP
    ...     draw().savefig(f"{name}.png")
    """
    out = {}
    if getattr(est, "history_", None):
        out["loss-curves"] = lambda: loss_curves(est)
        if has_gan_monitor(est.history_):
            out["gan-monitor"] = lambda: gan_monitor(est)
    if not hasattr(est, "model_"):
        return out
    is_image = getattr(est, "image_shape_", None) is not None
    if hasattr(est, "sample"):
        out["samples"] = lambda: samples(est)
        if is_image and getattr(est, "latent", None) == 2 and hasattr(est, "transform"):
            out["manifold"] = lambda: manifold(est)
    if not hasattr(est, "transform"):  # a generator only (the GAN): nothing to encode
        return out
    if is_image:
        out["filters"] = lambda: filters(est)
    if X is None:
        return out
    out["reconstructions"] = lambda: reconstructions(est, X)
    if hasattr(est, "sample") and len(X) >= 2:
        out["interpolation"] = lambda: interpolation(est, X[0], X[1])
        out["traversal"] = lambda: traversal(est, X[0])
    if getattr(est, "noise", None) is not None:
        out["denoising"] = lambda: denoising(est, X)
    if y is not None:
        out["latent-scatter"] = lambda: latent_scatter(est, X, y)
    if getattr(est, "sparsity", None) is not None:
        out["code-histogram"] = lambda: code_histogram(est, X)
    return out
