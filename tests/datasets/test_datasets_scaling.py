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


@pytest.mark.parametrize("kind", ["minmax", "standard", None, "auto"])
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


def test_auto_leaves_unit_interval_data_alone_and_scales_other_data(X):
    unit = np.random.default_rng(0).random((30, 5)).astype(np.float32)
    unit[:, 0] = 0.0
    unit[:, 1] *= 0.01  # nearly blank: min-max would make it 100 times larger
    s = Scaler("auto").fit(unit)
    assert s.kind == "auto" and s.kind_ is None
    np.testing.assert_array_equal(s.transform(unit), unit)
    s = Scaler("auto").fit(X)
    assert s.kind_ == "minmax"
    np.testing.assert_array_equal(s.transform(X), Scaler("minmax").fit_transform(X))
    assert Scaler("auto").fit(unit * 1.5).kind_ == "minmax" and Scaler("auto").fit(unit - 0.5).kind_ == "minmax"


@pytest.mark.parametrize("data, resolved", [("unit", None), ("X", "minmax")])
def test_auto_saves_what_it_resolved_to(X, data, resolved):
    rows = np.random.default_rng(0).random((30, 4)).astype(np.float32) if data == "unit" else X
    s = Scaler("auto").fit(rows)
    saved = json.loads(json.dumps(s.to_dict()))
    assert saved["kind"] == "auto" and saved["resolved"] == resolved
    restored = Scaler.from_dict(saved)
    assert restored.kind == "auto" and restored.kind_ == resolved and restored.to_dict() == saved
    np.testing.assert_array_equal(restored.transform(rows), s.transform(rows))
    with pytest.raises(ValueError, match="'resolved' must be"):
        Scaler.from_dict({**saved, "resolved": "auto"})


def test_a_scaler_saved_before_auto_still_loads(X):
    saved = {"kind": "minmax", "offset": [0.0, 1.0], "scale": [2.0, 4.0]}  # no "resolved": an older file
    restored = Scaler.from_dict(saved)
    assert restored.kind_ == "minmax" and restored.to_dict() == saved
    np.testing.assert_array_equal(restored.transform(np.array([[2.0, 5.0]])), [[1.0, 1.0]])


def test_range_in_scaled_units(X):
    s = Scaler("minmax").fit(X)
    low, high = s.range_in_scaled_units()  # the overall range of X, in each feature's units
    np.testing.assert_allclose(s.inverse_transform(np.stack([low, high])),
                               np.repeat([[X.min()], [X.max()]], X.shape[1], axis=1), rtol=1e-5)
    low, high = s.range_in_scaled_units((0, 1))
    np.testing.assert_array_equal(np.stack([low, high]), s.transform(np.repeat([[0.0], [1.0]], 4, axis=1)))
    with pytest.raises(NotFittedError, match="declared range"):
        Scaler.from_dict(s.to_dict()).range_in_scaled_units()


def test_invalid_kind_names_scale():
    with pytest.raises(ValueError, match="scale must be 'auto', 'minmax', 'standard' or None, got 'max'"):
        Scaler("max")


def test_errors(X):
    with pytest.raises(NotFittedError):
        Scaler("minmax").transform(X)
    with pytest.raises(ValueError, match="X has 3 features, but the Scaler was fitted with 4"):
        Scaler("minmax").fit(X).transform(X[:, :3])
    with pytest.raises(ValueError, match="2-D"):
        Scaler("minmax").fit(X[0])
    assert Scaler.from_dict(Scaler("standard").to_dict()).to_dict() == {"kind": "standard"}
