"""Lossy compression of data rows with a fitted autoencoder.

:func:`compress` encodes the rows, quantises each code dimension uniformly over the range its codes
took on the training data (``code_range_``; values outside are clipped), range-codes the symbols
and wraps them in a small container; :func:`decompress` checks the container and decodes.

Container: a 32-byte header (integers little-endian), then the payload.

========  =====  ========================================================================
field     bytes  meaning
========  =====  ========================================================================
magic     4      ``b"AEKC"``
version   1      container format version (:data:`FORMAT_VERSION`)
model     8      first 8 bytes of the :func:`model_hash` of the model that must decode it
rows      4      number of rows
latent    2      code dimensions per row
features  4      features of each decoded row
bits      1      quantisation bits per code dimension, 2 to 16
length    4      payload bytes
crc32     4      CRC-32 of the 28 bytes above and of the payload
========  =====  ========================================================================

CRC-32 detects every error burst of up to 32 bits, so any changed byte is caught; a short or long
file is caught by the length; codes made by another model by the model hash.

The payload codes each symbol bit by bit, most significant first, with a binary range coder
(the carry-propagating kind of LZMA, 16-bit probabilities). The probability of each bit comes from
a binary tree per code dimension: every node starts from a prior and counts the bits it has coded.
The prior is a bell-shaped, heavy-tailed distribution centred in the quantisation range, which is
where a trained model's codes fall, so one row costs about what its prior says; over a batch each
dimension learns its own histogram. The prior depends only on ``bits`` and is computed with exact
integer arithmetic, so nothing of it is stored and every machine decodes the same symbols.

Example
-------
>>> from aekit import Autoencoder, codec
>>> from aekit.datasets import load
>>> digits = load("digits", split="train").data
>>> ae = Autoencoder(hidden=(32,), latent=6, epochs=5, random_state=0).fit(digits)
>>> data = codec.compress(ae, digits[:100], bits=6)
>>> codec.read_header(data).n_rows, codec.decompress(ae, data).shape
(100, (100, 64))
"""

import functools
import hashlib
import io
import json
import math
import struct
import zlib
from typing import NamedTuple

import numpy as np
from PIL import Image
from safetensors.torch import save as safetensors_bytes
from sklearn.utils.validation import check_is_fitted

from ..estimators import _params as p
from ..metrics import psnr

MAGIC = b"AEKC"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sB8sIHIBII")
HEADER_SIZE = _HEADER.size
_BITS = p.integer(2, 16)
_HASH_BYTES = 8

# Range coder: a 32-bit window, renormalised a byte at a time, 16-bit probabilities of a zero bit.
_PROB_BITS = 16
_WINDOW = 1 << 32
_BOTTOM = 1 << 24
# Probability model. Each coded bit adds _INCREMENT to its node's count; the prior weighs as much as
# _PRIOR_WEIGHT / _INCREMENT bits, so a batch outweighs it after a few dozen rows. The prior's scale
# is a fraction of the number of levels. Both were measured on the training codes of MLP and conv
# autoencoders of MNIST (codes spread with a standard deviation of 0.12 to 0.19 of their range):
# scale 1/4 gave single rows the shortest output (1/7 cost 6 to 8% more); for batches of 1,000 rows
# weights from 3 to 128 rows were within about 1% of each other.
_INCREMENT = 32
_PRIOR_WEIGHT = 384
_PRIOR_SCALE = 1 / 4


class Header(NamedTuple):
    """The fields of a container's header (see the module's documentation)."""

    version: int
    model: str
    n_rows: int
    latent: int
    n_features: int
    bits: int
    payload_size: int


# ---- quantisation ---------------------------------------------------------------------------------
def _check_bits(bits):
    if not _BITS.test(bits):
        raise ValueError(f"bits must be {_BITS.phrase}, got {bits!r}")


def _bins(values, name, code_range, bits):
    """``values`` as a float32 (n_samples, latent) array, and the lower ends and widths of the
    2**bits equal bins of each dimension."""
    _check_bits(bits)
    values, code_range = np.asarray(values, np.float32), np.asarray(code_range, np.float32)
    if code_range.ndim != 2 or len(code_range) != 2:
        raise ValueError(f"code_range must have shape (2, latent), got {code_range.shape}")
    if values.ndim != 2 or values.shape[1] != code_range.shape[1]:
        raise ValueError(f"{name} must have shape (n_samples, {code_range.shape[1]}) to match code_range, "
                         f"got {values.shape}")
    low, high = code_range
    return values, low, (high - low) / np.float32(1 << bits)


