"""What the generative families share (VAE, GAN): ``sample`` from the prior, and class conditioning.

With ``conditional=True`` a model is fitted with labels (``fit(X, y)``), its decoder (generator) gets
each row's class, and ``sample(n, y=...)`` / ``inverse_transform(Z, y=...)`` draw rows of chosen
classes. The classes are ``classes_`` (sorted, as scikit-learn's classifiers keep them) and are saved
with the model.
"""

import numbers

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..nn.inference import INFERENCE_BATCH
from ..seeding import torch_generator
from . import _params as p

CONDITIONAL_PARAMS = {"conditional": p.one_of(True, False)}


@torch.no_grad()
def decode_classes(decode, Z: np.ndarray, classes: np.ndarray, device: torch.device) -> np.ndarray:
    """``decode(z, y)`` over codes ``Z`` (float32) and class indices ``classes`` in batches, as numpy."""
    parts = [decode(torch.from_numpy(Z[i:i + INFERENCE_BATCH]).to(device),
                    torch.from_numpy(classes[i:i + INFERENCE_BATCH]).to(device)).cpu()
             for i in range(0, len(Z), INFERENCE_BATCH)]
    return torch.cat(parts).numpy()


class PriorSamplingMixin:
    """``sample`` for the models whose decoder turns z ~ N(0, I) into data (VAE, GAN), and the class
    conditioning that ``conditional=True`` asks for."""

    def _n_classes(self) -> int:
        """Classes the network is conditioned on (0: unconditional)."""
        return len(self.classes_) if getattr(self, "conditional", False) else 0

    def _fit_targets(self, y, n_rows: int, streamed: bool) -> np.ndarray | None:
        """Class indices (n_rows,) of ``y`` for a conditional model, setting ``classes_``; None otherwise
        (``y`` is then ignored)."""
        if not self.conditional:
            return None
        name = type(self).__name__
        if streamed:
            raise ValueError(f"{name}: conditional=True trains on rows held in memory with their labels; "
                             "it cannot train on rows that stay on disk")
        if y is None:
            raise ValueError(f"{name}: conditional=True trains on labelled rows: call fit(X, y)")
        y = column_or_1d(y, warn=True)
        if len(y) != n_rows:
            raise ValueError(f"{name}: y has {len(y)} labels for {n_rows} rows")
        self.classes_, indices = np.unique(y, return_inverse=True)
        return indices.astype(np.int64)

    def _class_indices(self, y: ArrayLike | None, n: int) -> np.ndarray | None:
        """Indices into ``classes_`` of the labels ``y`` (one label for all ``n`` rows, or one per
        row; None: each class in turn) for a conditional model; None for an unconditional one,
        which takes no ``y``."""
        name = type(self).__name__
        if not getattr(self, "conditional", False):
            if y is not None:
                raise ValueError(f"{name}: y chooses classes of a conditional model (conditional=True); "
                                 "this one was trained without classes")
            return None
        if y is None:
            return np.arange(n, dtype=np.int64) % len(self.classes_)
        y = np.asarray(y)
        y = np.full(n, y.item(), dtype=y.dtype) if y.ndim == 0 else column_or_1d(y)
        if len(y) != n:
            raise ValueError(f"{name}: y has {len(y)} labels for {n} rows")
        unknown = sorted(set(y.tolist()) - set(self.classes_.tolist()))
        if unknown:
            raise ValueError(f"{name}: unknown classes {unknown}; the model knows {self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def sample(self, n: int, random_state: int | np.random.RandomState | None = None,
               y: ArrayLike | None = None) -> np.ndarray:
        """Draw ``n`` new rows in the original units: z ~ N(0, I) (seeded by ``random_state``), decoded;
        for a conditional model, of the classes ``y`` (one label for all rows, one per row, or None
        for each class in turn: ``classes_[i % n_classes]`` for row i)."""
        check_is_fitted(self, "model_")
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        z = torch.randn((int(n), self.latent), generator=torch_generator(random_state))
        return self.inverse_transform(z.numpy(), y=y)

    def _conditional_state(self) -> dict:
        return {"classes": self.classes_.tolist()} if self._n_classes() else {}

    def _set_conditional_state(self, state: dict) -> None:
        if self.conditional:
            self.classes_ = np.asarray(state["classes"])
