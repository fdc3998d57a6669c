"""Parts that compose: bottlenecks, penalties and corruption are modules that compute their own terms
from what the network hands them, so that any of them works with any other."""

import numpy as np
import pytest
import torch
from torch import nn

from aekit.losses import encoder_jacobian_norm, gaussian_kl
from aekit.nn import (
    AutoencoderNet,
    BinaryBottleneck,
    Bottleneck,
    ContractivePenalty,
    DeterministicBottleneck,
    GaussianBottleneck,
    SparsityPenalty,
    build_conv,
    build_mlp,
)
from aekit.noise import Corruption, data_range

N_FEATURES, LATENT = 12, 3
BOTTLENECKS = {
    "deterministic": lambda: DeterministicBottleneck(nn.Sigmoid(), LATENT),
    "gaussian": lambda: GaussianBottleneck(LATENT),
    "binary": lambda: BinaryBottleneck(LATENT),
}


def _rows(n=16, seed=0):
    return torch.rand(n, N_FEATURES, generator=torch.Generator().manual_seed(seed))


def _net(bottleneck, penalties=(), noise=None, hidden=(8,)):
    torch.manual_seed(0)
    encoder, _ = build_mlp(N_FEATURES, hidden, bottleneck.in_features, "relu", tied=False)
    _, decoder = build_mlp(N_FEATURES, hidden, bottleneck.latent, "relu", tied=False)
    corruption = Corruption(noise, 0.3, N_FEATURES) if noise else None
    return AutoencoderNet(encoder, bottleneck, decoder, loss="bce", corruption=corruption, penalties=penalties)


def _penalties():
    return [SparsityPenalty("l1", 0.05), ContractivePenalty("exact")]


@pytest.mark.parametrize("kind", BOTTLENECKS)
@pytest.mark.parametrize("noise", [None, "masking", "gaussian"])
def test_any_penalty_and_noise_with_any_bottleneck(kind, noise):
    bottleneck = BOTTLENECKS[kind]()
    penalties = _penalties()[:1] if kind == "binary" else _penalties()  # a step has no Jacobian
    net = _net(bottleneck, penalties, noise)
    x = _rows()
    net.init_from_data(x)
    net.noise_stream = torch.Generator().manual_seed(0)
    net.train()
    terms = net.loss_terms(x)
    expected = {"recon", "sparsity"} | ({"kl"} if kind == "gaussian" else set())
    assert set(terms) == expected | ({"contractive"} if kind != "binary" else set())
    assert all(torch.isfinite(v) and v.ndim == 0 for v in terms.values())
    sum(terms.values()).backward()  # every term trains the network
    assert all(q.grad is not None for q in net.encoder.parameters())
    net.eval()
    with torch.no_grad():  # evaluating: every term is computed, none keeps a graph
        assert all(not v.requires_grad for v in net.loss_terms(x).values())
    assert net.encode(x).shape == (len(x), LATENT) and net.decode(net.encode(x)).shape == x.shape


def test_the_network_takes_a_new_bottleneck_unchanged():
    """A bottleneck the network has never seen: its code, its term, and its deterministic code at inference."""
    class Halving(Bottleneck):
        def __init__(self, latent):
            super().__init__(latent, in_features=2 * latent)

        def forward(self, pre_code):
            return pre_code[:, :self.latent] + pre_code[:, self.latent:]

        def sample(self, pre_code, noise_stream=None):
            code = self(pre_code)
            return code, {"size": code.square().sum(1).mean()}

    net = _net(Halving(LATENT), _penalties())
    terms = net.loss_terms(_rows())
    assert list(terms) == ["recon", "size", "sparsity", "contractive"]  # the loop's order of summing
    code = net.encode(_rows())
    pre = net.encoder[:-1](_rows())
    torch.testing.assert_close(code, pre[:, :LATENT] + pre[:, LATENT:])


