"""Seeds as users give them (an int, a RandomState or None) -> torch's random streams."""

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch
from sklearn.utils import check_random_state

T = TypeVar("T")


def seeded(seed: int, build: Callable[[], T]) -> T:
    """Run ``build()`` with torch's global generator seeded, without disturbing the caller's stream.

    Example
    -------
    >>> a = seeded(0, lambda: torch.rand(2))
    >>> torch.equal(a, seeded(0, lambda: torch.rand(2)))
    True
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def torch_generator(random_state: int | np.random.RandomState | None,
                    device: str | torch.device = "cpu") -> torch.Generator:
    """A torch generator on ``device`` seeded from ``random_state`` (int, RandomState or None).

    Example
    -------
    >>> g = torch_generator(0)
    >>> torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=torch_generator(0)))
    True
    """
    seed = int(check_random_state(random_state).randint(2**31 - 1))
    return torch.Generator(device).manual_seed(seed)
