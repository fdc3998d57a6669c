"""The autoencoder as one module: encoder, decoder, and the loss terms its training minimises.

Parts compose: an optional corruption of the input (training only) and any number of penalties on
the code or the encoder, each contributing one named loss term.
"""

import math

import torch
from torch import nn

from ..losses import jacobian_norm, one_layer_jacobian_norm, output_transform, reconstruction_error, sparsity_penalty


class SparsityPenalty:
    """Named term ``"sparsity"`` on the code (see :func:`aekit.losses.sparsity_penalty`)."""

    name = "sparsity"
    needs_input_grad = False
    needs_graph = False

    def __init__(self, kind, target):
        self.kind = kind
        self.target = target

    def __call__(self, net, x, pre_activation, code):
        return sparsity_penalty(code, self.kind, self.target)


class ContractivePenalty:
    """Named term ``"contractive"``: the batch mean of ||d code / d x||_F^2.

    ``"closed_form"`` for a one-layer encoder with an elementwise activation; ``"exact"`` from one
    batched backward pass per batch over the k code directions; ``"projections"`` an unbiased
    estimate from ``n_projections`` Gaussian directions (cheaper for large codes).
    """

    name = "contractive"
    needs_graph = True  # every method differentiates the code, also when evaluating

    def __init__(self, method, n_projections=1):
        self.method = method
        self.n_projections = n_projections
        self.needs_input_grad = method != "closed_form"

    def __call__(self, net, x, pre_activation, code):
        if self.method == "closed_form":
            linear, activation = net.encoder[-2], net.encoder[-1]
            return one_layer_jacobian_norm(pre_activation, linear.weight, activation).mean()
        n, k = code.shape
        if self.method == "exact":
            directions = torch.eye(k, device=code.device, dtype=code.dtype)[:, None, :].expand(k, n, k)
        else:
            directions = torch.randn((self.n_projections, n, k), generator=net.generator, device=code.device,
                                     dtype=code.dtype) / math.sqrt(self.n_projections)
        return jacobian_norm(code, x, directions).mean()


class BinaryCode(nn.Module):
    """Code units that output bits (0.0 or 1.0): each unit's pre-activation, batch-normalised, above 0.

    Normalising by the batch statistics (running statistics in eval mode) centres each unit, so
    that every bit is 1 for about half of the rows: no bit is wasted on a constant. The step has no
    gradient; training passes the gradient of ``sigmoid(4 h)`` (slope 1 at the threshold) straight
    through it (Bengio et al. 2013), so the decoder learns from the very bits that are searched.

    Example
    -------
    >>> bits = BinaryCode(8)(torch.randn(32, 8))
    >>> sorted(bits.unique().tolist())
    [0.0, 1.0]
    """

    def __init__(self, latent):
        super().__init__()
        self.register_buffer("running_mean", torch.zeros(latent))
        self.register_buffer("running_var", torch.ones(latent))

    def forward(self, pre_activation):
        # a batch of one row has no spread to normalise by: it uses the running statistics
        use_batch = self.training and pre_activation.shape[0] > 1
        h = nn.functional.batch_norm(pre_activation, self.running_mean, self.running_var, training=use_batch)
        soft = torch.sigmoid(4 * h)
        # value: the step exactly (soft - soft is exactly 0); gradient: the sigmoid's
        return (h > 0).to(h.dtype) + (soft - soft.detach())


class AutoencoderNet(nn.Module):
    """Maps flat rows (N, D) to codes (N, latent) and back, and names its loss terms.

    Parameters
    ----------
    encoder, decoder : nn.Sequential
        Built by :func:`build_mlp` or :func:`build_conv`; the encoder ends with the code activation,
        the decoder returns logits.
    loss : {"mse", "bce"}
    output_activation : {"sigmoid", "linear"}
    corruption : nn.Module, optional
        Applied to inputs in training mode only; the loss compares with the clean input.
    penalties : sequence
        Callables ``penalty(net, x, pre_activation, code) -> Tensor`` with a ``name``.
    """

    def __init__(self, encoder, decoder, loss="mse", output_activation="sigmoid", corruption=None, penalties=()):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.loss = loss
        self.output_activation = output_activation
        self.corruption = corruption
        self.penalties = list(penalties)
        # The random stream of corruption and random projections; set only while training
        # (generators cannot be pickled, and a fitted estimator must be).
        self.generator = None

    @torch.no_grad()
    def init_from_data(self, X):
        """Set what depends on the training data (the corruption's range) before training."""
        if self.corruption is not None:
            self.corruption.init_from_data(X)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, code):
        return output_transform(self.decoder(code), self.output_activation)

    def reconstruction_error(self, x):
        """Per-example loss (N,) of reconstructing ``x`` from its own code."""
        return reconstruction_error(self.decoder(self.encoder(x)), x, self.loss, self.output_activation)

    def loss_terms(self, x):
        """Named, batch-averaged loss terms; the training loop weights and sums them."""
        if not torch.is_grad_enabled() and any(p.needs_graph for p in self.penalties):
            with torch.enable_grad():
                return {name: value.detach() for name, value in self.loss_terms(x).items()}
        noisy = self.corruption(x, self.generator) if self.training and self.corruption is not None else x
        if any(p.needs_input_grad for p in self.penalties):
            noisy = noisy.detach().requires_grad_(True)
        # The code units' pre-activation is kept for penalties that need it (no extra forward pass).
        pre_activation = self.encoder[:-1](noisy)
        code = self.encoder[-1](pre_activation)
        terms = {"recon": reconstruction_error(self.decoder(code), x, self.loss, self.output_activation).mean()}
        for penalty in self.penalties:
            terms[penalty.name] = penalty(self, noisy, pre_activation, code)
        return terms