def quantise(codes, code_range, bits):
    """Symbols in [0, 2**bits) of ``codes`` (n_samples, latent): the bin of each value when each
    dimension's range ``code_range[0] .. code_range[1]`` is cut into 2**bits equal bins; values
    outside the range go to the end bins.

    Example
    -------
    >>> quantise([[0.0, 0.5], [1.0, 2.0]], [[0.0, 0.0], [1.0, 1.0]], bits=2)
    array([[0, 2],
           [3, 3]], dtype=uint16)
    """
    codes, low, step = _bins(codes, "codes", code_range, bits)
    # a dimension that never varied (step 0) has one symbol
    scaled = np.divide(codes - low, step, out=np.zeros_like(codes), where=step > 0)
    return np.clip(np.floor(scaled), 0, (1 << bits) - 1).astype(np.uint16)


def dequantise(symbols, code_range, bits):
    """The codes that ``symbols`` stand for: the centre of their bin (see :func:`quantise`), so a
    code within the range is off by at most half a bin.

    Example
    -------
    >>> dequantise([[0, 3]], [[0.0, 0.0], [1.0, 1.0]], bits=2)
    array([[0.125, 0.875]], dtype=float32)
    """
    symbols, low, step = _bins(symbols, "symbols", code_range, bits)
    return low + (symbols + np.float32(0.5)) * step


