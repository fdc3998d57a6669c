"""RandAugment for FixMatch's strong view (Cubuk et al. 2020, as FixMatch draws it): each image gets
``N_OPS`` operations, each picked at random from :data:`OPERATIONS` with a random magnitude in
[0, 1] and a random sign, on top of a flip and a small shift, and then one erased square (cutout).

Every random draw comes from the ``torch.Generator`` given, on the CPU, in a fixed number per batch
(an operation's index, magnitude and sign for every image and round, whichever operations are
picked), so the same seed gives the same views. Images are (N, C, H, W) tensors with values in
[0, 1]; every operation keeps them there. Geometric operations resample with
``F.affine_grid`` + ``F.grid_sample`` (bilinear, zero fill: the background of the dark images aekit
is measured on).

Magnitudes at 1, as FixMatch's pool: rotation 30 degrees, shear 0.3, translation 0.3 of the side,
zoom 0.25, brightness / contrast / sharpness factors 1 +- 0.9, posterize to 4 bits, solarize above 0.
"""

import math

import torch
from torch.nn import functional as F

from .augment import erase, weak_view

# Operations applied to each image, one after another: FixMatch's 2 (3 gave 0.218 against 0.219 on
# Fashion-MNIST validation, 100 labels, 6,000 steps: no gain for a third more work on the views).
N_OPS = 2


