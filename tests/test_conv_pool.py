"""arch="conv-pool": stride-1 convolutions and 2x2 max-pools, decoded by upsampling and convolutions."""

import numpy as np
import pytest
import torch
from torch import nn

from aekit import GAN, Autoencoder
from aekit.nn import build_conv_pool


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 7, 9)])
def test_shapes_round_trip_through_odd_sides(shape):
    encoder, decoder = build_conv_pool(shape, (4, 8), 5, "relu", tied=False)
    rows = torch.rand(3, int(np.prod(shape)))
    codes = encoder(rows)
    assert codes.shape == (3, 5)
    assert decoder(codes).shape == rows.shape
    assert sum(isinstance(m, nn.MaxPool2d) for m in encoder) == 2
    assert all(m.stride == (1, 1) for m in encoder if isinstance(m, nn.Conv2d))


def test_autoencoder_builds_the_pooling_network(tiny_params):
    X = np.random.RandomState(0).rand(40, 64).astype(np.float32)
    est = Autoencoder(**{**tiny_params, "arch": "conv-pool", "hidden": (4,)}).fit(X)
    assert any(isinstance(m, nn.MaxPool2d) for m in est.model_.encoder.modules())
    assert est.reconstruct(X).shape == X.shape


def test_refused_where_not_natural(tiny_params):
    X = np.random.rand(20, 64)
    with pytest.raises(ValueError, match="tied=True"):
        Autoencoder(**{**tiny_params, "arch": "conv-pool", "tied": True}).fit(X)
    with pytest.raises(ValueError, match="arch"):
        GAN(arch="conv-pool", epochs=1).fit(X)
    with pytest.raises(ValueError, match="tied"):
        build_conv_pool((1, 8, 8), (4,), 2, "relu", tied=True)