# ---- entropy coding -------------------------------------------------------------------------------
@functools.cache
def _tree_prior(bits):
    """Pseudo-counts ``(zeros, ones)`` of each node of the binary tree over 2**bits symbols, as two
    lists indexed by heap index (node 1 is the root, node i's children are 2i and 2i + 1, leaf n + s
    is symbol s; index 0 is unused)."""
    n = 1 << bits
    # Student-t-like weights (1 + u^2)^-2: basic float operations only, which round the same on
    # every IEEE machine, then integers from there on
    u = (np.arange(n) - (n - 1) / 2) / (n * _PRIOR_SCALE)
    mass = np.zeros(2 * n, np.int64)
    mass[n:] = np.floor(2.0**20 / np.square(1 + u * u)).astype(np.int64) + 1
    for level in range(bits - 1, -1, -1):
        first = 1 << level
        mass[first:2 * first] = mass[2 * first:4 * first:2] + mass[2 * first + 1:4 * first:2]
    zeros = (_PRIOR_WEIGHT * mass[2:2 * n:2] + mass[1:n] // 2) // mass[1:n]
    zeros = np.clip(zeros, 1, _PRIOR_WEIGHT - 1)
    return [0, *zeros.tolist()], [0, *(_PRIOR_WEIGHT - zeros).tolist()]


def _walk(code_bit, bits, n_rows, latent, symbols=None):
    """Take every symbol down its dimension's tree, asking ``code_bit(p0, bit)`` to code each bit
    (``p0``: probability of a zero in 1/65536; ``bit``: the bit of ``symbols``, which a decoder
    ignores) and to return it; returns the symbols (n_rows, latent)."""
    leaves = 1 << bits
    # the counts of dimension d's node k at index d * leaves + k (this loop is the codec's hot path:
    # flat lists, no allocation per bit)
    prior_zeros, prior_ones = _tree_prior(bits)
    zeros, ones = prior_zeros * latent, prior_ones * latent
    flat = [0] * (n_rows * latent) if symbols is None else symbols.ravel().tolist()
    out = []
    for i, symbol in enumerate(flat):
        base = (i % latent) << bits
        node, shift = 1, bits - 1
        while node < leaves:
            key = base | node
            z, o = zeros[key], ones[key]
            bit = code_bit(((z << _PROB_BITS) // (z + o)) or 1, (symbol >> shift) & 1)
            if bit:
                ones[key] = o + _INCREMENT
            else:
                zeros[key] = z + _INCREMENT
            node, shift = (node << 1) | bit, shift - 1
        out.append(node - leaves)
    return np.array(out, np.uint16).reshape(n_rows, latent)


class _Encoder:
    def __init__(self):
        self.low, self.range, self.out = 0, _WINDOW - 1, bytearray()

    def code(self, p0, bit):
        bound = (self.range >> _PROB_BITS) * p0
        if bit:
            self.low += bound
            self.range -= bound
        else:
            self.range = bound
        if self.low >= _WINDOW:
            self._carry()
        while self.range < _BOTTOM:
            self.out.append(self.low >> 24)
            self.low = (self.low << 8) & (_WINDOW - 1)
            self.range <<= 8
        return bit

    def _carry(self):
        # the interval never leaves [0, 1): a byte below 0xFF is always there to take the carry
        self.low -= _WINDOW
        i = len(self.out) - 1
        while self.out[i] == 0xFF:
            self.out[i] = 0
            i -= 1
        self.out[i] += 1

    def finish(self):
        """The coded bytes. The decoder reads zeros past the end, so the final value is the one in
        [low, low + range) with the most trailing zero bits, and trailing zero bytes are dropped."""
        shift = 32
        while True:
            value = -(-self.low >> shift) << shift
            if value < self.low + self.range:
                break
            shift -= 1
        self.low = value
        if self.low >= _WINDOW:
            self._carry()
        self.out += self.low.to_bytes(4, "big")
        return bytes(self.out.rstrip(b"\0"))


class _Decoder:
    def __init__(self, payload):
        self.data = payload
        self.position = 4
        self.value = int.from_bytes(payload[:4].ljust(4, b"\0"), "big")
        self.range = _WINDOW - 1

    def code(self, p0, _):
        bound = (self.range >> _PROB_BITS) * p0
        if self.value < bound:
            self.range = bound
            bit = 0
        else:
            self.value -= bound
            self.range -= bound
            bit = 1
        while self.range < _BOTTOM:
            byte = self.data[self.position] if self.position < len(self.data) else 0
            self.position += 1
            self.value = ((self.value << 8) | byte) & (_WINDOW - 1)
            self.range <<= 8
        return bit


def entropy_encode(symbols, bits):
    """Range-code ``symbols`` (n_samples, latent) in [0, 2**bits) with the adaptive per-dimension
    model described in the module's documentation; :func:`entropy_decode` inverts it.

    Example
    -------
    >>> s = np.array([[1, 2], [1, 3]], np.uint16)
    >>> entropy_decode(entropy_encode(s, 2), 2, 2, 2).tolist()
    [[1, 2], [1, 3]]
    """
    _check_bits(bits)
    symbols = np.asarray(symbols)
    if (symbols.ndim != 2 or not np.issubdtype(symbols.dtype, np.integer)
            or (symbols.size and not 0 <= symbols.min() <= symbols.max() < 1 << bits)):
        raise ValueError(f"symbols must be a 2-D array of integers in [0, {1 << bits}) for bits={bits}")
    encoder = _Encoder()
    _walk(encoder.code, bits, *symbols.shape, symbols.astype(np.int64))
    return encoder.finish()


def entropy_decode(payload, n_rows, latent, bits):
    """The symbols (n_rows, latent), uint16, that :func:`entropy_encode` coded as ``payload``."""
    _check_bits(bits)
    return _walk(_Decoder(bytes(payload)).code, bits, n_rows, latent)


# ---- the container --------------------------------------------------------------------------------
def _code_range(estimator):
    check_is_fitted(estimator, "model_")
    if not (hasattr(estimator, "transform") and hasattr(estimator, "inverse_transform")):
        raise ValueError(f"{type(estimator).__name__} cannot compress rows: only an autoencoder, which "
                         "encodes and decodes, can")
    code_range = getattr(estimator, "code_range_", None)
    if code_range is None:
        raise ValueError(f"{type(estimator).__name__} has no code_range_ (the training range of its codes, "
                         "recorded by autoencoders fitted with this aekit): refit it to use it as a codec")
    return code_range


def model_hash(estimator):
    """SHA-256 (hex) of what decoding depends on: the class, weights, scaler and code ranges.

    Saving and loading keep it; refitting, even with the same parameters on other data, changes it.

    Example
    -------
    >>> model_hash(aekit.load("runs/ae"))[:16]  # doctest: +SKIP
    '3f1c...'
    """
    code_range = _code_range(estimator)
    state = {k: v.detach().cpu().contiguous() for k, v in estimator.model_.state_dict().items()}
    digest = hashlib.sha256(type(estimator).__name__.encode())
    digest.update(safetensors_bytes(state))
    digest.update(json.dumps(estimator.scaler_.to_dict(), sort_keys=True).encode())
    digest.update(np.ascontiguousarray(code_range, "<f4").tobytes())
    return digest.hexdigest()


def _codes(estimator, X):
    """``estimator.transform(X)``, and (0, latent) codes for a well-shaped X without rows."""
    shape = np.shape(X)
    if len(shape) == 2 and shape[0] == 0:
        if shape[1] != estimator.n_features_in_:
            raise ValueError(f"X has {shape[1]} features, but {type(estimator).__name__} is expecting "
                             f"{estimator.n_features_in_} features as input")
        return np.empty((0, estimator.latent), np.float32)
    return estimator.transform(X)


def compress(estimator, X, bits=8):
    """Compress the rows of ``X`` with a fitted autoencoder into a self-checking container.

    Parameters
    ----------
    estimator : fitted autoencoder (an aekit estimator with ``code_range_``)
    X : array-like (n_samples, n_features) or :class:`aekit.datasets.RowStream`
        Rows in the units the model was trained on; no rows gives a valid, empty container. Rows
        on disk are encoded block by block, so that only their codes are held in memory.
    bits : int, default=8
        Quantisation bits per code dimension, 2 to 16. Each code is off by at most half of its
        dimension's training range / 2**bits (values beyond the range are clipped).

    Returns
    -------
    bytes
        The container (see the module's documentation); :func:`decompress` with the same model
        gives ``estimator.inverse_transform`` of the quantised codes.

    Example
    -------
    >>> data = compress(ae, X_test, bits=6)  # doctest: +SKIP
    >>> X_hat = decompress(ae, data)  # doctest: +SKIP
    """
    _check_bits(bits)
    code_range = _code_range(estimator)
    codes = _codes(estimator, X)
    payload = entropy_encode(quantise(codes, code_range, bits), bits)
    head = _HEADER.pack(MAGIC, FORMAT_VERSION, bytes.fromhex(model_hash(estimator))[:_HASH_BYTES], len(codes),
                        estimator.latent, estimator.n_features_in_, bits, len(payload), 0)[:-4]
    return head + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))) + payload


