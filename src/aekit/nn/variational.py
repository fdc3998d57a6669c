"""The variational autoencoder's network: a Gaussian bottleneck between encoder and decoder.

The encoder outputs (mu, log-variance) per latent dimension; codes are sampled with the
reparameterisation z = mu + sigma * eps; the decoder gives the parameters of p(x | z) (Bernoulli
logits or a Gaussian mean). Loss terms are in nats per example: ``recon`` = -log p(x | z) and
``kl`` = KL(q(z | x) || N(0, I)); their sum is the negative ELBO.
"""

import math

import torch
from torch import nn

from ..losses import gaussian_kl, gaussian_log_density, negative_log_likelihood, output_transform


class VariationalNet(nn.Module):
    """Encoder (N, D) -> (N, 2k) statistics, decoder (N, k) -> (N, D) likelihood parameters.

    Parameters
    ----------
    likelihood : {"bernoulli", "gaussian"}
    sigma : float or "learned"
        Gaussian likelihood's standard deviation: fixed, or one learned value per feature.
    """

    def __init__(self, encoder, decoder, likelihood, n_features, sigma=1.0, corruption=None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.likelihood = likelihood
        self.corruption = corruption
        self.output_activation = "sigmoid" if likelihood == "bernoulli" else "linear"
        log_sigma = torch.full((n_features,), 0.0 if sigma == "learned" else math.log(sigma))
        if sigma == "learned":
            self.log_sigma = nn.Parameter(log_sigma)
        else:
            self.register_buffer("log_sigma", log_sigma)
        self.generator = None  # set only while training (generators cannot be pickled)
        self.penalties = []

    @torch.no_grad()
    def init_from_data(self, X):
        """Start from the data's statistics: the corruption's range and, for an MLP decoder, output
        biases at the per-feature mean (its logit for a Bernoulli), so that training begins at the
        best constant model instead of spending its first steps finding the mean image."""
        if self.corruption is not None:
            self.corruption.init_from_data(X)
        last = self.decoder[-1]
        if isinstance(last, nn.Linear):
            mean = X.mean(0)
            last.bias.copy_(torch.logit(mean.clamp(1e-3, 1 - 1e-3)) if self.likelihood == "bernoulli" else mean)

    def posterior(self, x):
        """(mu, log-variance) of q(z | x), each (N, k)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def encode(self, x):
        return self.posterior(x)[0]

    def decode(self, z):
        return output_transform(self.decoder(z), self.output_activation)

    def nll(self, logits, x):
        return negative_log_likelihood(logits, x, self.likelihood, self.log_sigma)

    def _noise(self, shape, like, generator):
        return torch.randn(shape, generator=generator, device=like.device, dtype=like.dtype)

    def loss_terms(self, x):
        noisy = self.corruption(x, self.generator) if self.training and self.corruption is not None else x
        mu, logvar = self.posterior(noisy)
        z = mu + (0.5 * logvar).exp() * self._noise(mu.shape, mu, self.generator)
        return {"recon": self.nll(self.decoder(z), x).mean(), "kl": gaussian_kl(mu, logvar).mean()}

    def reconstruction_error(self, x):
        """-log p(x | z = mu) per example: the reconstruction part of the loss at the posterior mean."""
        return self.nll(self.decoder(self.encode(x)), x)

    def log_weights(self, x, n_samples, generator=None):
        """Importance weights log p(x, z_i) - log q(z_i | x) for ``n_samples`` draws: (n_samples, N)."""
        mu, logvar = self.posterior(x)
        z = mu + (0.5 * logvar).exp() * self._noise((n_samples, *mu.shape), mu, generator)
        log_prior = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))
        log_posterior = gaussian_log_density(z, mu, logvar)
        logits = self.decoder(z.flatten(0, 1)).unflatten(0, (n_samples, x.shape[0]))
        return -self.nll(logits, x) + log_prior - log_posterior
