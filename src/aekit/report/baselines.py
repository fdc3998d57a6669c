"""The simple baselines the demo sets its models beside, computed in the same run on the same rows."""

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA


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

    def reconstruct(self, X: np.ndarray) -> np.ndarray:
        """Projection of the rows ``X`` (n_samples, n_features) onto the subspace, in the units of ``X``."""
        return self.mean + (np.asarray(X) - self.mean) @ self.components.T @ self.components


def fit_pca(X: np.ndarray, n_components: int) -> PrincipalSubspace:
    """PCA of the rows ``X`` by a full SVD (exact, so that :meth:`PrincipalSubspace.leading` of it is
    the PCA of fewer components)."""
    pca = PCA(n_components, svd_solver="full").fit(X)
    return PrincipalSubspace(pca.mean_, pca.components_)
