"""The simple baselines the demo sets its models beside, computed in the same run on the same rows:
PCA (reconstruction, codes for search and compression), logistic regression and an MLP trained to
convergence, IsolationForest, a Gaussian fitted to the rows, independent Bernoulli features."""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from ..apps.codec import HEADER_SIZE, dequantise, entropy_encode, quantise
from ..metrics import psnr


@dataclass(frozen=True)
class PrincipalSubspace:
    """The leading principal components of some rows: the best linear code of each size.

    Parameters
    ----------
    mean : ndarray (n_features,)
    components : ndarray (n_components, n_features)
        Orthonormal rows, by decreasing variance explained.

    Example
    -------
    >>> X = np.random.default_rng(0).normal(size=(50, 5))
    >>> pca = fit_pca(X, 5)
    >>> bool(np.allclose(pca.reconstruct(X), X))
    True
    >>> pca.leading(2).components.shape
    (2, 5)
    """

    mean: np.ndarray
    components: np.ndarray

    def leading(self, n_components: int) -> "PrincipalSubspace":
        """The first ``n_components`` components: exactly PCA with that many, since the fit is a full SVD."""
        if not 0 < n_components <= len(self.components):
            raise ValueError(f"n_components must be in 1..{len(self.components)}, got {n_components}")
        return PrincipalSubspace(self.mean, self.components[:n_components])

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The codes (n_samples, n_components) of the rows ``X``: their coordinates in the subspace."""
        return (np.asarray(X) - self.mean) @ self.components.T

    def inverse_transform(self, codes: np.ndarray) -> np.ndarray:
        """The rows (n_samples, n_features) that the codes stand for, in the units of the fitted rows."""
        return self.mean + np.asarray(codes) @ self.components

    def reconstruct(self, X: np.ndarray) -> np.ndarray:
        """Projection of the rows ``X`` (n_samples, n_features) onto the subspace, in the units of ``X``."""
        return self.inverse_transform(self.transform(X))


def fit_pca(X: np.ndarray, n_components: int) -> PrincipalSubspace:
    """PCA of the rows ``X`` by a full SVD (exact, so that :meth:`PrincipalSubspace.leading` of it is
    the PCA of fewer components)."""
    pca = PCA(n_components, svd_solver="full").fit(X)
    return PrincipalSubspace(pca.mean_, pca.components_)


def pca_codec_point(pca: PrincipalSubspace, X_train: np.ndarray, X_test: np.ndarray, bits: int) -> tuple[float, float]:
    """(bytes per row, PSNR in dB) of PCA codes used as aekit's codec uses an autoencoder's: each code
    quantised uniformly over its range on ``X_train`` with ``bits`` bits, the same entropy coder, the
    same header; rows in [0, 1] (peak 1)."""
    train_codes = pca.transform(X_train)
    code_range = np.stack([train_codes.min(0), train_codes.max(0)])
    symbols = quantise(pca.transform(X_test), code_range, bits)
    size = HEADER_SIZE + len(entropy_encode(symbols, bits))
    decoded = pca.inverse_transform(dequantise(symbols, code_range, bits))
    return size / len(X_test), psnr(X_test, np.clip(decoded, 0, 1))


def converged(estimator) -> bool:
    """Whether a fitted scikit-learn estimator stopped before its ``max_iter`` (its ``n_iter_``, an int
    or one per class, is below it): a baseline that did not converge is a straw man."""
    return bool(np.max(estimator.n_iter_) < estimator.max_iter)


def classifier_baselines(X: np.ndarray, y: np.ndarray, seed: int) -> dict:
    """Logistic regression and an MLP with 512 hidden units on the rows ``X`` (n, n_features) with
    labels ``y``, each trained to convergence (check with :func:`converged`): what a practitioner
    tries first on few labelled rows. Returns name -> fitted estimator."""
    models = {"logistic regression on the labelled rows": LogisticRegression(max_iter=10_000),
              "MLPClassifier((512,)) on the labelled rows": MLPClassifier(
                  (512,), max_iter=2000, early_stopping=False, random_state=seed)}
    with warnings.catch_warnings():
        # non-convergence is checked by the caller, and said in the table
        warnings.simplefilter("ignore", ConvergenceWarning)
        return {name: model.fit(X, y) for name, model in models.items()}


def isolation_forest_scores(X_normal: np.ndarray, X: np.ndarray, seed: int) -> np.ndarray:
    """IsolationForest fitted on the normal rows ``X_normal``: the score of each row of ``X`` (higher
    means more normal, as ``score_samples`` of aekit's detector)."""
    return IsolationForest(random_state=seed).fit(X_normal).score_samples(X)


def gaussian_samples(X: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` rows drawn from the Gaussian with the mean and covariance of the rows ``X``, clipped to
    their range: the simplest generative model of them."""
    rng = np.random.default_rng(seed)
    samples = rng.multivariate_normal(X.mean(0), np.cov(X, rowvar=False), size=n, method="eigh")
    return np.clip(samples, X.min(), X.max()).astype(np.float32)


def independent_bernoulli_nll(X_train: np.ndarray, X_test: np.ndarray) -> float:
    """Mean over the rows of ``X_test`` (values in [0, 1]) of their negative log-likelihood in nats
    under independent Bernoulli features whose means are those of ``X_train`` (add-one smoothed):
    the cross-entropy a Bernoulli VAE's decoder is scored with, with no code at all."""
    p = (X_train.sum(0) + 1) / (len(X_train) + 2)
    return float(-(X_test * np.log(p) + (1 - X_test) * np.log1p(-p)).sum(1).mean())