def read_header(data):
    """The :class:`Header` of a container, after checking its magic, version, length and checksum.

    Raises ValueError saying what is wrong when ``data`` is not a container, is truncated or too
    long, or any byte of it changed.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ValueError(f"data must be bytes, got {type(data).__name__}")
    data = bytes(data)
    head = data[:HEADER_SIZE]
    if head[:len(MAGIC)] != MAGIC[:len(head)]:
        raise ValueError(f"not aekit compressed data: it does not start with {MAGIC!r}")
    if len(head) < HEADER_SIZE:
        raise ValueError(f"truncated: {len(data)} bytes, fewer than the {HEADER_SIZE}-byte header")
    _, version, model, n_rows, latent, n_features, bits, length, crc = _HEADER.unpack(head)
    if version != FORMAT_VERSION:
        newer = " (written by a newer aekit: upgrade)" if version > FORMAT_VERSION else ""
        raise ValueError(f"container format version {version}; this aekit reads version {FORMAT_VERSION}{newer}")
    if len(data) != HEADER_SIZE + length:
        problem = "truncated" if len(data) < HEADER_SIZE + length else "trailing bytes"
        raise ValueError(f"{problem}: the header promises {length} payload bytes, "
                         f"{len(data) - HEADER_SIZE} follow it")
    if zlib.crc32(data[HEADER_SIZE:], zlib.crc32(head[:-4])) != crc:
        raise ValueError("checksum mismatch: the data is corrupted")
    if not _BITS.test(bits) or latent == 0:
        # only a deliberately made file passes the checksum with these
        raise ValueError(f"invalid header: bits={bits}, latent={latent}")
    return Header(version, model.hex(), n_rows, latent, n_features, bits, length)


def decompress(estimator, data):
    """Decode a container written by :func:`compress` with the same model.

    Returns
    -------
    ndarray (n_rows, n_features), float32
        In the units the model was trained on.

    Raises ValueError when the data is damaged (see :func:`read_header`) or was made by another model.

    Example
    -------
    >>> X_hat = decompress(ae, compress(ae, X_test))  # doctest: +SKIP
    """
    header = read_header(data)
    code_range = _code_range(estimator)
    expected = model_hash(estimator)[:2 * _HASH_BYTES]
    if header.model != expected:
        raise ValueError(f"made by another model: the data needs the model with hash {header.model}, "
                         f"this {type(estimator).__name__} has {expected}")
    symbols = entropy_decode(bytes(data)[HEADER_SIZE:], header.n_rows, header.latent, header.bits)
    return estimator.inverse_transform(dequantise(symbols, code_range, header.bits))


__all__ = ["FORMAT_VERSION", "HEADER_SIZE", "MAGIC", "Header", "compress", "decompress", "dequantise",
           "entropy_decode", "entropy_encode", "model_hash", "quantise", "read_header"]


def pillow_point(X, image_size, fmt, **options):
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
