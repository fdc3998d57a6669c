"""The standard image codecs (JPEG, WebP, AVIF, PNG through Pillow) that aekit's codec is measured against."""

import io
import math

import numpy as np
from PIL import Image

from ...metrics import psnr


def pillow_point(X, image_size: tuple[int, ...], fmt: str, **options) -> tuple[float, float]:
    """(bytes per image, mean PSNR in dB) of images saved one file each by Pillow: the standard
    codecs (``fmt`` "JPEG", "WEBP", "AVIF", "PNG", with Pillow's ``options`` such as ``quality``)
    that aekit's is set beside.

    ``X`` holds rows of values in [0, 1], each an image of ``image_size``: (height, width) for grey
    images, or aekit's (channels, height, width) with 1 or 3 channels (rows channel-first, as
    ``image_shape``). They are rounded to 8 bits first (lossless for data that came from 8-bit
    images).

    Example
    -------
    >>> size, quality = pillow_point(X_test, (28, 28), "JPEG", quality=50)  # doctest: +SKIP
    """
    X = np.asarray(X, dtype=np.float32)
    shape = tuple(image_size) if len(image_size) == 3 else (1, *image_size)
    if (X.ndim != 2 or X.shape[1] != math.prod(shape) or shape[0] not in (1, 3) or X.min() < 0
            or X.max() > 1):
        raise ValueError(f"pillow_point needs rows of {math.prod(shape)} values in [0, 1] (images of 1 or 3 "
                         f"channels), got shape {X.shape} for image size {tuple(image_size)}")
    # Pillow's images are (height, width) for grey, (height, width, 3) for colour
    images = np.round(X * 255).astype(np.uint8).reshape(-1, *shape).transpose(0, 2, 3, 1)
    images = images[..., 0] if shape[0] == 1 else images
    mode = "L" if shape[0] == 1 else "RGB"
    sizes, decoded = [], []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, fmt, **options)
        sizes.append(len(buffer.getvalue()))
        decoded.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert(mode)))
    return float(np.mean(sizes)), psnr(images.reshape(len(images), -1) / 255.0,
                                       np.stack(decoded).reshape(len(images), -1) / 255.0)


__all__ = ["pillow_point"]
