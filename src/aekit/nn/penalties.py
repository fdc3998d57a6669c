"""Penalties: extra loss terms on the code or the encoder, computed from what the network hands them.

For every batch the network hands each penalty one :class:`Encoding`; a penalty returns its term
(a batch mean), which the network files under the penalty's ``name``. A penalty needs nothing else
from the network, so any penalty works with any bottleneck, corruption and encoder.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..losses import encoder_jacobian_norm, one_layer_jacobian_norm, sparsity_penalty


@dataclass
class Encoding:
    """What the network hands every penalty for one batch of N rows of D features.

    Attributes
    ----------
    inputs : Tensor (N, D)
        The clean rows, which the reconstruction is compared with.
    corrupted : Tensor (N, D)
        What the encoder saw: the corrupted rows while training with noise, else ``inputs``.
    pre_code : Tensor (N, bottleneck.in_features)
        The encoder's last outputs, before the bottleneck (the code units' pre-activation).
    code : Tensor (N, latent)
        The code the decoder got (for a Gaussian bottleneck, a sample).
    code_layer : nn.Module
        The encoder's last weight layer, which computes ``pre_code`` (``weight`` is (in_features, width)).
    bottleneck : nn.Module
        The bottleneck (see :mod:`aekit.nn.bottlenecks`); ``bottleneck(pre_code)`` is the deterministic code.
    encode : callable
        Rows -> deterministic code, through the whole encoder: a penalty that differentiates the code
        with respect to the input runs it on an input that requires gradients.
    noise_stream : torch.Generator or None
        The random stream of training, for a penalty that draws (random projections).
    """

    inputs: torch.Tensor
    corrupted: torch.Tensor
    pre_code: torch.Tensor
    code: torch.Tensor
    code_layer: nn.Module
    bottleneck: nn.Module
    encode: Callable[[torch.Tensor], torch.Tensor]
    noise_stream: torch.Generator | None = None


class SparsityPenalty(nn.Module):
    """Term ``"sparsity"`` on the code (see :func:`aekit.losses.sparsity_penalty`)."""

    name = "sparsity"

    def __init__(self, kind: str, target: float):
        super().__init__()
        self.kind = kind
        self.target = target

    def forward(self, encoding: Encoding) -> torch.Tensor:
        return sparsity_penalty(encoding.code, self.kind, self.target)


class ContractivePenalty(nn.Module):
    """Term ``"contractive"``: the batch mean of ||d code / d x||_F^2 (Rifai et al. 2011).

    ``"closed_form"`` for a one-layer encoder with an elementwise code activation (from the code
    layer's weight and the pre-activation: no Jacobian is built); ``"exact"`` from one batched
    backward pass over the k code directions; ``"projections"`` an unbiased estimate from
    ``n_projections`` Gaussian directions (cheaper for large codes). The term is computed with
    gradients also while evaluating (it is a derivative), and returned detached then.
    """

    name = "contractive"

    def __init__(self, method: str, n_projections: int = 1):
        super().__init__()
        self.method = method
        self.n_projections = n_projections

    def forward(self, encoding: Encoding) -> torch.Tensor:
        training = torch.is_grad_enabled()
        with torch.enable_grad():
            value = self.per_row(encoding).mean()
        return value if training else value.detach()

    def per_row(self, encoding: Encoding) -> torch.Tensor:
        """||d code / d x||_F^2 per row (N,) (an estimate of it for ``"projections"``)."""
        if self.method == "closed_form":
            return one_layer_jacobian_norm(encoding.pre_code, encoding.code_layer.weight, encoding.bottleneck)
        n_projections = self.n_projections if self.method == "projections" else None
        return encoder_jacobian_norm(encoding.encode, encoding.corrupted, n_projections, encoding.noise_stream)
