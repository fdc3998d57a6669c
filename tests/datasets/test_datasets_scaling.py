import json

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from aekit.datasets import Scaler


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    X = rng.normal(3, 5, (50, 4)).astype(np.float32)
    X[:, 2] = 7  # a constant feature
    return X


@pytest.mark.parametrize("kind", ["minmax", "standard", None])
def test_round_trip(X, kind):
    s = Scaler(kind).fit(X)
    Z = s.transform(X)
    assert Z.dtype == np.float32 and Z.shape == X.shape and np.isfinite(Z).all()
    np.testing.assert_allclose(s.inverse_transform(Z), X, rtol=1e-5, atol=1e-5)
    restored = Scaler.from_dict(json.loads(json.dumps(s.to_dict())))
    np.testing.assert_array_equal(restored.transform(X), Z)
    np.testing.assert_array_equal(Scaler(kind).fit_transform(X), Z)


def test_minmax_range(X):
    Z = Scaler("minmax").fit_transform(X)
    np.testing.assert_array_equal(Z.min(axis=0), [0, 0, 0, 0])
    np.testing.assert_array_equal(Z.max(axis=0), [1, 1, 0, 1])


def test_standard_moments(X):
    Z = Scaler("standard").fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=0), [1, 1, 0, 1], atol=1e-5)


def test_identity(X):
    np.testing.assert_array_equal(Scaler(None).fit(X).transform(X), X)


def test_invalid_kind_names_scale():
    with pytest.raises(ValueError, match="scale must be 'minmax', 'standard' or None, got 'max'"):
        Scaler("max")


def test_errors(X):
    with pytest.raises(NotFittedError):
        Scaler("minmax").transform(X)
    with pytest.raises(ValueError, match="X has 3 features, but the Scaler was fitted with 4"):
        Scaler("minmax").fit(X).transform(X[:, :3])
    with pytest.raises(ValueError, match="2-D"):
        Scaler("minmax").fit(X[0])
    assert Scaler.from_dict(Scaler("standard").to_dict()).to_dict() == {"kind": "standard"}
