"""Inference over many rows: a function of a batch, applied batch by batch without gradients."""

from collections.abc import Callable

import numpy as np
import torch

INFERENCE_BATCH = 4096  # rows per forward pass: large enough to keep a GPU busy, small next to memory


@torch.no_grad()
def batched(fn: Callable[[torch.Tensor], torch.Tensor], X: np.ndarray, device: str | torch.device,
            batch_size: int = INFERENCE_BATCH) -> np.ndarray:
    """``fn`` over the rows of ``X`` (a float32 array) in batches on ``device``, without gradients.

    Returns the outputs concatenated along the rows as a numpy array of ``fn``'s dtype (an empty
    float32 array when ``X`` has no rows).

    Example
    -------
    >>> out = batched(lambda x: 2 * x, np.ones((5, 3), np.float32), "cpu", batch_size=2)
    >>> out.shape, float(out.max())
    ((5, 3), 2.0)
    """
    outputs = [fn(torch.from_numpy(X[i:i + batch_size]).to(device)).cpu() for i in range(0, len(X), batch_size)]
    return torch.cat(outputs).numpy() if outputs else np.empty((0,), np.float32)
