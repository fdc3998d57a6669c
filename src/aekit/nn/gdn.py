"""Generalised divisive normalisation (GDN; Balle, Laparra and Simoncelli 2016), the nonlinearity of
learned image codecs: each channel divided by a learned norm of all channels at the same pixel.

``y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)``; the inverse (IGDN, for decoders) multiplies by
the same root. Learned codecs use it in place of ReLUs because it gaussianises the responses of
natural images with fewer units (Balle et al. 2017).
"""

import torch
from torch import nn
from torch.nn import functional as F

# The nonlinearities that need their layer's channel count (built by ``make_channel_activation``).
CHANNEL_ACTIVATIONS = ("gdn",)
# beta stays above this, so that the root never reaches 0.
_BETA_FLOOR = 1e-6
# gamma starts as this times the identity (CompressAI's and tensorflow-compression's start).
_GAMMA_START = 0.1


class GDN(nn.Module):
    """GDN over the channels of (N, C, H, W) maps, or its inverse (``inverse=True``).

    beta and gamma are kept non-negative as squares of the trained parameters (Adam moves the
    off-diagonal entries of gamma off their start near 0 in a few steps).

    Example
    -------
    >>> GDN(8)(torch.randn(2, 8, 5, 5)).shape
    torch.Size([2, 8, 5, 5])
    """

    def __init__(self, channels: int, inverse: bool = False):
        super().__init__()
        self.inverse = inverse
        self.beta_root = nn.Parameter(torch.ones(channels))
        start = _GAMMA_START * torch.eye(channels) + _BETA_FLOOR
        self.gamma_root = nn.Parameter(start.sqrt())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta = self.beta_root.square() + _BETA_FLOOR
        gamma = self.gamma_root.square()
        norm = F.conv2d(x.square(), gamma[:, :, None, None], beta)
        return x * norm.sqrt() if self.inverse else x * norm.rsqrt()


def make_channel_activation(name: str, channels: int, inverse: bool) -> nn.Module:
    """A fresh nonlinearity ``name`` (one of ``CHANNEL_ACTIVATIONS``) for a layer of ``channels``
    channels: GDN in an encoder, its inverse in a decoder (``inverse=True``)."""
    if name != "gdn":
        raise ValueError(f"unknown channel activation {name!r}; expected one of {CHANNEL_ACTIVATIONS}")
    return GDN(channels, inverse)
