"""Pure plotting functions: each takes a fitted estimator (and data) and returns a matplotlib Figure.

The caller decides where figures go; nothing here writes files or shows windows. :func:`pictures`
says which of them suit a given model and data set (``aekit train`` writes those).

One module per subject:

- :mod:`~aekit.plots.grids`: rows and grids of images (heatmaps for rows that are not images), and
  the checks every picture shares;
- :mod:`~aekit.plots.model`: reconstructions, denoising, first-layer filters;
- :mod:`~aekit.plots.generative`: samples, interpolation, traversal, manifold;
- :mod:`~aekit.plots.curves`: loss curves, a GAN's monitor;
- :mod:`~aekit.plots.codes`: code histogram, latent scatter, code heatmap;
- :mod:`~aekit.plots.applications`: nearest neighbours, ROC, rate and distortion;
- :mod:`~aekit.plots.choice`: :func:`pictures`, the pictures that suit a model.

Example
-------
>>> from aekit import Autoencoder, plots
>>> from aekit.datasets import load
>>> digits = load("digits")
>>> ae = Autoencoder(hidden=(16,), latent=2, image_shape=(1, 8, 8), epochs=1).fit(digits.data)
>>> fig = plots.latent_scatter(ae, digits.data, digits.target)
>>> sorted(plots.pictures(ae, digits.data, digits.target))
['filters', 'latent-scatter', 'loss-curves', 'reconstructions']
"""

from .applications import neighbours, rate_distortion, roc
from .choice import pictures
from .codes import code_heatmap, code_histogram, latent_scatter
from .curves import gan_monitor, loss_curves
from .generative import interpolation, manifold, samples, traversal
from .grids import MAX_IMAGES, image_grid, image_rows
from .model import denoising, filters, reconstructions

__all__ = [
    "MAX_IMAGES",
    "code_heatmap",
    "code_histogram",
    "denoising",
    "filters",
    "gan_monitor",
    "image_grid",
    "image_rows",
    "interpolation",
    "latent_scatter",
    "loss_curves",
    "manifold",
    "neighbours",
    "pictures",
    "rate_distortion",
    "reconstructions",
    "roc",
    "samples",
    "traversal",
]
