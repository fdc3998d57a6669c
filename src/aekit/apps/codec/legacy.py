"""The entropy coder of container format version 1, kept so that files written then still decode.

Format 1 coded each symbol bit by bit, most significant first, with a binary range coder written in
Python (the carry-propagating kind of LZMA, 16-bit probabilities). The probability of each bit came
from a binary tree per code dimension: every node started from a prior and counted the bits it had
coded. The prior is a bell-shaped, heavy-tailed distribution centred in the quantisation range,
depending only on ``bits`` and computed with exact integer arithmetic.

aekit writes format 2 (:mod:`~aekit.apps.codec.entropy`, through ``constriction``, tens to
hundreds of times faster); :func:`range_decode_v1` reads format 1. :func:`range_encode_v1` writes
it, for the tests that pin its bytes and for bench/compression_speed.py, which times both coders on
the same codes.
"""

import functools

import numpy as np

from .quantiser import check_bits

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


def range_encode_v1(symbols, bits: int) -> bytes:
    """Range-code ``symbols`` (n_samples, latent) in [0, 2**bits) with the adaptive per-dimension
    model described in the module's documentation; :func:`range_decode_v1` inverts it.

    Example
    -------
    >>> old = range_encode_v1(np.array([[0, 3, 1]], np.uint16), bits=2)
    >>> range_decode_v1(old, 1, 3, bits=2).tolist()
    [[0, 3, 1]]
    """
    check_bits(bits)
    symbols = np.asarray(symbols)
    if (symbols.ndim != 2 or not np.issubdtype(symbols.dtype, np.integer)
            or (symbols.size and not 0 <= symbols.min() <= symbols.max() < 1 << bits)):
        raise ValueError(f"symbols must be a 2-D array of integers in [0, {1 << bits}) for bits={bits}")
    encoder = _Encoder()
    _walk(encoder.code, bits, *symbols.shape, symbols.astype(np.int64))
    return encoder.finish()


def range_decode_v1(payload: bytes, n_rows: int, latent: int, bits: int) -> np.ndarray:
    """The symbols (n_rows, latent), uint16, that :func:`range_encode_v1` coded as ``payload``."""
    check_bits(bits)
    return _walk(_Decoder(bytes(payload)).code, bits, n_rows, latent)


__all__ = ["range_decode_v1", "range_encode_v1"]
