"""Bottlenecks: what sits between the encoder and the decoder.

A bottleneck turns the encoder's last outputs (N, ``in_features``) into a code (N, ``latent``). It is
a module with three things, and the network needs nothing else from it:

- ``in_features``: how many encoder outputs it takes (``latent`` for a deterministic code, ``2 * latent``
  for a Gaussian's means and log-variances);
- ``forward(pre_code) -> code``: the deterministic code, what ``transform`` gives and what inference uses;
- ``sample(pre_code, noise_stream) -> (code, terms)``: the code the decoder gets while the loss is
  computed (a reparameterised sample, a straight-through step, ...) and the bottleneck's own named loss
  terms (``{"kl": ...}``), batch means, weighted by the estimator's loss weights (1 by default).

The network runs ``encoder -> bottleneck.sample -> decoder`` for its loss and ``encoder ->
bottleneck -> decoder`` for inference; it keeps the bottleneck as the last module of its
``encoder``, so that ``net.encoder(x)`` is the code. A new kind of bottleneck (k-sparse, vector-quantised,
an entropy bottleneck) is a subclass of :class:`Bottleneck` given to :class:`aekit.nn.AutoencoderNet`.
"""

import torch
from torch import nn

from ..losses import gaussian_kl, gaussian_log_density


class Bottleneck(nn.Module):
    """A deterministic code by default: ``sample`` is ``forward`` and adds no term.

    Parameters
    ----------
    latent : int
        Code units.
    in_features : int, optional
        Encoder outputs taken; ``latent`` by default.
    """

    def __init__(self, latent: int, in_features: int | None = None):
        super().__init__()
        self.latent = latent
        self.in_features = latent if in_features is None else in_features

    def forward(self, pre_code: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def sample(self, pre_code: torch.Tensor,
               noise_stream: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The code to decode while the loss is computed, and this bottleneck's loss terms."""
        return self(pre_code), {}


class DeterministicBottleneck(Bottleneck):
    """The code is an elementwise activation of the encoder's outputs (linear, sigmoid, ReLU, ...).

    Example
    -------
    >>> code = DeterministicBottleneck(nn.Sigmoid(), latent=4)(torch.zeros(2, 4))
    >>> code.tolist()[0]
    [0.5, 0.5, 0.5, 0.5]
    """

    def __init__(self, activation: nn.Module, latent: int):
        super().__init__(latent)
        self.activation = activation

    def forward(self, pre_code: torch.Tensor) -> torch.Tensor:
        return self.activation(pre_code)


class GaussianBottleneck(Bottleneck):
    """q(z | x) = N(mu, diag(exp(log-variance))) from ``2 * latent`` encoder outputs (the means first).

    ``forward`` gives the posterior mean; ``sample`` the reparameterised draw z = mu + sigma * eps
    (Kingma and Welling 2014) and the term ``"kl"`` = KL(q(z | x) || N(0, I)) in nats per example.

    Example
    -------
    >>> bottleneck = GaussianBottleneck(2)
    >>> z, terms = bottleneck.sample(torch.zeros(3, 4))  # mu = 0, log-variance = 0: the prior itself
    >>> z.shape, float(terms["kl"])
    (torch.Size([3, 2]), 0.0)
    """

    def __init__(self, latent: int):
        super().__init__(latent, in_features=2 * latent)

    @staticmethod
    def statistics(pre_code: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, log-variance), each (N, latent)."""
        mu, logvar = pre_code.chunk(2, dim=-1)
        return mu, logvar

    def forward(self, pre_code: torch.Tensor) -> torch.Tensor:
        return self.statistics(pre_code)[0]

    def sample(self, pre_code, noise_stream=None):
        mu, logvar = self.statistics(pre_code)
        z = mu + (0.5 * logvar).exp() * _normal(mu.shape, mu, noise_stream)
        return z, {"kl": gaussian_kl(mu, logvar).mean()}

    def draw(self, pre_code: torch.Tensor, n_samples: int, noise_stream: torch.Generator | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``n_samples`` draws per row (n_samples, N, latent) with log p(z) and log q(z | x), each
        (n_samples, N): what importance-weighted likelihoods need."""
        mu, logvar = self.statistics(pre_code)
        z = mu + (0.5 * logvar).exp() * _normal((n_samples, *mu.shape), mu, noise_stream)
        log_prior = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
        return z, log_prior, gaussian_log_density(z, mu, logvar)


class BinaryBottleneck(Bottleneck):
    """Code units that output bits (0.0 or 1.0): each unit's input, batch-normalised, above 0.

    Normalising by the batch statistics (running statistics in eval mode) centres each unit, so
    that every bit is 1 for about half of the rows: no bit is wasted on a constant. The step has no
    gradient; training passes the gradient of ``sigmoid(4 h)`` (slope 1 at the threshold) straight
    through it (Bengio et al. 2013), so the decoder learns from the very bits that are searched.

    Example
    -------
    >>> bits = BinaryBottleneck(8)(torch.randn(32, 8))
    >>> sorted(bits.unique().tolist())
    [0.0, 1.0]
    """

    def __init__(self, latent: int):
        super().__init__(latent)
        self.register_buffer("running_mean", torch.zeros(latent))
        self.register_buffer("running_var", torch.ones(latent))

    def forward(self, pre_code: torch.Tensor) -> torch.Tensor:
        # a batch of one row has no spread to normalise by: it uses the running statistics
        use_batch = self.training and pre_code.shape[0] > 1
        h = nn.functional.batch_norm(pre_code, self.running_mean, self.running_var, training=use_batch)
        soft = torch.sigmoid(4 * h)
        # value: the step exactly (soft - soft is exactly 0); gradient: the sigmoid's
        return (h > 0).to(h.dtype) + (soft - soft.detach())


def _normal(shape, like, noise_stream):
    return torch.randn(shape, generator=noise_stream, device=like.device, dtype=like.dtype)
