"""Random views of images for consistency training (FixMatch, Sohn et al. 2020), in torch.

Every random draw comes from the ``torch.Generator`` given (a CPU generator: the same seed gives the
same views whatever the device the images are on), so a seeded classifier trains the same network
twice. Images are (N, C, H, W) tensors whose values lie in [0, 1] (the scaled rows of an image
classifier; a value outside is clipped by the contrast change only).

- :func:`weak_view`: a horizontal flip with probability 1/2 (optional) and a shift of up to 2 pixels
  each way (zero fill): the image the prediction that becomes a pseudo-label is made on.
- :func:`strong_view`: the flip, a shift of up to 4 pixels, a random contrast (x -> mean + c (x -
  mean), c in [0.5, 1.5], clipped to [0, 1]) and one erased square (side 8-14 pixels on 28 x 28
  images, in proportion on others): the image that must be given the pseudo-label.
- :func:`prediction_views`: fixed views for prediction (the image, its mirror image, shifts of 1 pixel),
  whose predictions the fitted classifier may average.

Chosen in bench/semisup_conv.py on a validation split of Fashion-MNIST.
"""

import torch
from torch.nn import functional as F

from ...training.augment import shift_images

# Largest shift of the weak and the strong view, in pixels of a 28 x 28 image (in proportion on others).
WEAK_SHIFT, STRONG_SHIFT = 2, 4
# Side of the erased square, as a fraction of the image's shorter side (8-14 pixels of 28).
ERASE_SIDES = (8 / 28, 14 / 28)
CONTRAST = (0.5, 1.5)


def _uniform(n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=generator).to(device)


def _integers(low: int, high: int, n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """``n`` integers in [low, high], drawn on the CPU (the generator's device), moved to ``device``."""
    return torch.randint(low, high + 1, (n,), generator=generator).to(device)


def scaled_pixels(pixels: int, size: int) -> int:
    """``pixels`` of a 28-pixel side, in proportion on a side of ``size`` (at least 1).

    Example
    -------
    >>> scaled_pixels(4, 28), scaled_pixels(4, 8), scaled_pixels(2, 8)
    (4, 1, 1)
    """
    return max(1, round(pixels * size / 28))


def flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image mirrored left-right with probability 1/2."""
    mirrored = _uniform(len(images), generator, images.device) < 0.5
    return torch.where(mirrored[:, None, None, None], images.flip(-1), images)


def contrast(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image's contrast about its mean multiplied by a factor in ``CONTRAST``, clipped to [0, 1]."""
    low, high = CONTRAST
    factor = (low + (high - low) * _uniform(len(images), generator, images.device)).view(-1, 1, 1, 1)
    mean = images.mean((1, 2, 3), keepdim=True)
    return ((images - mean) * factor + mean).clamp(0, 1)


def erase(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One square per image set to 0, its centre anywhere (it may reach over the border)."""
    n, _, height, width = images.shape
    device = images.device
    short = min(height, width)
    side = _integers(max(1, round(ERASE_SIDES[0] * short)), max(1, round(ERASE_SIDES[1] * short)), n, generator,
                     device)
    cy, cx = _integers(0, height - 1, n, generator, device), _integers(0, width - 1, n, generator, device)
    half = (side // 2)[:, None]
    inside_y = (torch.arange(height, device=device)[None] - cy[:, None]).abs() <= half  # (N, H)
    inside_x = (torch.arange(width, device=device)[None] - cx[:, None]).abs() <= half  # (N, W)
    return images.masked_fill((inside_y[:, :, None] & inside_x[:, None, :])[:, None], 0.0)


def weak_view(images: torch.Tensor, generator: torch.Generator, mirror: bool = True) -> torch.Tensor:
    """A flip (when ``mirror``) and a small shift of each image.

    Example
    -------
    >>> g = torch.Generator().manual_seed(0)
    >>> weak_view(torch.rand(4, 1, 28, 28), g).shape
    torch.Size([4, 1, 28, 28])
    """
    if mirror:
        images = flip(images, generator)
    return shift_images(images, scaled_pixels(WEAK_SHIFT, min(images.shape[2:])), generator)


def strong_view(images: torch.Tensor, generator: torch.Generator, mirror: bool = True) -> torch.Tensor:
    """A flip (when ``mirror``), a larger shift, a contrast change and an erased square.

    Example
    -------
    >>> x = torch.rand(4, 3, 8, 8)
    >>> torch.equal(strong_view(x, torch.Generator().manual_seed(0)), strong_view(x, torch.Generator().manual_seed(0)))
    True
    """
    if mirror:
        images = flip(images, generator)
    images = shift_images(images, scaled_pixels(STRONG_SHIFT, min(images.shape[2:])), generator)
    return erase(contrast(images, generator), generator)


def shifted(images: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Every image moved ``dy`` pixels down and ``dx`` right (negative: up, left), the uncovered pixels 0."""
    height, width = images.shape[2:]
    padded = F.pad(images, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[:, :, top:top + height, left:left + width]


# The fixed prediction-time shifts (dy, dx), in the order prediction_views takes them.
TEST_SHIFTS = ((0, 1), (0, -1), (1, 0), (-1, 0))
# Views a FixMatch classifier averages at prediction (its ``test_views="auto"``): every view above.
# Fashion-MNIST, 100 labels, each against the same fitted network's single view (bench/semisupervised.py
# --test-views): validation 0.224 -> 0.220, 0.213 -> 0.208 (teacher="average", draws 0 / 1), 0.223 ->
# 0.224, 0.212 -> 0.208 (the default, draws 0 / 1); test 0.219 -> 0.216 over 3 draws, better on each.
FIXMATCH_TEST_VIEWS = 6


def prediction_views(images: torch.Tensor, n_views: int, mirror: bool = True) -> list[torch.Tensor]:
    """The first ``n_views`` of: the images as they are, mirrored left-right (when ``mirror``),
    and shifted by 1 pixel right, left, down and up (``TEST_SHIFTS``); weak views without their draws.

    Example
    -------
    >>> x = torch.arange(4.0).view(1, 1, 2, 2)
    >>> [v.flatten().tolist() for v in prediction_views(x, 3)]
    [[0.0, 1.0, 2.0, 3.0], [1.0, 0.0, 3.0, 2.0], [0.0, 0.0, 0.0, 2.0]]
    >>> len(prediction_views(x, 9, mirror=False))
    5
    """
    views = [images] + ([images.flip(-1)] if mirror else []) + [shifted(images, dy, dx) for dy, dx in TEST_SHIFTS]
    return views[:n_views]


__all__ = ["FIXMATCH_TEST_VIEWS", "TEST_SHIFTS", "contrast", "erase", "flip", "prediction_views", "scaled_pixels",
           "shifted", "strong_view", "weak_view"]
