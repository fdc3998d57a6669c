"""The rate-distortion autoencoder's network options: GDN (aekit.nn.gdn) in place of the conv nets'
activations and residual blocks in the decoder (decoder_blocks), through parameters, files and the CLI."""

import json

import numpy as np
import pytest
import torch

import aekit
from aekit import codec
from aekit.cli import main
from aekit.estimators.rate_distortion import RateDistortionAutoencoder
from aekit.nn.conv import ResidualBlock
from aekit.nn.gdn import GDN

pytestmark = pytest.mark.usefixtures("one_thread")


def images(n=120, seed=0):
    return np.random.RandomState(seed).rand(n, 64).astype(np.float32)


def fit(**params):
    rd = RateDistortionAutoencoder(hidden=(4, 8), latent=4, epochs=2, arch="conv", random_state=0, device="cpu",
                                   **params)
    return rd.fit(images())


def test_gdn_at_its_start_divides_by_the_root_and_its_inverse_multiplies():
    x = torch.randn(3, 5, 4, 4)
    norm = (1 + 1e-6 + (0.1 + 1e-6) * x.square() + 1e-6 * (x.square().sum(1, keepdim=True) - x.square())).sqrt()
    torch.testing.assert_close(GDN(5)(x), x / norm)
    torch.testing.assert_close(GDN(5, inverse=True)(x), x * norm)


def test_gdn_learns_its_cross_channel_weights():
    gdn = GDN(3)
    gdn(torch.randn(2, 3, 4, 4)).square().sum().backward()
    assert (gdn.gamma_root.grad != 0).all() and (gdn.beta_root.grad != 0).all()


def test_rd_with_gdn_codes_exactly_and_reloads(tmp_path):
    rd = fit(activation="gdn")
    assert sum(isinstance(m, GDN) for m in rd.model_.encoder) == 2
    assert sum(isinstance(m, GDN) and m.inverse for m in rd.model_.decoder) == 2
    X = images(10, seed=1)
    np.testing.assert_array_equal(codec.decompress(rd, codec.compress(rd, X)), rd.reconstruct(X))
    rd.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "config.json").read_text())["params"]["activation"] == "gdn"
    np.testing.assert_array_equal(aekit.load(tmp_path / "m").reconstruct(X), rd.reconstruct(X))


def test_gdn_needs_a_conv_arch():
    rd = RateDistortionAutoencoder(hidden=(4,), latent=4, epochs=1, activation="gdn")
    with pytest.raises(ValueError, match="activation='gdn' normalises channels; it needs arch='conv'"):
        rd.fit(images(20))
    assert not hasattr(rd, "model_")
    with pytest.raises(ValueError, match="activation"):
        fit(activation="swish")


def test_cli_sets_gdn_and_blocks(tmp_path):
    np.save(tmp_path / "train.npy", images())
    out = tmp_path / "rd"
    assert main(["train", "rdae", "--data", str(tmp_path / "train.npy"), "--out", str(out), "--epochs", "1",
                 "--set", "arch=conv", "--set", "hidden=[4]", "--set", "latent=4", "--set", "activation=gdn",
                 "--set", "decoder_blocks=1",
                 "--device", "cpu", "--quiet"]) == 0
    loaded = aekit.load(out)
    assert (loaded.activation, loaded.decoder_blocks) == ("gdn", 1)


@pytest.mark.parametrize("activation", ["relu", "gdn"])
def test_residual_decoder_blocks(activation):
    rd = fit(decoder_blocks=2, activation=activation)
    assert sum(isinstance(m, ResidualBlock) for m in rd.model_.decoder) == 4  # 2 at each of 2 sizes of maps
    X = images(10, seed=1)
    np.testing.assert_array_equal(codec.decompress(rd, codec.compress(rd, X)), rd.reconstruct(X))
    assert rd.get_params()["decoder_blocks"] == 2


def test_residual_blocks_need_a_conv_arch():
    with pytest.raises(ValueError, match="decoder_blocks=1 adds convolutions to a conv decoder; it needs arch='conv'"):
        RateDistortionAutoencoder(hidden=(4,), latent=4, epochs=1, decoder_blocks=1).fit(images(20))
    with pytest.raises(ValueError, match="decoder_blocks"):
        fit(decoder_blocks=-1)
