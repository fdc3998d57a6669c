"""Decoder layers that reuse an encoder layer's weight, transposed, with a bias of their own.

The encoder layer is held outside the module tree (in a one-element tuple) so that the weight is one
shared Parameter: it is trained once, counted once by ``parameters()``, and saved once in a state dict.
"""

import torch
from torch import nn
from torch.nn import functional as F


class TiedLinear(nn.Module):
    """y = x @ W + b where W is ``source.weight`` (out, in) of the encoder layer: maps out -> in."""

    def __init__(self, source: nn.Linear):
        super().__init__()
        self._source = (source,)
        self.bias = nn.Parameter(torch.zeros(source.in_features))

    def forward(self, x):
        return F.linear(x, self._source[0].weight.t(), self.bias)


class TiedConvTranspose2d(nn.Module):
    """The transpose of the encoder's ``Conv2d``: the same kernel maps its output channels back."""

    def __init__(self, source: nn.Conv2d, output_padding):
        super().__init__()
        self._source = (source,)
        self.output_padding = output_padding
        self.bias = nn.Parameter(torch.zeros(source.in_channels))

    def forward(self, x):
        conv = self._source[0]
        return F.conv_transpose2d(
            x, conv.weight, self.bias, stride=conv.stride, padding=conv.padding,
            output_padding=self.output_padding,
        )
