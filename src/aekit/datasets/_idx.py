"""IDX files, the format of MNIST and Fashion-MNIST, read with numpy alone.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in C order. Files may be gzip-compressed.
"""

import math
import re
import zlib
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ._bunch import make_bunch

# "train-images-idx3-ubyte", "t10k-labels-idx1-ubyte.gz", and the dotted "train-images.idx3-ubyte"
IDX_NAME = re.compile(r"[.-]idx\d-ubyte(\.gz)?$")

_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _bytes(path):
    """The file's bytes, gunzipped when they start with gzip's magic, and whether the gzip stream was cut."""
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw, False
    parts = []
    # decompressobj rather than gzip.open: it hands back what a cut-off stream holds, so a truncated
    # file can be reported with its expected and actual size like an uncompressed one
    while raw:
        unzip = zlib.decompressobj(wbits=31)
        try:
            parts.append(unzip.decompress(raw))
        except zlib.error as e:
            raise ValueError(f"{path}: corrupt gzip data ({e})") from None
        if not unzip.eof:
            return b"".join(parts), True
        raw = unzip.unused_data
    return b"".join(parts), False


def read_idx_array(path: Path) -> np.ndarray:
    """The array stored in one IDX file (``.gz`` or not).

    Raises
    ------
    ValueError
        A bad magic number, or a size that does not match the dimensions in the header.

    Examples
    --------
    >>> images = read_idx_array(Path("train-images-idx3-ubyte.gz"))  # doctest: +SKIP
    >>> images.shape, images.dtype  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    raw, cut = _bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise ValueError(f"{path}: not an IDX file (magic number {raw[:4].hex() or 'missing'})")
    dtype, ndim = np.dtype(_TYPES[raw[2]]), raw[3]
    start = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw[4:start], ">u4")) if len(raw) >= start else None
    expected = start + math.prod(shape) * dtype.itemsize if shape is not None else start
    if shape is None or len(raw) != expected:
        what = "truncated" if len(raw) < expected else "too long"
        shape_text = f" for shape {shape}" if shape is not None else " for its header"
        gz_text = " (the gzip stream is cut short too)" if cut else ""
        raise ValueError(f"{path}: {what} IDX file: expected {expected} bytes{shape_text}, "
                         f"found {len(raw)}{gz_text}")
    return np.frombuffer(raw, dtype, offset=start).reshape(shape)


def labels_path(images_path: Path) -> Path | None:
    """The labels file that belongs to an images file, if one lies next to it, else None.

    ``train-images-idx3-ubyte`` pairs with ``train-labels-idx1-ubyte``, with or without ``.gz``.
    """
    name = images_path.name
    if "images" not in name:
        return None
    gz = name.endswith(".gz")
    stem = name.removesuffix(".gz").replace("images", "labels").replace("idx3", "idx1")
    for candidate in (stem + ".gz", stem) if gz else (stem, stem + ".gz"):
        if (images_path.parent / candidate).is_file():
            return images_path.parent / candidate
    return None


def read_pixels(images_path: Path) -> np.ndarray:
    """An IDX images file as an array; uint8 pixels are divided by 255 so they lie in [0, 1]."""
    images = read_idx_array(images_path)
    return images.astype(np.float32) / np.float32(255) if images.dtype == np.uint8 else images


def read_idx(path: Path) -> Bunch:
    """An IDX images file given by path, with its labels file when one lies next to it."""
    labels = labels_path(path)
    target = None if labels is None else read_idx_array(labels)
    source = str(path) if labels is None else f"{path} (labels from {labels.name})"
    return make_bunch(read_pixels(path), target, source=source, name=path.name)
