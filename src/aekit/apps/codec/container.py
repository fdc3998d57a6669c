"""The codec's container: a checked header, then the entropy-coded symbols of the quantised codes.

A 32-byte header (integers little-endian), then the payload (see :mod:`~aekit.apps.codec.entropy`).

========  =====  ========================================================================
field     bytes  meaning
========  =====  ========================================================================
magic     4      ``b"AEKC"``
version   1      container format version: 2 (:data:`FORMAT_VERSION`) is written, 3 for a model with a
                 hyperprior, 1 still read
model     8      first 8 bytes of the :func:`model_hash` of the model that must decode it
rows      4      number of rows
latent    2      code dimensions (symbols) per row
features  4      features of each decoded row
bits      1      quantisation bits per code dimension, 2 to 16; 0: the model's own integer codes
                 under its own entropy model (rate-distortion autoencoder, VQ-VAE)
length    4      payload bytes
crc32     4      CRC-32 of the 28 bytes above and of the payload
========  =====  ========================================================================

CRC-32 detects every error burst of up to 32 bits, so any changed byte is caught; a short or long
file is caught by the length; codes made by another model by the model hash.

Format 1 (what aekit wrote before it coded through constriction) had the same header and a payload
of the pure-Python range coder, which :mod:`~aekit.apps.codec.legacy` still decodes. Format 2 codes through
``constriction``; its payload is :func:`~aekit.apps.codec.entropy.entropy_encode`'s for a fixed
number of bits, or :func:`~aekit.apps.codec.entropy.encode_with_tables`'s under the model's
``symbol_tables_`` for bits 0. Format 3 is format 2 for models whose codes are coded under a
hyperprior (``residual_tables_``): bits 0 and the payload of
:func:`~aekit.apps.codec.conditional.encode_conditional`. Only such a model writes it, so a file
of an older aekit's kind is still written as it was.

A model with a discrete code of its own (see :class:`aekit.estimators.discrete.DiscreteCodeMixin`)
has ``code_symbols(X)``, ``decode_symbols(S)`` and ``symbol_tables_``; any other autoencoder is
quantised over its training code range.
"""

import json
import struct
import zlib
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ... import bundle
from .conditional import decode_conditional, encode_conditional
from .entropy import decode_with_tables, encode_with_tables, entropy_decode, entropy_encode
from .legacy import range_decode_v1
from .quantiser import BITS, check_bits, dequantise, quantise

MAGIC = b"AEKC"
FORMAT_VERSION = 2
HYPERPRIOR_VERSION = 3
READ_VERSIONS = (1, 2, 3)
OWN_MODEL = 0  # the header's bits for codes under the model's own entropy model
_HEADER = struct.Struct("<4sB8sIHIBII")
HEADER_SIZE = _HEADER.size
_HASH_BYTES = 8


class Header(NamedTuple):
    """The fields of a container's header (see the module's documentation)."""

    version: int
    model: str
    n_rows: int
    latent: int
    n_features: int
    bits: int
    payload_size: int


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


def _symbol_tables(estimator):
    """The model's own coding tables (a list of integer arrays), or None for a quantised codec."""
    return getattr(estimator, "symbol_tables_", None)


def _conditional(estimator):
    """Whether the model codes its codes under a hyperprior (format 3)."""
    return getattr(estimator, "residual_tables_", None) is not None


def model_hash(estimator) -> str:
    """SHA-256 (hex) of what decoding depends on: the class, weights, scaler and code ranges (and a
    discrete-code model's coding tables).

    Saving and loading keep it; refitting, even with the same parameters on other data, changes it.

    Example
    -------
    >>> model_hash(aekit.load("runs/ae"))[:16]  # doctest: +SKIP
    '3f1c...'
    """
    code_range = _code_range(estimator)
    tables = _symbol_tables(estimator)
    own = [] if tables is None else [np.ascontiguousarray(t, "<i8").tobytes() for t in tables]
    if _conditional(estimator):
        # (the tables under the hyperprior are among the weights)
        own.append(np.ascontiguousarray(estimator.side_range_, "<i8").tobytes())
    return bundle.digest(type(estimator).__name__.encode(), bundle.tensor_bytes(estimator.model_.state_dict()),
                         json.dumps(estimator.scaler_.to_dict(), sort_keys=True).encode(),
                         np.ascontiguousarray(code_range, "<f4").tobytes(), *own)


def _codes(encode, X, estimator, width):
    """``encode(X)``, and (0, ``width``) codes for a well-shaped X without rows."""
    shape = np.shape(X)
    if len(shape) == 2 and shape[0] == 0:
        if shape[1] != estimator.n_features_in_:
            raise ValueError(f"X has {shape[1]} features, but {type(estimator).__name__} is expecting "
                             f"{estimator.n_features_in_} features as input")
        return np.empty((0, width), np.float32)
    return encode(X)


