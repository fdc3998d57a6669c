"""Measures of sparse dictionaries and the synthetic superposition data set."""

import numpy as np
import pytest

from aekit.datasets import make_superposition
from aekit.metrics import dead_fraction, fraction_of_variance_unexplained, l0, mcc, mean_max_cosine


def test_fvu_is_zero_for_perfect_and_one_for_the_mean():
    X = np.random.RandomState(0).rand(50, 4)
    assert fraction_of_variance_unexplained(X, X) == 0
    assert fraction_of_variance_unexplained(X, np.repeat(X.mean(0, keepdims=True), 50, 0)) == pytest.approx(1)


def test_l0_and_dead_fraction():
    codes = np.array([[1.0, 0, 0, 0], [2.0, 3.0, 0, 0]])
    assert l0(codes) == 1.5
    assert dead_fraction(codes) == 0.5


def test_mcc_matches_one_to_one_where_mmcs_does_not():
    true = np.array([[1.0, 0.0], [0.8, 0.6]])
    # the first learned direction serves both true ones in MMCS, only one in MCC
    learned = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert mean_max_cosine(learned, true) == pytest.approx(0.9)
    assert mcc(learned, true) == pytest.approx(0.1)
    shuffled = np.eye(3)[[2, 0, 1]] * 5  # order and scale do not matter
    assert mcc(shuffled, np.eye(3)) == pytest.approx(1)
    assert mean_max_cosine(-np.eye(3), np.eye(3)) == 0  # signed: a flipped direction is not the feature


def test_metrics_refuse_mismatched_widths():
    with pytest.raises(ValueError, match="n_features"):
        mcc(np.eye(3), np.eye(4))


def test_superposition_rows_are_sparse_sums_of_unit_directions():
    X, dictionary, codes = make_superposition(4000, n_features=50, n_dims=10, l0=5, random_state=0)
    assert X.shape == (4000, 10) and X.dtype == np.float32
    assert np.linalg.norm(dictionary, axis=1) == pytest.approx(np.ones(50), abs=1e-5)
    assert codes.getnnz() / 4000 == pytest.approx(5, rel=0.05)
    np.testing.assert_allclose(X, codes @ dictionary, atol=1e-5)
    rates = np.asarray((codes != 0).mean(0)).ravel()
    assert rates[:5].mean() > 2 * rates[-5:].mean()  # Zipf-like: the first features fire most


def test_superposition_is_seeded_and_can_correlate():
    a = make_superposition(500, 30, 8, 3, random_state=1)[0]
    np.testing.assert_array_equal(a, make_superposition(500, 30, 8, 3, random_state=1)[0])
    _, _, codes = make_superposition(4000, 30, 8, 3, correlation=0.8, random_state=0)
    fires = (codes != 0).toarray().astype(float)
    assert codes.getnnz() / 4000 == pytest.approx(3, rel=0.1)
    corr = np.corrcoef(fires.T)
    assert np.nanmean(np.abs(corr[np.triu_indices(30, 1)])) > 0.05


@pytest.mark.parametrize("kwargs, message", [
    (dict(l0=0), "l0"), (dict(l0=31), "l0"), (dict(correlation=1.0), "correlation"), (dict(n_rows=0), "n_rows")])
def test_superposition_refuses_bad_arguments(kwargs, message):
    args = {**dict(n_rows=10, n_features=30, n_dims=8, l0=3), **kwargs}
    with pytest.raises(ValueError, match=message):
        make_superposition(**args)
