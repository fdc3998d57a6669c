"""The standard image codecs (JPEG, WebP, PNG through Pillow) that aekit's codec is measured against."""

import io
import math

import numpy as np
from PIL import Image

from ...metrics import psnr


def pillow_point(X, image_size: tuple[int, int], fmt: str, **options) -> tuple[float, float]:
    """(bytes per image, mean PSNR in dB) of grey images saved one file each by Pillow: the standard
    codecs (``fmt`` "JPEG", "WEBP", "PNG", with Pillow's ``options`` such as ``quality``) that
    aekit's is set beside.

    ``X`` holds rows of values in [0, 1], each an image of ``image_size`` (height, width); they are
    rounded to 8 bits first (lossless for data that came from 8-bit images).

    Example
    -------
    >>> size, quality = pillow_point(X_test, (28, 28), "JPEG", quality=50)  # doctest: +SKIP
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != math.prod(image_size) or X.min() < 0 or X.max() > 1:
        raise ValueError(f"pillow_point needs rows of {math.prod(image_size)} values in [0, 1], got shape "
                         f"{X.shape}")
    images = np.round(X * 255).astype(np.uint8).reshape(-1, *image_size)
    sizes, decoded = [], []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, fmt, **options)
        sizes.append(len(buffer.getvalue()))
        decoded.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("L")))
    return float(np.mean(sizes)), psnr(images.reshape(len(images), -1) / 255.0,
                                       np.stack(decoded).reshape(len(images), -1) / 255.0)


__all__ = ["pillow_point"]
