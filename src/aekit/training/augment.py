"""Training on randomly shifted copies of image rows: more views of few training images.

A model that reconstructs its input (an autoencoder) learns the shifted image from the shifted
image, so shifting the inputs of each mini-batch is all it takes; the draws come from one of the
trainer's generators, so a seeded model trains the same network twice and a resumed run continues
the same draws (the generators are saved in checkpoints).
"""

from collections.abc import Callable

import torch
from torch.nn import functional as F

from .loop import Batch, Terms, Trainer, default_step


def shift_images(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image of ``images`` (N, C, H, W) moved by its own offset in [-max_shift, max_shift]^2
    pixels, the uncovered pixels 0; the offsets drawn from ``generator`` (on its own device).

    Example
    -------
    >>> x = torch.zeros(2, 1, 5, 5)
    >>> x[:, :, 2, 2] = 1
    >>> y = shift_images(x, 1, torch.Generator().manual_seed(0))
    >>> y.shape, y.sum().item()
    (torch.Size([2, 1, 5, 5]), 2.0)
    """
    n, channels, height, width = images.shape
    offsets = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator, device=generator.device)
    offsets = offsets.to(images.device)
    padded = F.pad(images, (max_shift,) * 4)
    rows = offsets[0, :, None] + torch.arange(height, device=images.device)  # (N, H) rows of ``padded``
    cols = offsets[1, :, None] + torch.arange(width, device=images.device)  # (N, W)
    picked = padded.gather(2, rows[:, None, :, None].expand(n, channels, height, padded.shape[3]))
    return picked.gather(3, cols[:, None, None, :].expand(n, channels, height, width))


def shifting_step(image_shape: tuple[int, int, int], max_shift: int, offset: torch.Tensor | None = None,
                  scale: torch.Tensor | None = None, stream: str = "noise",
                  step: Callable[[Trainer, Batch], Terms] = default_step) -> Callable[[Trainer, Batch], Terms]:
    """A training step that shifts each row's image (see :func:`shift_images`) before ``step``.

    Parameters
    ----------
    image_shape : (C, H, W)
        The image of a row.
    max_shift : int
        Largest shift in pixels, each way.
    offset, scale : Tensor (n_features,), optional
        The scaling of the rows (scaled = (data - offset) / scale): rows are shifted in data
        units, so that the uncovered pixels are 0 there (black), whatever each feature's scaling.
    stream : str
        The trainer's generator to draw the offsets from.
    step : callable
        The step that trains on the shifted rows.
    """
    def shifted(trainer: Trainer, batch: Batch) -> Terms:
        inputs, targets = batch
        images = inputs if offset is None else inputs * scale + offset
        images = shift_images(images.reshape(-1, *image_shape), max_shift, trainer.generators[stream]).flatten(1)
        return step(trainer, (images if offset is None else (images - offset) / scale, targets))

    return shifted


__all__ = ["shift_images", "shifting_step"]
