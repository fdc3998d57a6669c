"""Corruption models for denoising: applied to training inputs only, fresh for every batch.

``corrupt`` is the public function for making corrupted copies of data (test sets, pictures); the
:class:`Corruption` module is what a denoising network applies during training. Both use one kernel,
:func:`corrupt_tensor`.
"""

import numbers

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state
from torch import nn

NOISE_KINDS = ("gaussian", "masking", "salt_and_pepper")


def corrupt_tensor(x: torch.Tensor, kind: str, level: float, low: torch.Tensor, high: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """Corrupt rows ``x`` (N, D); ``low`` and ``high`` are (D,): each feature's bounds.

    ``"gaussian"``: x + N(0, level^2), clipped to [low, high] per feature.
    ``"masking"``: a fraction ``level`` of the components set to 0.
    ``"salt_and_pepper"``: a fraction ``level`` of the components set to their feature's ``low`` or
    ``high`` (equally likely).
    """
    if kind == "gaussian":
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return torch.maximum(torch.minimum(x + level * noise, high), low)
    hit = torch.rand(x.shape, generator=generator, device=x.device) < level
    if kind == "masking":
        return x.masked_fill(hit, 0.0)
    salt = torch.rand(x.shape, generator=generator, device=x.device) < 0.5
    return torch.where(hit, torch.where(salt, high.expand_as(x), low.expand_as(x)), x)


def data_range(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The range ``(low, high)``, two scalars, that bounds Gaussian noise and gives salt-and-pepper
    values for the rows ``X`` (N, D): the overall minimum and maximum of ``X``.

    Overall, not per feature: a pixel that is blank in every training image can still be noisy in a
    real image, so its noise must not be clipped away in training.
    """
    return X.amin(), X.amax()


def is_range(value: object) -> bool:
    """Whether ``value`` is a range ``(low, high)`` of two real numbers with ``low < high``."""
    return (isinstance(value, tuple | list) and len(value) == 2
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
            and bool(value[0] < value[1]))


class Corruption(nn.Module):
    """Training-time corruption with the data's range kept as per-feature buffers (saved with the model).

    The range is the same value in every feature unless a scaler maps it into each feature's own
    units (see :meth:`set_range`).
    """

    def __init__(self, kind, level, n_features):
        super().__init__()
        self.kind = kind
        self.level = level
        self.register_buffer("low", torch.zeros(n_features))
        self.register_buffer("high", torch.ones(n_features))

    @torch.no_grad()
    def init_from_data(self, X: torch.Tensor) -> None:
        """Keep the overall range of the training rows ``X`` (N, D) (see :func:`data_range`)."""
        self.set_range(*data_range(X))

    @torch.no_grad()
    def set_range(self, low: ArrayLike | torch.Tensor, high: ArrayLike | torch.Tensor) -> None:
        """Bound the noise by ``low`` and ``high``: scalars, or (D,) per feature (a range in original
        units mapped through a per-feature scaler)."""
        self.low.copy_(torch.as_tensor(low, dtype=self.low.dtype).expand_as(self.low))
        self.high.copy_(torch.as_tensor(high, dtype=self.high.dtype).expand_as(self.high))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return corrupt_tensor(x, self.kind, self.level, self.low, self.high, generator)


def corrupt(X: ArrayLike, kind: str, level: float, random_state: int | np.random.RandomState | None = None,
            low: ArrayLike | None = None, high: ArrayLike | None = None) -> np.ndarray:
    """A corrupted copy of ``X`` (n_samples, n_features), e.g. to make a noisy test set.

    ``low``/``high`` (per feature or scalar) bound Gaussian noise and give salt-and-pepper values.
    By default they are the overall minimum and maximum of ``X`` (see :func:`data_range`), the same
    for every feature: images in [0, 1] get noise on their blank borders too, as noise made by any
    other program does. Give ``low``/``high`` when ``X`` does not reach its valid range (a few
    rows, or a dark picture), e.g. ``low=0, high=1`` for intensities.

    Example
    -------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).rand(4, 10).astype(np.float32)
    >>> noisy = corrupt(X, "masking", 0.3, random_state=0)
    >>> bool((noisy == 0).mean() > 0.1)
    True
    """
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; expected one of {', '.join(NOISE_KINDS)}")
    if not 0 <= level or (kind != "gaussian" and level > 1):
        raise ValueError(f"noise level {level} is out of range for {kind!r}")
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if len(X) and not X.shape[1]:  # rows without features: nothing to corrupt, no range to take
        return X.copy()
    x = torch.from_numpy(np.ascontiguousarray(X))
    if (low is None or high is None) and not len(X):
        raise ValueError("X has no rows to take the range from: give low and high")
    data_low, data_high = data_range(x) if low is None or high is None else (low, high)
    low = torch.as_tensor(data_low if low is None else low, dtype=torch.float32).expand(X.shape[1])
    high = torch.as_tensor(data_high if high is None else high, dtype=torch.float32).expand(X.shape[1])
    generator = torch.Generator().manual_seed(int(check_random_state(random_state).randint(2**31 - 1)))
    return corrupt_tensor(x, kind, level, low, high, generator).numpy()
