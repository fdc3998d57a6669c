"""Writers for small data files in the formats ``aekit.datasets`` reads."""

import gzip

import numpy as np
import pytest
from PIL import Image

_IDX_CODES = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}


def _write_idx(path, array, gz=False):
    array = np.asarray(array)
    if array.dtype.kind == "f":
        array = array.astype(">f4")
    elif array.dtype != np.uint8:
        array = array.astype(">i4")
    header = bytes([0, 0, _IDX_CODES[array.dtype], array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    raw = header + array.tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def _write_png(path, size, mode="L", value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, 0, 255 - value)).save(path)
    return path


@pytest.fixture
def write_idx():
    """``write_idx(path, array, gz=False)``: an IDX file holding ``array``."""
    return _write_idx


@pytest.fixture
def write_png():
    """``write_png(path, (width, height), mode="L", value=128)``: a one-colour PNG."""
    return _write_png
