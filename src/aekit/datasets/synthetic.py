"""Synthetic data with a known dictionary: rows made of a few of many directions (superposition),
the standard check that a sparse dictionary recovers features rather than only reconstructing."""

import numpy as np
from scipy import sparse
from scipy.special import ndtri
from sklearn.utils import check_random_state

# correlated firing is drawn this many rows at a time (a dense (rows, n_features) Gaussian block)
_CHUNK_ROWS = 8192


def _firing_rates(n_features, l0, zipf_exponent):
    """Per-feature firing probabilities p_i proportional to (i + 1)^-zipf_exponent, summing to ``l0``
    (capped at 1 each, the excess spread over the others)."""
    weights = (np.arange(n_features) + 1.0) ** -zipf_exponent
    rates = weights * l0 / weights.sum()
    for _ in range(50):  # water-filling: rates above 1 give their excess to the rest
        over = rates > 1
        if not over.any():
            break
        excess = (rates[over] - 1).sum()
        rates[over] = 1
        free = ~over & (rates < 1)
        rates[free] += excess * weights[free] / weights[free].sum()
    return rates


def _independent_firing(n_rows, rates, rng):
    """(rows, features) of the firings: feature i fires on Binomial(n_rows, p_i) rows drawn uniformly,
    which is independent Bernoulli(p_i) firing, at a cost in the number of firings only."""
    counts = rng.binomial(n_rows, rates)
    rows = np.concatenate([rng.choice(n_rows, c, replace=False) for c in counts])
    return rows, np.repeat(np.arange(len(rates)), counts)


def _correlated_firing(n_rows, rates, correlation, n_factors, rng):
    """Firings from a Gaussian copula: feature i fires where sqrt(c) f_i . u + sqrt(1 - c) e_i exceeds
    the quantile that gives it rate p_i (u: ``n_factors`` shared factors per row, f_i unit loadings)."""
    loadings = rng.standard_normal((len(rates), n_factors))
    loadings /= np.linalg.norm(loadings, axis=1, keepdims=True)
    cut = ndtri(1 - np.clip(rates, 1e-12, 1 - 1e-12))
    rows, cols = [], []
    for start in range(0, n_rows, _CHUNK_ROWS):
        n = min(_CHUNK_ROWS, n_rows - start)
        latent = (np.sqrt(correlation) * rng.standard_normal((n, n_factors)) @ loadings.T
                  + np.sqrt(1 - correlation) * rng.standard_normal((n, len(rates))))
        r, c = np.nonzero(latent > cut)
        rows.append(r + start)
        cols.append(c)
    return np.concatenate(rows), np.concatenate(cols)


def make_superposition(n_rows: int, n_features: int, n_dims: int, l0: float, *, zipf_exponent: float = 0.5,
                       magnitude_std: float = 0.25, correlation: float = 0.0, n_factors: int = 8,
                       noise_std: float = 0.0, random_state: int | np.random.RandomState | None = None
                       ) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Rows ``X = codes @ dictionary (+ noise)``: each row a sparse sum of unit-norm directions.

    Parameters
    ----------
    n_rows : int
    n_features : int
        True directions (may exceed ``n_dims``: superposition).
    n_dims : int
        Width of a row.
    l0 : float
        Mean active features per row.
    zipf_exponent : float, default=0.5
        Feature i fires with probability proportional to (i + 1)^-zipf_exponent (0: all alike).
    magnitude_std : float, default=0.25
        An active feature's value is |1 + magnitude_std * N(0, 1)|.
    correlation : float in [0, 1), default=0.0
        Above 0, features fire together through ``n_factors`` shared Gaussian factors (a Gaussian
        copula that keeps each feature's rate); 0 draws them independently.
    n_factors : int, default=8
    noise_std : float, default=0.0
        Standard deviation of Gaussian noise added to every value.
    random_state : int, RandomState or None

    Returns
    -------
    X : ndarray (n_rows, n_dims), float32
    dictionary : ndarray (n_features, n_dims), float32
        The true directions, unit norm, as rows.
    codes : scipy.sparse.csr_matrix (n_rows, n_features), float32

    Example
    -------
    >>> X, dictionary, codes = make_superposition(1000, n_features=64, n_dims=16, l0=4, random_state=0)
    >>> X.shape, dictionary.shape, round(codes.getnnz() / 1000)
    ((1000, 16), (64, 16), 4)
    """
    for name, value, low in (("n_rows", n_rows, 1), ("n_features", n_features, 1), ("n_dims", n_dims, 1)):
        if not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not 0 < l0 <= n_features:
        raise ValueError(f"l0 must be in (0, n_features={n_features}], got {l0!r}")
    if not 0 <= correlation < 1:
        raise ValueError(f"correlation must be in [0, 1), got {correlation!r}")
    rng = check_random_state(random_state)
    dictionary = rng.standard_normal((n_features, n_dims))
    dictionary /= np.linalg.norm(dictionary, axis=1, keepdims=True)
    rates = _firing_rates(n_features, float(l0), zipf_exponent)
    if correlation > 0:
        rows, cols = _correlated_firing(n_rows, rates, correlation, n_factors, rng)
    else:
        rows, cols = _independent_firing(n_rows, rates, rng)
    values = np.abs(1 + magnitude_std * rng.standard_normal(len(rows)))
    codes = sparse.csr_matrix((values.astype(np.float32), (rows, cols)), shape=(n_rows, n_features))
    X = np.asarray(codes @ dictionary.astype(np.float32), dtype=np.float32)
    if noise_std > 0:
        X += (noise_std * rng.standard_normal(X.shape)).astype(np.float32)
    return X, dictionary.astype(np.float32), codes


__all__ = ["make_superposition"]
