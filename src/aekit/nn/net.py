"""The autoencoder as one module: encoder, bottleneck, decoder, and the loss terms its training minimises.

Parts compose: a corruption of the input (training only), a bottleneck (deterministic, Gaussian,
binary, ...; see :mod:`aekit.nn.bottlenecks`) and any number of penalties (see
:mod:`aekit.nn.penalties`), each contributing its own named loss terms. A variational autoencoder is
this network with a Gaussian bottleneck and a likelihood as its reconstruction loss.
"""

import math

import torch
from torch import nn

from ..losses import output_transform, reconstruction_loss_from_logits
from .bottlenecks import Bottleneck
from .conditioning import ClassShift, output_width
from .penalties import Encoding


def log_sigma_of(sigma: float | str, n_features: int) -> torch.Tensor:
    """log of a Gaussian likelihood's standard deviation per feature: fixed (a tensor, for a buffer),
    or ``"learned"`` (a Parameter starting at sigma = 1)."""
    log_sigma = torch.full((n_features,), 0.0 if sigma == "learned" else math.log(sigma))
    return nn.Parameter(log_sigma) if sigma == "learned" else log_sigma


@torch.no_grad()
def start_output_at_mean(layer: nn.Module, X: torch.Tensor, output_activation: str) -> None:
    """Set the bias of a decoder's output ``layer`` to the mean of the rows ``X`` (per channel for a
    transposed convolution; its logit for a sigmoid output), so that training begins at the best
    constant model instead of spending its first steps finding the mean."""
    mean = X.mean(0)
    if isinstance(layer, nn.ConvTranspose2d):
        mean = mean.view(layer.out_channels, -1).mean(1)
    layer.bias.copy_(torch.logit(mean.clamp(1e-3, 1 - 1e-3)) if output_activation == "sigmoid" else mean)


