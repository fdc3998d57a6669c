"""The codec's entropy coder (container format 2): integer symbols to bytes and back through
``constriction``'s range coder (compiled Rust, Bamler 2022), one categorical model per code dimension.

Two ways to get the models:

- :func:`entropy_encode` / :func:`entropy_decode`, for the fixed-bit codec: symbols in
  [0, 2**bits). The encoder measures each dimension's symbols and describes them by a
  heavy-tailed bell ``(1 + u**2) ** -k``, ``u = (s - loc) / scale``, centring it on their mean and
  picking ``scale`` and ``k`` (1, 2, 4 or 8: from Cauchy-like to near-Gaussian) that code the
  batch shortest; the 9 bytes of each dimension's parameters start the payload. Beyond 8 bits
  (:data:`FIT_BITS`) the bell describes a symbol's top 8 bits and the bits below are coded as
  uniform ("split" payloads): they are nearly so when a bell spans hundreds of the finer levels,
  and the coder then needs tables of 256 entries, not of 2**bits (at 16 bits those 65,536-entry
  tables, built for every dimension of every container, cost more than the coding). When the
  bells' bytes cost more than they save (a few rows), the payload says so in its first byte and
  every dimension uses the prior of format 1 (centred, ``scale = 2**bits / 4``, ``k = 2``) and
  stores nothing.
- :func:`encode_with_tables` / :func:`decode_with_tables`, for models with a learned or measured
  distribution of their integer codes (rate-distortion autoencoder, VQ-VAE): the model supplies one
  table of integer frequencies per dimension, and the payload holds the coded symbols only.

Each column of symbols is coded as a whole under its dimension's model (i.i.d. symbols: one call into
``constriction`` per dimension), columns one after the other. The probability tables are integers
computed with basic IEEE operations only (``+ - * /``, ``floor``), so every machine builds the same
tables and decodes the same symbols.
"""

import math
import struct

import constriction
import numpy as np

from .quantiser import check_bits

# exponents k of (1 + u^2)^-k the encoder may pick: each a power of 2, so w^k is a few squarings
SHAPES = (1, 2, 4, 8)
# scale of the bell of exponent k at which its variance is the data's (Student-t with 2k - 1 degrees
# of freedom); k = 1 (Cauchy) has none: half the standard deviation
_VARIANCE_SCALE = {1: 0.5, 2: 1.0, 4: 5**0.5, 8: 13**0.5}
_SCALE_STEPS = (0.7, 1.0, 1.4)
FIT_BITS = 8  # finer quantisations code their top FIT_BITS bits under the bells
FIT_LEVELS = 1 << FIT_BITS
_MIN_SCALE = 0.25  # in symbols: a constant dimension still gets a finite, peaked table
# table entries are floor(_MASS / (1 + u^2)^k) + 1: every symbol stays codable, and the floor of 1
# costs at most 2**16 / 2**24 of the mass at 16 bits
_MASS = 2.0**24
# a payload's first byte. _FITTED at more than FIT_BITS bits (full tables) is no longer written but
# still read: aekit wrote it before the split payloads
_PRIOR, _FITTED, _SPLIT = 0, 1, 2
# From this many rows on the encoder does not weigh the prior: fitted bells cost 9 bytes a dimension
# and, on trained codes, save more than that within a few dozen rows (an encoder's choice only: any
# payload decodes).
_PRIOR_ROWS = 256
_PARAMS = struct.Struct("<ffB")  # loc, scale, k of one dimension


def bell_table(levels: int, loc: float, scale: float, shape: int) -> np.ndarray:
    """Integer frequencies (float64 holding integers) of symbols 0 .. ``levels`` - 1 under the bell
    ``(1 + u**2) ** -shape``, ``u = (s - loc) / scale``.

    Example
    -------
    >>> bell_table(4, 1.5, 1.0, 2).tolist()
    [1588376.0, 10737419.0, 10737419.0, 1588376.0]
    """
    # in place, one buffer: the table of 2**16 levels is the coder's cost at 16 bits
    w = np.arange(levels, dtype=np.float64)
    w -= np.float64(loc)
    w /= np.float64(scale)
    np.multiply(w, w, out=w)
    w += 1.0
    for _ in range(int(shape).bit_length() - 1):
        np.multiply(w, w, out=w)
    np.divide(_MASS, w, out=w)
    np.floor(w, out=w)
    w += 1.0
    return w


