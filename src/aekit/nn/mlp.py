"""Fully connected encoder/decoder pairs, mirrored, optionally with tied weights."""

from torch import nn

from .activations import make_activation
from .tied import TiedLinear


def build_mlp(n_features: int, hidden: tuple[int, ...], latent: int, activation: str,
              tied: bool) -> tuple[nn.Sequential, nn.Sequential]:
    """Encoder D -> hidden... -> latent (ending with the dense layer to the code units, before any
    bottleneck) and the mirrored decoder latent -> ...hidden -> D (logits).

    Example
    -------
    >>> enc, dec = build_mlp(784, (256,), 32, "relu", tied=False)
    """
    widths = [n_features, *hidden, latent]
    encoder_linears = [nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])]
    encoder = nn.Sequential()
    for i, layer in enumerate(encoder_linears):
        encoder.append(layer)
        if i < len(encoder_linears) - 1:
            encoder.append(make_activation(activation))

    decoder = nn.Sequential()
    for i, source in enumerate(reversed(encoder_linears)):
        decoder.append(TiedLinear(source) if tied else nn.Linear(source.out_features, source.in_features))
        if i < len(encoder_linears) - 1:
            decoder.append(make_activation(activation))
    return encoder, decoder
