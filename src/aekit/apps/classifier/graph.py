"""Label spreading over a nearest-neighbour graph of every row (Zhou et al. 2004): the labels a
few rows carry, spread to their neighbours, give every row a distribution over the classes.

The graph is built on the first principal components of the rows (the subspace a linear
autoencoder converges to; nearest neighbours in it are steadier than in raw pixels), with
self-tuning weights (Zelnik-Manor and Perona 2004) so that a dense region does not swamp a sparse
one. Measured in bench/semisup_routes.py: spread labels alone take the digits' error with 100 labels
from 0.23 (logistic regression on the labelled rows) to 0.14; as a target of the joint network
(:mod:`.consistency`) they help it most where labels are fewest.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

# Chosen in bench/semisup_routes.py on the MNIST digits; they are the usual values of the method.
N_COMPONENTS = 50
N_NEIGHBORS = 10
ALPHA = 0.99
ITERATIONS = 50


def neighbour_graph(X: np.ndarray, n_neighbors: int = N_NEIGHBORS, n_components: int = N_COMPONENTS,
                    random_state: int = 0) -> sp.csr_matrix:
    """The symmetric normalised affinity ``D^-1/2 W D^-1/2`` of the ``n_neighbors``-nearest-neighbour
    graph of the rows of ``X`` (n_samples, n_features), on their first ``n_components`` principal
    components. ``W_ij = exp(-d_ij^2 / (s_i s_j))``, ``s_i`` the distance of row i to its farthest
    neighbour.

    Example
    -------
    >>> S = neighbour_graph(np.random.RandomState(0).rand(30, 4), n_neighbors=3)
    >>> S.shape, bool(abs(S - S.T).max() < 1e-12)
    ((30, 30), True)
    """
    n = len(X)
    k = min(n_neighbors, n - 1)
    if k < 1:
        return sp.csr_matrix((n, n))
    # PCA to at least as many components as features is a rotation: distances stay as they are
    reduce = X.shape[1] > n_components and n > n_components
    codes = PCA(n_components, random_state=random_state).fit_transform(X) if reduce else X
    dist, ind = NearestNeighbors(n_neighbors=k + 1).fit(codes).kneighbors(codes)
    dist, ind = dist[:, 1:], ind[:, 1:]  # (n, k), without each row itself
    scale = np.maximum(dist[:, -1], 1e-12)
    weights = np.exp(-dist**2 / (scale[:, None] * scale[ind]))
    W = sp.csr_matrix((weights.ravel(), (np.repeat(np.arange(n), k), ind.ravel())), shape=(n, n))
    W = W + W.T
    # a row whose neighbours all lie far beyond its own scale has degree 0: it stays unconnected
    inverse_root = 1 / np.sqrt(np.maximum(np.asarray(W.sum(1)).ravel(), 1e-12))
    return sp.diags(inverse_root) @ W @ sp.diags(inverse_root)


def spread_labels(X: np.ndarray, targets: np.ndarray, n_classes: int, *, alpha: float = ALPHA,
                  iterations: int = ITERATIONS, random_state: int = 0) -> np.ndarray:
    """Class distributions of every row of ``X`` (n_samples, n_features), float32 of shape
    (n_samples, n_classes): the class indices ``targets`` (-1 for a row without a label) spread over
    :func:`neighbour_graph` by ``F <- alpha S F + (1 - alpha) Y`` for ``iterations`` steps, each row
    normalised to sum to 1. A row that no label reaches (a part of the graph without a label) gets
    zeros: no target at all.

    Example
    -------
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> spread_labels(X, np.array([0, -1, -1, -1, -1, 1]), 2).argmax(1).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    S = neighbour_graph(X, random_state=random_state)
    labelled = targets >= 0
    seeds = np.zeros((len(X), n_classes))
    seeds[labelled, targets[labelled]] = 1
    spread = seeds.copy()
    for _ in range(iterations):
        spread = alpha * (S @ spread) + (1 - alpha) * seeds
    return (spread / np.maximum(spread.sum(1, keepdims=True), 1e-12)).astype(np.float32)


__all__ = ["neighbour_graph", "spread_labels"]