def _cost(histogram, table):
    """Bits to code a column of ``histogram`` under ``table``."""
    used = histogram > 0
    return float(histogram.sum() * np.log2(table.sum()) - histogram[used] @ np.log2(table[used]))


def _fit_dimensions(symbols, levels):
    """Per column of ``symbols``: the (loc, scale, k) of the bell that codes it shortest, and about
    the bits it takes. Every candidate of a column is tried at once; columns go in chunks that keep
    the candidate tables to a few million entries."""
    n, latent = symbols.shape
    histograms = np.bincount((symbols + np.arange(latent) * levels).ravel(),
                             minlength=latent * levels).reshape(latent, levels).astype(np.float64)
    locs = symbols.mean(0).astype(np.float32).astype(np.float64)
    shapes = np.repeat(SHAPES, len(_SCALE_STEPS))
    spread = np.array([_VARIANCE_SCALE[k] * step for k in SHAPES for step in _SCALE_STEPS])
    scales = np.maximum(symbols.std(0)[:, None] * spread, _MIN_SCALE).astype(np.float32).astype(np.float64)
    best_costs, best = np.empty(latent), np.empty(latent, np.int64)
    chunk = max(1, 2**22 // (len(shapes) * levels))
    for first in range(0, latent, chunk):
        part = slice(first, first + chunk)
        u = (np.arange(levels) - locs[part, None, None]) / scales[part, :, None]  # (dims, candidates, levels)
        w = 1.0 + u * u
        powers = {1: w}
        for k in SHAPES[1:]:
            powers[k] = powers[k // 2] * powers[k // 2]
        tables = np.floor(_MASS / np.stack([powers[k][:, i] for i, k in enumerate(shapes)], 1)) + 1.0
        costs = (n * np.log2(tables.sum(-1))
                 - np.einsum("dcl,dl->dc", np.log2(tables), histograms[part]))
        best[part], best_costs[part] = costs.argmin(1), costs.min(1)
    params = [(float(locs[j]), float(scales[j, best[j]]), int(shapes[best[j]])) for j in range(latent)]
    return params, float(best_costs.sum())


def _prior(levels):
    return (levels - 1) / 2, levels / 4, 2


def _check_symbols(symbols, levels):
    """``symbols`` as int32 after checking that column j holds integers in [0, levels[j])."""
    symbols = np.asarray(symbols)
    levels = np.broadcast_to(np.asarray(levels), symbols.shape[-1:]) if symbols.ndim == 2 else None
    if (levels is None or not np.issubdtype(symbols.dtype, np.integer)
            or (symbols.size and (symbols.min() < 0 or np.any(symbols.max(0) >= levels)))):
        bound = levels[0] if levels is not None and len(set(levels.tolist())) == 1 else "the table's size"
        raise ValueError(f"symbols must be a 2-D array of integers in [0, {bound})")
    return symbols.astype(np.int32)


def encode_with_tables(symbols, tables) -> bytes:
    """Range-code column j of ``symbols`` (n_samples, len(tables)) under the frequencies ``tables[j]``
    (non-negative numbers, one per symbol); :func:`decode_with_tables` inverts it.

    Example
    -------
    >>> tables = [np.array([1.0, 6.0, 3.0]), np.array([5.0, 5.0])]
    >>> s = np.array([[1, 0], [2, 1], [1, 1]])
    >>> decode_with_tables(encode_with_tables(s, tables), 3, tables).tolist()
    [[1, 0], [2, 1], [1, 1]]
    """
    if np.ndim(symbols) != 2 or np.shape(symbols)[1] != len(tables):
        raise ValueError(f"symbols must be a 2-D array with a column per table ({len(tables)}), got shape "
                         f"{np.shape(symbols)}")
    symbols = _check_symbols(symbols, [len(t) for t in tables])
    return _encode(symbols, [table_model(table) for table in tables])


def _encode(symbols, models):
    encoder = constriction.stream.queue.RangeEncoder()
    encode_columns(encoder, symbols, models)
    return finished_payload(encoder)


def encode_columns(encoder, symbols: np.ndarray, models: list) -> None:
    """Column j of ``symbols`` (n, len(models)) coded onto ``encoder`` under ``models[j]`` (None: a
    column that takes no bits)."""
    if len(symbols):
        for column, model in zip(symbols.T, models):
            if model is not None:
                encoder.encode(np.ascontiguousarray(column, np.int32), model)


def finished_payload(encoder) -> bytes:
    """What ``encoder`` has coded, as little-endian 32-bit words."""
    # whole 32-bit words: up to 4 bytes more than the information, which counts for a single row only
    return encoder.get_compressed().astype("<u4").tobytes()


def decode_with_tables(payload: bytes, n_rows: int, tables) -> np.ndarray:
    """The symbols (n_rows, len(tables)), int64, that :func:`encode_with_tables` coded as ``payload``.

    Raises ValueError when the coded data runs out before every symbol is decoded.
    """
    return decode_checked(payload, n_rows, [table_model(table) for table in tables])


def decode_checked(payload: bytes, n_rows: int, models: list) -> np.ndarray:
    """:func:`_decode`, its errors said as a damaged payload."""
    try:
        return _decode(bytes(payload), n_rows, models)
    except (ValueError, RuntimeError, AssertionError) as exc:
        raise ValueError(f"damaged payload: the coded data ends before {n_rows} rows ({exc})") from None


def _decode(payload, n_rows, models):
    decoder = payload_decoder(payload)
    out = decode_columns(decoder, n_rows, models)
    check_exhausted(decoder)
    return out


def payload_decoder(payload: bytes):
    """A range decoder reading ``payload`` (little-endian 32-bit words, as :func:`finished_payload` writes)."""
    if len(payload) % 4:
        raise ValueError(f"{len(payload)} bytes are not whole 32-bit words")
    return constriction.stream.queue.RangeDecoder(np.frombuffer(payload, "<u4").astype(np.uint32))


def decode_columns(decoder, n_rows: int, models: list) -> np.ndarray:
    """(n_rows, len(models)) int64: column j decoded from ``decoder`` under ``models[j]`` (None: all 0)."""
    out = np.zeros((n_rows, len(models)), np.int64)
    for j, model in enumerate(models):
        if n_rows and model is not None:
            out[:, j] = decoder.decode(model, n_rows)
    return out


def check_exhausted(decoder) -> None:
    """Raise ValueError when ``decoder`` has coded data left after the last symbol."""
    # what the encoder wrote ends with the last symbol; a range coder cannot always tell (a cut
    # payload, or one word too many, can pass here: the container's length and checksum catch those)
    if not decoder.maybe_exhausted():
        raise ValueError("coded data is left over after the last row")


def table_model(table: np.ndarray):
    """constriction's categorical model of the frequencies ``table``; None for a table of one symbol."""
    table = np.asarray(table, np.float64)
    if table.ndim != 1 or len(table) == 0 or not np.all(np.isfinite(table)) or table.min() < 0 or table.sum() <= 0:
        raise ValueError("a probability table must be a non-empty 1-D array of non-negative frequencies")
    return categorical(table)


def categorical(table: np.ndarray):
    """:func:`table_model` without its checks, for tables positive by construction (checking a row
    costs as much as building its model)."""
    # a table of one symbol says everything: its column takes no bits (and constriction refuses it)
    return constriction.stream.model.Categorical(table, perfect=False) if len(table) > 1 else None


def _bell_models(levels, params):
    """The coder's model of each dimension's bell; dimensions of equal parameters (the prior's) share one."""
    built = {}
    for p in params:
        if p not in built:
            # a bell table is positive and finite by construction: no checks (they cost as much as the model)
            built[p] = constriction.stream.model.Categorical(bell_table(levels, *p), perfect=False)
    return [built[p] for p in params]


def entropy_encode(symbols, bits: int) -> bytes:
    """Range-code ``symbols`` (n_samples, latent) in [0, 2**bits) under per-dimension bells fitted to
    them (see the module's documentation); :func:`entropy_decode` inverts it.

    Example
    -------
    >>> s = np.array([[1, 2], [1, 3]], np.uint16)
    >>> entropy_decode(entropy_encode(s, 2), 2, 2, 2).tolist()
    [[1, 2], [1, 3]]
    """
    check_bits(bits)
    levels = 1 << bits
    symbols = _check_symbols(symbols, levels)
    low_bits = max(0, bits - FIT_BITS)
    top = symbols >> low_bits
    params, fitted_cost = _fit_dimensions(top, levels >> low_bits) if len(symbols) else ([], 0.0)
    fitted_cost += low_bits * symbols.size
    prior_cost = math.inf
    if len(symbols) < _PRIOR_ROWS:
        prior_table = bell_table(levels, *_prior(levels))
        prior_cost = sum(_cost(np.bincount(column, minlength=levels).astype(np.float64), prior_table)
                         for column in symbols.T)
    if not (params and fitted_cost + 8 * _PARAMS.size * len(params) < prior_cost):
        return bytes([_PRIOR]) + _encode(symbols, _bell_models(levels, [_prior(levels)] * symbols.shape[1]))
    head = b"".join(_PARAMS.pack(*p) for p in params)
    if not low_bits:
        return bytes([_FITTED]) + head + _encode(symbols, _bell_models(levels, params))
    # the top bits of every dimension, then the low bits of every dimension
    models = _bell_models(FIT_LEVELS, params) + [_uniform(low_bits)] * len(params)
    return bytes([_SPLIT]) + head + _encode(np.hstack([top, symbols & ((1 << low_bits) - 1)]), models)


def entropy_decode(payload: bytes, n_rows: int, latent: int, bits: int) -> np.ndarray:
    """The symbols (n_rows, latent), uint16, that :func:`entropy_encode` coded as ``payload``.

    Raises ValueError when the payload is not what :func:`entropy_encode` writes.
    """
    check_bits(bits)
    levels = 1 << bits
    payload = bytes(payload)
    mode = payload[0] if payload else None
    if mode == _PRIOR:
        params, start = [_prior(levels)] * latent, 1
    elif mode == _FITTED or (mode == _SPLIT and bits > FIT_BITS):
        start = 1 + _PARAMS.size * latent
        if len(payload) < start:
            raise ValueError(f"damaged payload: {len(payload)} bytes, fewer than the model of {latent} dimensions")
        params = [_PARAMS.unpack_from(payload, 1 + _PARAMS.size * j) for j in range(latent)]
        if not all(np.isfinite(loc) and np.isfinite(scale) and scale > 0 and k in SHAPES for loc, scale, k in params):
            raise ValueError("damaged payload: invalid model parameters")
    else:
        raise ValueError(f"damaged payload: unknown model kind {mode!r}")
    if mode != _SPLIT:
        return decode_checked(payload[start:], n_rows, _bell_models(levels, params)).astype(np.uint16)
    low_bits = bits - FIT_BITS
    models = _bell_models(FIT_LEVELS, params) + [_uniform(low_bits)] * latent
    parts = decode_checked(payload[start:], n_rows, models)
    return ((parts[:, :latent] << low_bits) | parts[:, latent:]).astype(np.uint16)


def _uniform(bits):
    return constriction.stream.model.Uniform(1 << bits)


__all__ = ["FIT_BITS", "SHAPES", "bell_table", "categorical", "decode_checked", "decode_with_tables",
           "encode_with_tables", "entropy_decode", "entropy_encode", "table_model"]
