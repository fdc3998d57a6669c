"""What a stage of the demo may use (:class:`Context`): the data, the training budget, a cache of
fitted models under ``out/models``, and what several stages share (PCA of the training rows)."""

from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import numpy as np

from .. import datasets
from ..datasets._bunch import take_rows
from ..metrics import reconstruction_error
from ..saving import load, params_to_json
from .baselines import PrincipalSubspace, fit_pca

# the quick run's slice of the data: enough rows for every stage to learn something in seconds
QUICK_ROWS = {"train": 1000, "test": 300}


class Context:
    """The data (``X``, ``y``, ``X_test``, ``y_test``, ``image_shape``), the budget and the model cache.

    Parameters
    ----------
    data : str or path
        A built-in data set's name or a file :func:`aekit.datasets.load` reads.
    out : path
        The run's folder; fitted models are saved under ``out/models``.
    quick : bool
        Train on the first rows only (``QUICK_ROWS``), for a few epochs.
    retrain : bool
        Fit every model again even where ``out/models`` holds one with the same parameters.
    progress : callable
        Called with a line of text for each model fitted or reused.
    seed : int
    """

    def __init__(self, data, out, quick: bool, retrain: bool, progress: Callable[[str], None], seed: int = 0):
        train, test = datasets.load(data, split="train"), datasets.load(data, split="test")
        if quick:
            train, test = (take_rows(b, np.arange(min(len(b.data), QUICK_ROWS[s])))
                           for b, s in ((train, "train"), (test, "test")))
        self.train, self.test = train, test
        self.X, self.X_test = train.data, test.data
        self.y, self.y_test = train.target, test.target
        self.image_shape = train.image_shape
        self.out, self.quick, self.retrain, self.seed = Path(out), quick, retrain, seed
        self.progress = progress
        self.data_name = train.name
        self.source = data

    @property
    def has_images(self) -> bool:
        return self.image_shape is not None

    @property
    def has_labels(self) -> bool:
        return self.y is not None and self.y_test is not None

    @property
    def in_unit_interval(self) -> bool:
        """Whether every training value lies in [0, 1] (what a Bernoulli likelihood or a grey image needs)."""
        return bool(self.X.min() >= 0 and self.X.max() <= 1)

    def epochs(self, full: int, quick: int = 2) -> int:
        return quick if self.quick else full

    def model_params(self, **params) -> dict:
        """Parameters every demo model shares (the data's image shape, the seed, CPU), then ``params``."""
        return {"image_shape": self.image_shape, "random_state": self.seed, "device": "cpu", **params}

    def fit(self, name: str, estimator, X=None, y=None):
        """``estimator`` fitted on ``X`` (default the training rows), saved as ``models/name``; a model
        saved there by an earlier run with the same parameters is loaded instead (unless retrain)."""
        saved = None if self.retrain else self.saved_model(name)
        if saved is not None and params_to_json(saved) == params_to_json(estimator):
            self.progress(f"{name} (reused)")
            return saved
        self.progress(name)
        X = self.X if X is None else X
        estimator.fit(X) if y is None else estimator.fit(X, y)
        estimator.save(self.out / "models" / name)
        return estimator

    def saved_model(self, name: str):
        """The model saved as ``models/name`` (by this run or an earlier one), or None."""
        folder = self.out / "models" / name
        return load(folder, device="cpu") if (folder / "config.json").exists() else None

    def pca(self, n_components: int) -> PrincipalSubspace:
        """PCA of the training rows with ``n_components``, or with every component where there are
        fewer (``max_components``): the linear code of the same size as a model's."""
        return self._pca_of_training_rows.leading(min(n_components, self.max_components))

    @property
    def max_components(self) -> int:
        """How many principal components the training rows have (the smaller of rows and features)."""
        return len(self._pca_of_training_rows.components)

    @cached_property
    def _pca_of_training_rows(self) -> PrincipalSubspace:
        # fitted once per run, all components (a full SVD costs the same): every stage's PCA-k is its first k
        return fit_pca(self.X, min(self.X.shape))

    def test_error(self, model) -> float:
        """Mean over the test rows of ``model``'s squared reconstruction error per row (the table's
        error unit); ``model`` is anything with ``reconstruct(X)``: an autoencoder, a PCA."""
        return float(reconstruction_error(self.X_test, model.reconstruct(self.X_test)).mean())