def compress(estimator, X, bits: int = 8) -> bytes:
    """Compress the rows of ``X`` with a fitted autoencoder into a self-checking container.

    Parameters
    ----------
    estimator : fitted autoencoder (an aekit estimator with ``code_range_``)
    X : array-like (n_samples, n_features) or :class:`aekit.datasets.RowStream`
        Rows in the units the model was trained on; no rows gives a valid, empty container. Rows
        on disk are encoded block by block, so that only their codes are held in memory.
    bits : int, default=8
        Quantisation bits per code dimension, 2 to 16. Each code is off by at most half of its
        dimension's training range / 2**bits (values beyond the range are clipped). Not used by a
        model with a discrete code of its own (rate-distortion autoencoder, VQ-VAE): its integer
        codes are coded under its own entropy model.

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
    check_bits(bits)
    code_range = _code_range(estimator)
    tables = _symbol_tables(estimator)
    version = FORMAT_VERSION
    if _conditional(estimator):
        codes = _codes(estimator.code_symbols, X, estimator, estimator.latent).astype(np.int64)
        payload, bits, version = encode_conditional(estimator, codes), OWN_MODEL, HYPERPRIOR_VERSION
    elif tables is None:
        codes = _codes(estimator.transform, X, estimator, estimator.latent)
        payload = entropy_encode(quantise(codes, code_range, bits), bits)
    else:
        codes = _codes(estimator.code_symbols, X, estimator, len(tables)).astype(np.int64)
        payload, bits = encode_with_tables(codes, tables), OWN_MODEL
    head = _HEADER.pack(MAGIC, version, bytes.fromhex(model_hash(estimator))[:_HASH_BYTES], len(codes),
                        codes.shape[1], estimator.n_features_in_, bits, len(payload), 0)[:-4]
    return head + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))) + payload


def read_header(data: bytes) -> Header:
    """The :class:`Header` of a container, after checking its magic, version, length and checksum.

    Raises ValueError saying what is wrong when ``data`` is not a container, is truncated or too
    long, or any byte of it changed.

    Example
    -------
    >>> read_header(compress(ae, X_test[:7])).n_rows  # doctest: +SKIP
    7
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
    if version not in READ_VERSIONS:
        newer = " (written by a newer aekit: upgrade)" if version > max(READ_VERSIONS) else ""
        raise ValueError(f"container format version {version}; this aekit reads versions "
                         f"{', '.join(map(str, READ_VERSIONS))}{newer}")
    if len(data) != HEADER_SIZE + length:
        problem = "truncated" if len(data) < HEADER_SIZE + length else "trailing bytes"
        raise ValueError(f"{problem}: the header promises {length} payload bytes, "
                         f"{len(data) - HEADER_SIZE} follow it")
    if zlib.crc32(data[HEADER_SIZE:], zlib.crc32(head[:-4])) != crc:
        raise ValueError("checksum mismatch: the data is corrupted")
    if not (BITS.test(bits) or (version > 1 and bits == OWN_MODEL)) or latent == 0:
        # only a deliberately made file passes the checksum with these
        raise ValueError(f"invalid header: bits={bits}, latent={latent}")
    return Header(version, model.hex(), n_rows, latent, n_features, bits, length)


def decompress(estimator, data: bytes) -> np.ndarray:
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
    payload = bytes(data)[HEADER_SIZE:]
    tables = _symbol_tables(estimator)
    if header.version == HYPERPRIOR_VERSION:
        if not _conditional(estimator) or header.bits != OWN_MODEL or header.latent != estimator.latent:
            # only a deliberately made file passes the checksum and the model hash with these
            raise ValueError(f"invalid header: codes under a hyperprior, which this {type(estimator).__name__} "
                             "does not have")
        return estimator.decode_symbols(decode_conditional(estimator, payload, header.n_rows))
    if header.bits == OWN_MODEL:
        if tables is None or len(tables) != header.latent:
            # only a deliberately made file passes the checksum and the model hash with these
            raise ValueError(f"invalid header: codes of {header.latent} symbols under the model's own "
                             f"entropy model, which this {type(estimator).__name__} does not have")
        return estimator.decode_symbols(decode_with_tables(payload, header.n_rows, tables))
    decode = range_decode_v1 if header.version == 1 else entropy_decode
    symbols = decode(payload, header.n_rows, header.latent, header.bits)
    return estimator.inverse_transform(dequantise(symbols, code_range, header.bits))


__all__ = ["FORMAT_VERSION", "HEADER_SIZE", "HYPERPRIOR_VERSION", "MAGIC", "OWN_MODEL", "READ_VERSIONS", "Header",
           "compress",
           "decompress", "model_hash", "read_header"]
