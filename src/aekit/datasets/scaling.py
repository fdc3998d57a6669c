"""Per-feature scaling that can be saved as JSON and undone: ``x' = (x - offset) / scale``."""

import numpy as np
from sklearn.exceptions import NotFittedError

KINDS = ("minmax", "standard", None)


def _check_kind(kind):
    if not (kind is None or (isinstance(kind, str) and kind in KINDS)):
        raise ValueError(f"scale must be 'minmax', 'standard' or None, got {kind!r}")


class Scaler:
    """Scale each feature to [0, 1] (``"minmax"``), to zero mean and unit variance (``"standard"``),
    or leave it alone (``None``).

    A constant feature gets scale 1, so it maps to 0 instead of dividing by zero. Parameters are
    computed in float64 and kept in float32; outputs are float32.

    Parameters
    ----------
    kind : {"minmax", "standard", None}

    Attributes
    ----------
    offset_, scale_ : ndarray of shape (n_features,), float32
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

    def fit(self, X):
        """Learn the per-feature offset and scale of ``X`` (n_samples, n_features); returns self."""
        X = self._as_2d(X, fitted=False)
        if len(X) == 0:
            raise ValueError("Scaler.fit needs at least one row")
        if not np.isfinite(X).all():
            raise ValueError("Scaler.fit: X contains NaN or infinite values")
        low, high = X.min(axis=0), X.max(axis=0)
        if self.kind == "minmax":
            # high - low in float32, as transform computes x - low: the maximum maps to exactly 1
            offset, scale = low, high - low
        elif self.kind == "standard":
            offset, scale = X.mean(axis=0, dtype=np.float64), X.std(axis=0, dtype=np.float64)
        else:
            offset, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
        # constant means all values equal, whatever rounding did to its std
        scale = np.where(high == low, 1, scale)
        self._set(offset, scale)
        return self

    def transform(self, X):
        """``(X - offset_) / scale_`` as float32."""
        return (self._as_2d(X) - self.offset_) / self.scale_

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, X):
        """``X * scale_ + offset_`` as float32: the rows ``transform`` was given."""
        return self._as_2d(X) * self.scale_ + self.offset_

    def to_dict(self):
        """A JSON-serialisable dict that :meth:`from_dict` turns back into the same scaler."""
        if not hasattr(self, "scale_"):
            return {"kind": self.kind}
        return {"kind": self.kind, "offset": self.offset_.tolist(), "scale": self.scale_.tolist()}

    @classmethod
    def from_dict(cls, d):
        """The scaler that :meth:`to_dict` described, fitted if it was."""
        scaler = cls(d.get("kind"))
        if "offset" in d or "scale" in d:
            offset, scale = np.asarray(d.get("offset", ())), np.asarray(d.get("scale", ()))
            if offset.ndim != 1 or offset.shape != scale.shape or len(offset) == 0:
                raise ValueError("scaler dict: 'offset' and 'scale' must be non-empty lists of equal length")
            scaler._set(offset, scale)
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
