"""The payload of container format 3: codes under a hyperprior (see :mod:`aekit.nn.hyperprior`).

One range-coded stream through ``constriction``: first the side symbols, column by column, each
under its dimension's factorised table; then the code symbols group by group. Within a group each
symbol has a table (a row of the model's ``residual_tables_``) and a shift, which the model chooses
from the side symbols and the groups already coded (``table_choice``); the coder codes ``symbol -
shift`` under it, the symbols sharing a table together (one call into ``constriction`` per table
used), in row-major order. The decoder makes the same choices from what it has decoded so far, so
it meets the same tables in the same order.

A model that codes this way has ``code_symbols(X)``, ``side_symbols(symbols)``, ``symbol_tables_`` (the
side tables), ``residual_tables_``, ``coding_groups()`` and ``table_choice(side, symbols, group)``.
"""

import constriction
import numpy as np

from .entropy import (
    categorical,
    check_exhausted,
    decode_columns,
    encode_columns,
    finished_payload,
    payload_decoder,
    table_model,
)


def _by_table(index):
    """(tables used, the positions of ``index``'s flattened entries sorted by table, where each
    table's run starts)."""
    flat = index.ravel()
    # a stable sort of 16-bit integers is a radix sort (576 tables fit): several times faster
    order = np.argsort(flat.astype(np.int16) if flat.size and flat.max() < 2**15 else flat, kind="stable")
    used, starts = np.unique(flat[order], return_index=True)
    return used, order, np.append(starts, len(flat))


def _radius(tables):
    return tables.shape[1] // 2


class _Models(dict):
    """constriction's model of each row of ``tables``, built when first asked for: the groups
    share them, and a container uses a fraction of the 576 rows."""

    def __init__(self, tables):
        super().__init__()
        # checked once for all rows (per row, the checks cost as much as building the model)
        if tables.ndim != 2 or tables.shape[1] == 0 or tables.min() <= 0:
            raise ValueError("the model's coding tables must be positive frequencies")
        self.tables = np.asarray(tables, np.float64)

    def __missing__(self, k):
        self[k] = categorical(self.tables[k])
        return self[k]


def encode_conditional(model, symbols: np.ndarray) -> bytes:
    """The payload that codes ``model``'s code symbols (n, latent) (``model.code_symbols(X)``).

    Example
    -------
    >>> S = model.code_symbols(X)  # doctest: +SKIP
    >>> np.array_equal(decode_conditional(model, encode_conditional(model, S), len(S)), S)  # doctest: +SKIP
    True
    """
    side = model.side_symbols(symbols)
    tables = model.residual_tables_
    models = _Models(tables)
    encoder = constriction.stream.queue.RangeEncoder()
    encode_columns(encoder, side, [table_model(table) for table in model.symbol_tables_])
    if len(symbols):
        for group, (start, stop) in enumerate(model.coding_groups()):
            index, shift = model.table_choice(side, symbols, group)
            residual = (symbols[:, start:stop] - shift + _radius(tables)).ravel()
            used, order, bounds = _by_table(index)
            for k, a, b in zip(used, bounds[:-1], bounds[1:]):
                if models[k] is not None:  # None: a table of one residual, which takes no bits
                    encoder.encode(np.ascontiguousarray(residual[order[a:b]], np.int32), models[k])
    return finished_payload(encoder)


def decode_conditional(model, payload: bytes, n_rows: int) -> np.ndarray:
    """The code symbols (n_rows, latent), int64, that :func:`encode_conditional` coded as ``payload``.

    Raises ValueError when the payload is not one that ``model`` wrote.
    """
    try:
        return _decode(model, bytes(payload), n_rows)
    except (ValueError, RuntimeError, AssertionError) as exc:
        raise ValueError(f"damaged payload: it does not decode to {n_rows} rows ({exc})") from None


def _decode(model, payload, n_rows):
    decoder = payload_decoder(payload)
    tables = model.residual_tables_
    models = _Models(tables)
    sizes = np.asarray(model.symbol_sizes())
    side = decode_columns(decoder, n_rows, [table_model(table) for table in model.symbol_tables_])
    symbols = np.zeros((n_rows, len(sizes)), np.int64)
    if n_rows:
        for group, (start, stop) in enumerate(model.coding_groups()):
            index, shift = model.table_choice(side, symbols, group)
            residual = np.empty(index.size, np.int64)
            used, order, bounds = _by_table(index)
            for k, a, b in zip(used, bounds[:-1], bounds[1:]):
                coder = models[k]
                residual[order[a:b]] = decoder.decode(coder, b - a) if coder is not None else 0
            decoded = residual.reshape(index.shape) + shift - _radius(tables)
            if decoded.size and (decoded.min() < 0 or np.any(decoded.max(0) >= sizes[start:stop])):
                raise ValueError("a code outside its range")
            symbols[:, start:stop] = decoded
    check_exhausted(decoder)
    return symbols


__all__ = ["decode_conditional", "encode_conditional"]
