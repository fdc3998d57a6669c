"""Optimisers by name, so that estimator parameters stay plain strings."""

from collections.abc import Iterable

import torch

# name -> (class, defaults that differ from torch's)
OPTIMIZERS = {
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
    "sgd": (torch.optim.SGD, {"momentum": 0.9}),
    "rmsprop": (torch.optim.RMSprop, {}),
}


def make_optimizer(name: str, parameters: Iterable, lr: float, weight_decay: float,
                   **options) -> torch.optim.Optimizer:
    """Optimiser ``name`` (one of ``OPTIMIZERS``) over ``parameters``; ``options`` (e.g. Adam's betas)
    override its defaults.

    Example
    -------
    >>> opt = make_optimizer("adam", torch.nn.Linear(2, 1).parameters(), lr=1e-3, weight_decay=0.0)
    >>> type(opt).__name__
    'Adam'
    """
    cls, extra = OPTIMIZERS[name]
    extra = {**extra, **options}
    parameters = list(parameters)
    try:
        # Fused kernels do the whole update in one pass over memory: measurably faster on CPU too.
        return cls(parameters, lr=lr, weight_decay=weight_decay, fused=True, **extra)
    except (RuntimeError, TypeError):
        return cls(parameters, lr=lr, weight_decay=weight_decay, **extra)
