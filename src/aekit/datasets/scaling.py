"""Per-feature scaling that can be saved as JSON and undone: ``x' = (x - offset) / scale``; and the
same scaling as a layer of a torch network (:class:`ScalingLayer`)."""

from collections.abc import Iterable
from typing import Self

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.exceptions import NotFittedError
from torch import nn

from .stream import RowStream, row_blocks

KINDS = ("auto", "minmax", "standard", None)


def _check_kind(kind):
    if not (kind is None or (isinstance(kind, str) and kind in KINDS)):
        raise ValueError(f"scale must be 'auto', 'minmax', 'standard' or None, got {kind!r}")


def resolve_auto(low: np.ndarray, high: np.ndarray) -> str | None:
    """What ``"auto"`` scales data with per-feature minima ``low`` and maxima ``high`` by: nothing
    when every value already lies in [0, 1], else ``"minmax"``.

    Data already in [0, 1] (intensities, proportions) is left alone because per-feature min-max
    would blow a nearly constant feature up to the full range: a border pixel that reaches 0.01 in
    one training image becomes 100 times larger, and so would the noise on it.
    """
    return None if float(np.min(low)) >= 0 and float(np.max(high)) <= 1 else "minmax"


class Scaler:
    """Scale each feature to [0, 1] (``"minmax"``), to zero mean and unit variance (``"standard"``),
    or leave it alone (``None``); ``"auto"`` leaves data that already lies in [0, 1] alone and
    scales other data by ``"minmax"`` (see :func:`resolve_auto`).

    A constant feature gets scale 1, so it maps to 0 instead of dividing by zero. Parameters are
    computed in float64 and kept in float32; outputs are float32.

    Parameters
    ----------
    kind : {"auto", "minmax", "standard", None}

    Attributes
    ----------
    kind_ : {"minmax", "standard", None}
        The scaling applied: ``kind``, or what ``"auto"`` resolved to (saved by :meth:`to_dict`).
    offset_, scale_ : ndarray of shape (n_features,), float32
    data_min_, data_max_ : ndarray of shape (n_features,), float32
        The range of the data ``fit`` saw (not saved by :meth:`to_dict`).
    n_features_in_ : int

    Examples
    --------
    >>> X = np.array([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]], dtype=np.float32)
    >>> s = Scaler("minmax").fit(X)
    >>> s.transform(X)[:, 0]
    array([0. , 0.5, 1. ], dtype=float32)
    >>> Scaler.from_dict(s.to_dict()).inverse_transform(s.transform(X))[1]
    array([2., 5.], dtype=float32)
    """

    def __init__(self, kind):
        _check_kind(kind)
        self.kind = kind

    def fit(self, X: ArrayLike | RowStream) -> Self:
        """Learn the per-feature offset and scale of ``X`` (n_samples, n_features); returns self.

        ``X`` may be a :class:`~aekit.datasets.stream.RowStream` (or a large memory map): it is read
        once, block by block, and the moments of the blocks are combined exactly (Chan et al.'s
        pairwise update), so the result equals that of the rows held in memory.
        """
        return self.fit_blocks(row_blocks(X), X if isinstance(X, RowStream) else "X")

    def fit_blocks(self, blocks: Iterable[tuple[int, ArrayLike]], source: str | RowStream = "X") -> Self:
        """:meth:`fit` on rows that come as ``(start, rows)`` blocks (``source`` names them in errors)."""
        moments = Moments(self.kind == "standard")
        for start, block in blocks:
            block = self._as_2d(block, fitted=False)
            if not np.isfinite(block.sum(dtype=np.float64)):
                row = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
                raise ValueError(f"Scaler.fit: {source} contains NaN or infinite values (the first in row {row})")
            moments.add(block)
        if moments.n == 0:
            raise ValueError("Scaler.fit needs at least one row")
        low, high = moments.low, moments.high
        self.kind_ = resolve_auto(low, high) if self.kind == "auto" else self.kind
        if self.kind_ == "minmax":
            # high - low in float32, as transform computes x - low: the maximum maps to exactly 1
            offset, scale = low, high - low
        elif self.kind_ == "standard":
            offset, scale = moments.mean, np.sqrt(moments.squares / moments.n)
        else:
            offset, scale = np.zeros(len(low)), np.ones(len(low))
        # constant means all values equal, whatever rounding did to its std
        scale = np.where(high == low, 1, scale)
        self._set(offset, scale)
        self.data_min_, self.data_max_ = low, high
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """``(X - offset_) / scale_`` as float32."""
        return (self._as_2d(X) - self.offset_) / self.scale_

    def fit_transform(self, X: ArrayLike) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        """``X * scale_ + offset_`` as float32: the rows ``transform`` was given."""
        return self._as_2d(X) * self.scale_ + self.offset_

    def range_in_scaled_units(self, declared: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A range of values in the original units as each feature's scaled units: ``(low, high)``,
        each (n_features,) float32.

        ``declared`` is ``(low, high)``; by default the overall minimum and maximum of the data
        ``fit`` saw (every feature's valid range when the features share units, as pixels do).
        """
        if declared is None:
            if not hasattr(self, "data_min_"):
                raise NotFittedError("range_in_scaled_units needs a declared range or the Scaler that fit the data")
            declared = (self.data_min_.min(), self.data_max_.max())
        low, high = self.transform(np.repeat(np.array([[declared[0]], [declared[1]]]), self.n_features_in_, axis=1))
        return low, high

    def to_dict(self) -> dict[str, object]:
        """A JSON-serialisable dict that :meth:`from_dict` turns back into the same scaler."""
        if not hasattr(self, "scale_"):
            return {"kind": self.kind}
        resolved = {"resolved": self.kind_} if self.kind == "auto" else {}
        return {"kind": self.kind, **resolved, "offset": self.offset_.tolist(), "scale": self.scale_.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Self:
        """The scaler that :meth:`to_dict` described, fitted if it was."""
        scaler = cls(d.get("kind"))
        if "offset" in d or "scale" in d:
            offset, scale = np.asarray(d.get("offset", ())), np.asarray(d.get("scale", ()))
            if offset.ndim != 1 or offset.shape != scale.shape or len(offset) == 0:
                raise ValueError("scaler dict: 'offset' and 'scale' must be non-empty lists of equal length")
            scaler._set(offset, scale)
            # saved before "auto" existed, a scaler names the kind it applied
            scaler.kind_ = d.get("resolved", scaler.kind)
            if scaler.kind_ == "auto" or scaler.kind_ not in KINDS:
                raise ValueError(f"scaler dict: 'resolved' must be 'minmax', 'standard' or None, "
                                 f"got {scaler.kind_!r}")
        return scaler

    def _set(self, offset, scale):
        self.offset_ = np.asarray(offset, dtype=np.float32)
        self.scale_ = np.asarray(scale, dtype=np.float32)
        self.n_features_in_ = len(self.offset_)

    def _as_2d(self, X, fitted=True):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError(f"Scaler expects a 2-D array (samples, features), got shape {X.shape}")
        if fitted:
            if not hasattr(self, "scale_"):
                raise NotFittedError("this Scaler is not fitted yet; call fit first")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {X.shape[1]} features, but the Scaler was fitted with {self.n_features_in_}")
        return X

    def __repr__(self):
        return f"Scaler({self.kind!r})"


class ScalingLayer(nn.Module):
    """A fitted :class:`Scaler` as a layer of a network: ``(x - offset) / scale`` per feature.

    The offset and scale are buffers: saved with the network's weights, moved with it to a
    device, never trained. Until :meth:`set_scaler` is called the layer leaves its input as it is.

    Parameters
    ----------
    width : int
        The number of features; a layer of width 1 scales every feature alike (a scaler fitted to
        all the values of the rows as one column, e.g. every pixel of an image).

    Example
    -------
    >>> X = np.array([[0.0, 10.0], [2.0, 30.0]], dtype=np.float32)
    >>> layer = ScalingLayer.from_scaler(Scaler("standard").fit(X))
    >>> layer(torch.from_numpy(X)).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """

    def __init__(self, width: int):
        super().__init__()
        self.register_buffer("offset", torch.zeros(width))
        self.register_buffer("scale", torch.ones(width))

    @classmethod
    def from_scaler(cls, scaler: Scaler) -> "ScalingLayer":
        """A layer of the width of the fitted ``scaler`` that scales as it does."""
        if not hasattr(scaler, "scale_"):
            raise NotFittedError("ScalingLayer.from_scaler needs a fitted Scaler; call fit first")
        return cls(scaler.n_features_in_).set_scaler(scaler)

    def set_scaler(self, scaler: Scaler) -> "ScalingLayer":
        """Scale as the fitted ``scaler`` does from now on (the buffers keep their device); returns self."""
        if not hasattr(scaler, "scale_"):
            raise NotFittedError("ScalingLayer.set_scaler needs a fitted Scaler; call fit first")
        if scaler.n_features_in_ != len(self.offset):
            raise ValueError(f"the Scaler was fitted with {scaler.n_features_in_} features; this layer scales "
                             f"{len(self.offset)}")
        with torch.no_grad():
            self.offset.copy_(torch.from_numpy(scaler.offset_))
            self.scale.copy_(torch.from_numpy(scaler.scale_))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.offset) / self.scale


class Moments:
    """Per-feature count, minimum, maximum and (with ``with_variance``) mean and sum of squared
    deviations, accumulated block by block."""

    def __init__(self, with_variance):
        self.with_variance = with_variance
        self.n, self.low, self.high, self.mean, self.squares = 0, None, None, 0.0, 0.0

    def add(self, block: np.ndarray) -> None:
        if len(block) == 0:
            return
        low, high = block.min(axis=0), block.max(axis=0)
        self.low = low if self.low is None else np.minimum(self.low, low)
        self.high = high if self.high is None else np.maximum(self.high, high)
        n = self.n + len(block)
        if self.with_variance:
            block_mean = block.mean(axis=0, dtype=np.float64)
            block_squares = np.square(block - block_mean).sum(axis=0)
            delta = block_mean - self.mean
            self.mean = self.mean + delta * (len(block) / n)
            self.squares = self.squares + block_squares + np.square(delta) * (self.n * len(block) / n)
        self.n = n