def _affine(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """Each image resampled at ``matrices`` (N, 2, 3) @ (x, y, 1) in normalised coordinates (zero fill)."""
    grid = F.affine_grid(matrices.to(images.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False).clamp(0, 1)


def _linear(images: torch.Tensor, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor,
            tx=None, ty=None) -> torch.Tensor:
    zero = torch.zeros_like(a)
    row1 = torch.stack([a, b, zero if tx is None else tx], 1)
    row2 = torch.stack([c, d, zero if ty is None else ty], 1)
    return _affine(images, torch.stack([row1, row2], 1))


def rotate(images, m, s):
    """Rotation by up to 30 degrees."""
    angle = s * m * math.radians(30)
    return _linear(images, angle.cos(), -angle.sin(), angle.sin(), angle.cos())


def shear_x(images, m, s):
    """Horizontal shear by up to 0.3."""
    one = torch.ones_like(m)
    return _linear(images, one, s * m * 0.3, torch.zeros_like(m), one)


def shear_y(images, m, s):
    """Vertical shear by up to 0.3."""
    one = torch.ones_like(m)
    return _linear(images, one, torch.zeros_like(m), s * m * 0.3, one)


def translate_x(images, m, s):
    """Horizontal move by up to 0.3 of the width (0.6 in coordinates from -1 to 1)."""
    one, zero = torch.ones_like(m), torch.zeros_like(m)
    return _linear(images, one, zero, zero, one, tx=s * m * 0.6)


def translate_y(images, m, s):
    """Vertical move by up to 0.3 of the height."""
    one, zero = torch.ones_like(m), torch.zeros_like(m)
    return _linear(images, one, zero, zero, one, ty=s * m * 0.6)


def zoom(images, m, s):
    """Scaling by a factor 1 +- 0.25 about the centre."""
    inverse = 1 / (1 + s * m * 0.25)
    zero = torch.zeros_like(m)
    return _linear(images, inverse, zero, zero, inverse)


def _factor(m, s):
    return (1 + s * m * 0.9).view(-1, 1, 1, 1)


def brightness(images, m, s):
    """Values times a factor 1 +- 0.9 (blend with black)."""
    return (images * _factor(m, s)).clamp(0, 1)


def contrast(images, m, s):
    """Blend with the image's mean by a factor 1 +- 0.9."""
    mean = images.mean((1, 2, 3), keepdim=True)
    return (mean + _factor(m, s) * (images - mean)).clamp(0, 1)


def sharpness(images, m, s):
    """Blend with a smoothed image (PIL's 3x3 kernel) by a factor 1 +- 0.9: blurred below 1, sharpened above."""
    kernel = torch.tensor([[1.0, 1, 1], [1, 5, 1], [1, 1, 1]], dtype=images.dtype, device=images.device) / 13
    channels = images.shape[1]
    smooth = F.conv2d(F.pad(images, (1, 1, 1, 1), mode="replicate"), kernel.expand(channels, 1, 3, 3),
                      groups=channels)
    return (smooth + _factor(m, s) * (images - smooth)).clamp(0, 1)


def posterize(images, m, s):
    """Values kept to 8 - round(4 m) bits."""
    levels = (2.0 ** (8 - (4 * m).round())).view(-1, 1, 1, 1)
    return (images * levels).floor().clamp(max=levels - 1) / (levels - 1)


def solarize(images, m, s):
    """Values above 1 - m inverted."""
    return torch.where(images >= (1 - m).view(-1, 1, 1, 1), 1 - images, images)


def autocontrast(images, m, s):
    """Each image stretched to fill [0, 1] (per channel)."""
    low = images.amin((2, 3), keepdim=True)
    high = images.amax((2, 3), keepdim=True)
    return torch.where(high > low, (images - low) / (high - low).clamp(min=1e-6), images)


def equalize(images, m, s):
    """Histogram equalisation of each image's channels over 256 levels."""
    n, c = images.shape[:2]
    levels = (images * 255).round().long().flatten(2)  # (N, C, H*W)
    counts = torch.zeros(n, c, 256, dtype=images.dtype, device=images.device)
    counts.scatter_add_(2, levels, torch.ones_like(images).flatten(2))
    cdf = counts.cumsum(2)
    first = cdf.gather(2, levels.amin(2, keepdim=True))  # pixels at the darkest level map to 0
    mapped = (cdf.gather(2, levels) - first) / (cdf[..., -1:] - first).clamp(min=1)
    return mapped.view_as(images)


def identity(images, m, s):
    """The image as it is."""
    return images


OPERATIONS = (identity, autocontrast, equalize, brightness, contrast, sharpness, posterize, solarize, rotate,
              shear_x, shear_y, translate_x, translate_y, zoom)


def rand_augment(images: torch.Tensor, generator: torch.Generator, n_ops: int = N_OPS) -> torch.Tensor:
    """``n_ops`` operations of :data:`OPERATIONS` on each image, each with its own random magnitude and sign.

    Example
    -------
    >>> x = torch.rand(6, 1, 28, 28)
    >>> y = rand_augment(x, torch.Generator().manual_seed(0))
    >>> y.shape, bool(y.min() >= 0) and bool(y.max() <= 1)
    (torch.Size([6, 1, 28, 28]), True)
    """
    n = len(images)
    for _ in range(n_ops):
        # drawn for every image whatever it is given: the generator's stream does not depend on the picks
        picks = torch.randint(len(OPERATIONS), (n,), generator=generator).to(images.device)
        magnitudes = torch.rand(n, generator=generator).to(images.device, images.dtype)
        signs = (torch.randint(2, (n,), generator=generator) * 2 - 1).to(images.device, images.dtype)
        out = images.clone()
        for index, operation in enumerate(OPERATIONS):
            chosen = torch.nonzero(picks == index).flatten()
            if len(chosen) and operation is not identity:
                out[chosen] = operation(images[chosen], magnitudes[chosen], signs[chosen])
        images = out
    return images


def rand_augment_view(images: torch.Tensor, generator: torch.Generator, mirror: bool = True) -> torch.Tensor:
    """FixMatch's strong view with RandAugment: the weak view (a flip when ``mirror``, a shift of up
    to 2 pixels), :func:`rand_augment`, and one erased square.

    Example
    -------
    >>> x = torch.rand(4, 3, 8, 8)
    >>> a = rand_augment_view(x, torch.Generator().manual_seed(0))
    >>> torch.equal(a, rand_augment_view(x, torch.Generator().manual_seed(0))), a.shape
    (True, torch.Size([4, 3, 8, 8]))
    """
    return erase(rand_augment(weak_view(images, generator, mirror), generator), generator)


__all__ = ["N_OPS", "OPERATIONS", "autocontrast", "brightness", "contrast", "equalize", "identity", "posterize",
           "rand_augment", "rand_augment_view", "rotate", "sharpness", "shear_x", "shear_y", "solarize",
           "translate_x", "translate_y", "zoom"]
