"""Uniform quantisation of codes: each code dimension's training range cut into 2**bits equal bins.

A symbol is the index of a bin; decoding gives the centre of the bin, so a code within the range is
off by at most half a bin, and a code outside it is clipped to the end bin first.
"""

import numpy as np

from ...estimators import _params as p

BITS = p.integer(2, 16)


def check_bits(bits: int) -> None:
    """Raise ValueError unless ``bits`` is an allowed number of quantisation bits (2 to 16)."""
    if not BITS.test(bits):
        raise ValueError(f"bits must be {BITS.phrase}, got {bits!r}")


def bins(values, name: str, code_range, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``values`` as a float32 (n_samples, latent) array, and the lower ends and widths of the
    2**bits equal bins of each dimension.

    Parameters
    ----------
    values : array-like (n_samples, latent)
        Codes or symbols; ``name`` says which in error messages.
    name : str
    code_range : array-like (2, latent)
        The lowest and highest value of each dimension.
    bits : int

    Example
    -------
    >>> _, low, step = bins([[0.5]], "codes", [[0.0], [1.0]], bits=2)
    >>> low.tolist(), step.tolist()
    ([0.0], [0.25])
    """
    check_bits(bits)
    values, code_range = np.asarray(values, np.float32), np.asarray(code_range, np.float32)
    if code_range.ndim != 2 or len(code_range) != 2:
        raise ValueError(f"code_range must have shape (2, latent), got {code_range.shape}")
    if values.ndim != 2 or values.shape[1] != code_range.shape[1]:
        raise ValueError(f"{name} must have shape (n_samples, {code_range.shape[1]}) to match code_range, "
                         f"got {values.shape}")
    low, high = code_range
    return values, low, (high - low) / np.float32(1 << bits)


def quantise(codes, code_range, bits: int) -> np.ndarray:
    """Symbols in [0, 2**bits) of ``codes`` (n_samples, latent): the bin of each value when each
    dimension's range ``code_range[0] .. code_range[1]`` is cut into 2**bits equal bins; values
    outside the range go to the end bins.

    Example
    -------
    >>> quantise([[0.0, 0.5], [1.0, 2.0]], [[0.0, 0.0], [1.0, 1.0]], bits=2)
    array([[0, 2],
           [3, 3]], dtype=uint16)
    """
    codes, low, step = bins(codes, "codes", code_range, bits)
    # a dimension that never varied (step 0) has one symbol
    scaled = np.divide(codes - low, step, out=np.zeros_like(codes), where=step > 0)
    return np.clip(np.floor(scaled), 0, (1 << bits) - 1).astype(np.uint16)


def dequantise(symbols, code_range, bits: int) -> np.ndarray:
    """The codes that ``symbols`` stand for: the centre of their bin (see :func:`quantise`), so a
    code within the range is off by at most half a bin.

    Example
    -------
    >>> dequantise([[0, 3]], [[0.0, 0.0], [1.0, 1.0]], bits=2)
    array([[0.125, 0.875]], dtype=float32)
    """
    symbols, low, step = bins(symbols, "symbols", code_range, bits)
    return low + (symbols + np.float32(0.5)) * step


__all__ = ["BITS", "bins", "check_bits", "dequantise", "quantise"]