class AutoencoderNet(nn.Module):
    """Maps flat rows (N, D) to codes (N, latent) and back, and names its loss terms.

    Parameters
    ----------
    encoder : nn.Sequential
        Built by :func:`build_mlp` or :func:`build_conv`: rows -> (N, ``bottleneck.in_features``), ending
        with its weight layer to the code.
    bottleneck : Bottleneck
        Kept as the last module of ``self.encoder``, so that ``self.encoder(x)`` is the code.
    decoder : nn.Sequential
        Code -> (N, D) logits.
    loss : {"mse", "bce", "gaussian"}
        Per-row reconstruction loss: squared error, Bernoulli negative log-likelihood (binary
        cross-entropy), or Gaussian negative log-likelihood with standard deviation exp(``log_sigma``).
    output_activation : {"sigmoid", "linear"}
    corruption : nn.Module, optional
        Applied to inputs in training mode only; the loss compares with the clean input.
    penalties : sequence of nn.Module
        Each maps an :class:`aekit.nn.penalties.Encoding` to one term named by its ``name``.
    log_sigma : Tensor, optional
        A Gaussian likelihood's log standard deviation per feature (see :func:`log_sigma_of`): a
        Parameter is learned, a tensor is a buffer. A variational network has it whatever its
        likelihood (its saved weights hold it).
    output_bias_at_mean : bool
        :func:`start_output_at_mean` for a decoder that ends with a dense layer (the VAE's start).
    n_classes : int
        Above 0, a conditional decoder p(x | z, y): each class adds its own vector to the output of
        the decoder's first layer (:class:`aekit.nn.conditioning.ClassShift`), and the methods that
        decode take the class indices ``y``. The encoder stays q(z | x).
    """

    def __init__(self, encoder: nn.Sequential, bottleneck: Bottleneck, decoder: nn.Sequential, loss: str = "mse",
                 output_activation: str = "sigmoid", corruption: nn.Module | None = None, penalties=(),
                 log_sigma: torch.Tensor | None = None, output_bias_at_mean: bool = False, n_classes: int = 0):
        super().__init__()
        self.encoder = nn.Sequential(*encoder, bottleneck)
        self.decoder = decoder
        self.loss = loss
        self.output_activation = output_activation
        self.corruption = corruption
        self.penalties = nn.ModuleList(penalties)
        if isinstance(log_sigma, nn.Parameter):
            self.log_sigma = log_sigma
        elif log_sigma is not None:
            self.register_buffer("log_sigma", log_sigma)
        else:
            self.log_sigma = None
        self.output_bias_at_mean = output_bias_at_mean
        self.n_classes = n_classes
        # registered only when conditional: unconditional weights keep the names they were saved under
        self.condition = ClassShift(n_classes, [output_width(decoder, bottleneck.latent)]) if n_classes else None
        # The random stream of corruption, samples and random projections; set only while training
        # (generators cannot be pickled, and a fitted estimator must be).
        self.noise_stream = None

    @property
    def bottleneck(self) -> Bottleneck:
        return self.encoder[-1]

    @torch.no_grad()
    def init_from_data(self, X: torch.Tensor) -> None:
        """Set what depends on the training data before training: the corruption's range and, if
        asked, the output biases."""
        if self.corruption is not None:
            self.corruption.init_from_data(X)
        if self.output_bias_at_mean and isinstance(self.decoder[-1], nn.Linear):
            start_output_at_mean(self.decoder[-1], X, self.output_activation)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic code (N, latent) (a Gaussian bottleneck's posterior mean)."""
        return self.encoder(x)

    def decoder_logits(self, code: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's logits (N, D) of codes (N, latent), given the class indices ``y`` (N,) when
        the network is conditional."""
        return self.decoder(code) if self.condition is None else self.condition.run(self.decoder, code, y)

    def decode(self, code: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstructions (N, D) in the (scaled) data space."""
        return output_transform(self.decoder_logits(code, y), self.output_activation)

    def reconstruction_loss(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction loss of rows ``x`` (N, D) from decoder logits (..., N, D), per row (..., N)."""
        return reconstruction_loss_from_logits(logits, x, self.loss, self.output_activation, self.log_sigma)

    def per_row_loss(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction loss (N,) of each row of ``x`` from its own deterministic code."""
        return self.reconstruction_loss(self.decoder_logits(self.encoder(x), y), x)

    def run_encoder(self, x: torch.Tensor) -> tuple[Encoding, dict[str, torch.Tensor]]:
        """The encoder's pass of the loss: corruption (in training), encoder, ``bottleneck.sample``.
        Returns what penalties are handed (see :class:`aekit.nn.penalties.Encoding`) and the
        bottleneck's loss terms."""
        corrupted = self.corruption(x, self.noise_stream) if self.training and self.corruption is not None else x
        pre_code = self.encoder[:-1](corrupted)
        code, terms = self.bottleneck.sample(pre_code, self.noise_stream)
        # the encoder ends with its weight layer to the code, then the bottleneck
        encoding = Encoding(inputs=x, corrupted=corrupted, pre_code=pre_code, code=code, code_layer=self.encoder[-2],
                            bottleneck=self.bottleneck, encode=self.encoder, noise_stream=self.noise_stream)
        return encoding, terms

    def loss_terms(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Named, batch-averaged loss terms: ``"recon"``, the bottleneck's, then each penalty's; the
        training loop weights and sums them. ``y``: the rows' classes, for a conditional network."""
        encoding, bottleneck_terms = self.run_encoder(x)
        logits = self.decoder_logits(encoding.code, y)
        terms = {"recon": self.reconstruction_loss(logits, x).mean(), **bottleneck_terms}
        for penalty in self.penalties:
            terms[penalty.name] = penalty(encoding)
        return terms

    def log_weights(self, x: torch.Tensor, n_samples: int, noise_stream: torch.Generator | None = None,
                    y: torch.Tensor | None = None) -> torch.Tensor:
        """Importance weights log p(x, z_i) - log q(z_i | x) of ``n_samples`` draws from the bottleneck
        (one that can ``draw``, such as the Gaussian): (n_samples, N)."""
        z, log_prior, log_posterior = self.bottleneck.draw(self.encoder[:-1](x), n_samples, noise_stream)
        repeated = None if y is None else y.repeat(n_samples)
        logits = self.decoder_logits(z.flatten(0, 1), repeated).unflatten(0, (n_samples, x.shape[0]))
        return -self.reconstruction_loss(logits, x) + log_prior - log_posterior
