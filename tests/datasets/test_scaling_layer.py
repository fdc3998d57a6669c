"""ScalingLayer: a fitted Scaler as a layer of a torch network."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from aekit.datasets.scaling import Scaler, ScalingLayer


@pytest.mark.parametrize("kind", ["minmax", "standard", None])
def test_the_layer_scales_as_its_scaler(kind):
    X = np.random.default_rng(0).normal(3, 5, (50, 4)).astype(np.float32)
    X[:, 2] = 7  # a constant feature: scale 1, as the Scaler has it
    scaler = Scaler(kind).fit(X)
    layer = ScalingLayer.from_scaler(scaler)
    np.testing.assert_allclose(layer(torch.from_numpy(X)).numpy(), scaler.transform(X), rtol=1e-6, atol=1e-6)
    assert sorted(layer.state_dict()) == ["offset", "scale"]  # saved with the weights
    assert not list(layer.parameters())  # never trained


def test_a_layer_of_width_one_scales_every_feature_alike():
    X = np.arange(12, dtype=np.float32).reshape(3, 4)
    layer = ScalingLayer(1).set_scaler(Scaler("standard").fit(X.reshape(-1, 1)))
    out = layer(torch.from_numpy(X)).numpy()
    assert out.mean() == pytest.approx(0, abs=1e-6) and out.std() == pytest.approx(1, rel=1e-5)


def test_an_unset_layer_is_the_identity_and_refusals():
    x = torch.randn(2, 3)
    assert torch.equal(ScalingLayer(3)(x), x)
    with pytest.raises(NotFittedError):
        ScalingLayer.from_scaler(Scaler("standard"))
    with pytest.raises(ValueError, match="fitted with 2 features; this layer scales 3"):
        ScalingLayer(3).set_scaler(Scaler("minmax").fit(np.zeros((4, 2))))
