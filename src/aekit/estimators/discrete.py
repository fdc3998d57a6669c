"""What the models with a discrete code share (rate-distortion autoencoder, VQ-VAE): integer symbols
per row, a coding table per symbol position stored with the model, sampling from those tables, and
the record of a codebook's use in ``history_``.

The codec (:mod:`aekit.apps.codec`) codes such a model's ``code_symbols(X)`` under its
``symbol_tables_`` and decodes them with ``decode_symbols``; a model without them is quantised over
its code range instead.
"""

import numbers
from typing import Self

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..datasets.stream import row_blocks
from ..nn.quantised import usage_and_perplexity
from ._base import Rows


def table_bits(symbols: np.ndarray, tables: list) -> np.ndarray:
    """Bits of each row of ``symbols`` (n, len(tables)): -log2 of the probability of column j's
    symbol under the frequencies ``tables[j]``, summed over the columns."""
    bits = np.zeros(len(symbols))
    for column, table in zip(np.asarray(symbols).T, tables):
        bits -= np.log2(table / table.sum())[column]
    return bits


class DiscreteCodeMixin:
    """For an autoencoder whose codes stand for integer symbols, ``n_symbols`` per row.

    A family supplies ``_symbols_of_codes(codes) -> int64 (n, n_symbols)``,
    ``_codes_of_symbols(symbols) -> codes`` and ``_tables(X) -> list of integer frequency arrays``
    (called at the end of ``fit``, with the training rows).
    """

    def fit(self, X: Rows, y: None = None, *, resume: bool = False) -> Self:
        super().fit(X, y, resume=resume)
        self.symbol_tables_ = [np.asarray(t, np.int64) for t in self._tables(X)]
        return self

    def code_symbols(self, X: Rows) -> np.ndarray:
        """The integer symbols (n_samples, n_symbols) of the rows of ``X``: what the codec codes.

        Example
        -------
        >>> model.decode_symbols(model.code_symbols(X_test))  # doctest: +SKIP
        """
        blocks = [self._symbols_of_codes(self.transform(block)) for _, block in row_blocks(X)]
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)

    def decode_symbols(self, symbols: ArrayLike) -> np.ndarray:
        """Rows in the original units from integer symbols (n_samples, n_symbols)."""
        check_is_fitted(self, "symbol_tables_")
        symbols = np.asarray(symbols)
        sizes = np.asarray(self.symbol_sizes())
        if (symbols.ndim != 2 or symbols.shape[1] != len(sizes) or not np.issubdtype(symbols.dtype, np.integer)
                or (symbols.size and (symbols.min() < 0 or np.any(symbols.max(0) >= sizes)))):
            raise ValueError(f"symbols must be integers of shape (n_samples, {len(sizes)}), each below its "
                             "table's size")
        return self.inverse_transform(self._codes_of_symbols(symbols.astype(np.int64)))

    def sample(self, n: int, random_state: int | np.random.RandomState | None = None) -> np.ndarray:
        """``n`` new rows: each symbol drawn independently from its position's table (the factorised
        prior the codec codes with), decoded."""
        check_is_fitted(self, "symbol_tables_")
        n = self._check_n(n)
        rng = check_random_state(random_state)
        symbols = np.stack([rng.choice(len(t), size=n, p=t / t.sum()) for t in self.symbol_tables_], 1)
        return self.decode_symbols(symbols.reshape(n, len(self.symbol_tables_)))

    @staticmethod
    def _check_n(n):
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        return int(n)

    def symbol_sizes(self) -> list[int] | np.ndarray:
        """How many values each symbol position takes (its table's size)."""
        return [len(t) for t in self.symbol_tables_]

    def bits_per_row(self, X: Rows) -> np.ndarray:
        """Ideal code length of each row in bits under the tables (-log2 of its symbols'
        probabilities); the codec's payload is within a few bytes per container of their sum."""
        return table_bits(self.code_symbols(X), self.symbol_tables_)

    def _extra_state(self):
        tables = getattr(self, "symbol_tables_", None)
        return {**super()._extra_state(), "symbol_tables": None if tables is None else [t.tolist() for t in tables]}

    def _set_extra_state(self, state):
        super()._set_extra_state(state)
        tables = state.get("symbol_tables")
        self.symbol_tables_ = None if tables is None else [np.asarray(t, np.int64) for t in tables]


class CodebookMonitor:
    """Training callback: each epoch's record gets ``codebook_usage`` (fraction of entries chosen)
    and ``perplexity`` of a :class:`aekit.nn.quantised.VectorQuantiser`'s choices in training."""

    def __init__(self, quantiser):
        self.quantiser = quantiser

    def on_epoch_begin(self, trainer) -> None:
        self.quantiser.counts.zero_()

    def on_epoch_end(self, trainer, record: dict) -> None:
        record["codebook_usage"], record["perplexity"] = usage_and_perplexity(self.quantiser.counts)


__all__ = ["CodebookMonitor", "DiscreteCodeMixin", "table_bits"]