def test_gaussian_bottleneck_is_the_vae():
    """Deterministic code is the posterior mean; in training the code is a reparameterised sample and the
    term is KL(q || N(0, I)), which is 0 for q = N(0, I)."""
    bottleneck = GaussianBottleneck(2)
    pre = torch.tensor([[0.5, -1.0, 0.2, -0.3]])
    torch.testing.assert_close(bottleneck(pre), pre[:, :2])
    z, terms = bottleneck.sample(pre, torch.Generator().manual_seed(0))
    eps = torch.randn((1, 2), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(z, pre[:, :2] + (0.5 * pre[:, 2:]).exp() * eps)
    torch.testing.assert_close(terms["kl"], gaussian_kl(pre[:, :2], pre[:, 2:]).mean())
    assert float(bottleneck.sample(torch.zeros(5, 4))[1]["kl"]) == 0.0
    z, log_prior, log_posterior = bottleneck.draw(torch.zeros(5, 4), 3)
    assert z.shape == (3, 5, 2)
    torch.testing.assert_close(log_prior, log_posterior)  # q = p: importance weights of 1


def test_closed_form_contractive_penalty_of_a_one_layer_gaussian_encoder():
    """The closed form differentiates the bottleneck's deterministic code: for a Gaussian, the means."""
    net = _net(GaussianBottleneck(LATENT), [ContractivePenalty("closed_form")], hidden=()).double()
    x = _rows().double()
    expected = net.encoder[0].weight[:LATENT].square().sum()  # d mu / d x = W_mu for every row
    torch.testing.assert_close(net.loss_terms(x)["contractive"], expected)
    torch.testing.assert_close(encoder_jacobian_norm(net.encode, x).mean(), expected)


def test_the_binary_bottleneck_gives_bits_and_straight_through_gradients():
    net = _net(BinaryBottleneck(LATENT), [SparsityPenalty("l1", 0.05)])
    net.train()
    x = _rows()
    encoding, _ = net.run_encoder(x)
    assert set(encoding.code.unique().tolist()) <= {0.0, 1.0}
    encoding.code.sum().backward()
    assert net.encoder[0].weight.grad.abs().sum() > 0


def test_encoding_is_what_the_network_computed():
    net = _net(DeterministicBottleneck(nn.Tanh(), LATENT), noise="masking")
    x = _rows()
    net.init_from_data(x)
    net.noise_stream = torch.Generator().manual_seed(0)
    net.train()
    encoding, terms = net.run_encoder(x)
    assert terms == {}
    assert encoding.inputs is x and not torch.equal(encoding.corrupted, x)  # masked in training
    torch.testing.assert_close(encoding.pre_code, encoding.code_layer(net.encoder[:-2](encoding.corrupted)))
    torch.testing.assert_close(encoding.code, torch.tanh(encoding.pre_code))
    torch.testing.assert_close(encoding.encode(encoding.corrupted), encoding.code)
    net.eval()
    assert net.run_encoder(x)[0].corrupted is x  # no corruption outside training


def test_conv_encoder_ends_with_its_code_layer():
    encoder, decoder = build_conv((1, 8, 8), (4,), 2 * LATENT, "relu", tied=False)
    assert isinstance(encoder[-1], nn.Linear) and encoder[-1].out_features == 2 * LATENT
    x = torch.rand(2, 64)
    assert decoder(encoder(x)).shape == x.shape


def test_data_range_is_the_overall_range():
    X = torch.tensor([[0.0, 5.0], [2.0, -1.0]])
    low, high = data_range(X)
    assert low.item() == -1.0 and high.item() == 5.0
    corruption = Corruption("gaussian", 0.1, 2)
    corruption.init_from_data(X)
    np.testing.assert_array_equal(corruption.low.numpy(), [-1.0, -1.0])
    np.testing.assert_array_equal(corruption.high.numpy(), [5.0, 5.0])
    corruption.set_range(np.array([0.0, 1.0]), 3.0)  # per feature, or one value for every feature
    np.testing.assert_array_equal(corruption.low.numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(corruption.high.numpy(), [3.0, 3.0])
