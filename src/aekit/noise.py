"""Corruption models for denoising: applied to training inputs only, fresh for every batch.

``corrupt`` is the public function for making corrupted copies of data (test sets, pictures); the
:class:`Corruption` module is what a denoising network applies during training. Both use one kernel,
:func:`corrupt_tensor`.
"""

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

NOISE_KINDS = ("gaussian", "masking", "salt_and_pepper")


def corrupt_tensor(x, kind, level, low, high, generator=None):
    """Corrupt rows ``x`` (N, D).

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


def data_range(X):
    """The range ``(low, high)``, each (D,), that bounds Gaussian noise and gives salt-and-pepper
    values for the rows ``X`` (N, D): each feature's minimum and maximum."""
    return X.amin(0), X.amax(0)


class Corruption(nn.Module):
    """Training-time corruption with the data's range kept as per-feature buffers (saved with the model)."""

    def __init__(self, kind, level, n_features):
        super().__init__()
        self.kind = kind
        self.level = level
        self.register_buffer("low", torch.zeros(n_features))
        self.register_buffer("high", torch.ones(n_features))

    @torch.no_grad()
    def init_from_data(self, X):
        """Keep the training data's range (see :func:`data_range`)."""
        low, high = data_range(X)
        self.low.copy_(low)
        self.high.copy_(high)

    def forward(self, x, generator=None):
        return corrupt_tensor(x, self.kind, self.level, self.low, self.high, generator)


def corrupt(X, kind, level, random_state=None, low=None, high=None):
    """A corrupted copy of ``X`` (n_samples, n_features), e.g. to make a noisy test set.

    ``low``/``high`` (per feature or scalar) bound Gaussian noise and give salt-and-pepper values;
    by default they are the range of ``X`` (see :func:`data_range`).

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
    x = torch.from_numpy(np.ascontiguousarray(X))
    if (low is None or high is None) and not len(X):
        raise ValueError("X has no rows to take the range from: give low and high")
    data_low, data_high = data_range(x) if low is None or high is None else (low, high)
    low = torch.as_tensor(data_low if low is None else low, dtype=torch.float32).expand(X.shape[1])
    high = torch.as_tensor(data_high if high is None else high, dtype=torch.float32).expand(X.shape[1])
    generator = torch.Generator().manual_seed(int(check_random_state(random_state).randint(2**31 - 1)))
    return corrupt_tensor(x, kind, level, low, high, generator).numpy()
