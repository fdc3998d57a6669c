"""Convolutional encoder/decoder pairs for images given as flat rows of an (C, H, W) shape."""

import torch
from torch import nn

from .activations import make_activation
from .gdn import CHANNEL_ACTIVATIONS, make_channel_activation
from .tied import TiedConvTranspose2d, TiedLinear

_KERNEL, _STRIDE, _PADDING = 3, 2, 1


def _halved(size):
    # Conv2d(k=3, s=2, p=1) output size; the decoder undoes it with output_padding.
    return (size - 1) // _STRIDE + 1


def _nonlinearity(activation, channels, inverse):
    if activation in CHANNEL_ACTIVATIONS:
        return make_channel_activation(activation, channels, inverse)
    return make_activation(activation)


class ResidualBlock(nn.Module):
    """``x + conv(nonlinearity(conv(x)))`` with 3x3 stride-1 convolutions of ``channels`` filters: a
    decoder stage made deeper without changing its maps' size.

    Example
    -------
    >>> ResidualBlock(8, "relu")(torch.zeros(2, 8, 7, 7)).shape
    torch.Size([2, 8, 7, 7])
    """

    def __init__(self, channels: int, activation: str):
        super().__init__()
        self.first = nn.Conv2d(channels, channels, _KERNEL, 1, _PADDING)
        self.nonlinearity = _nonlinearity(activation, channels, inverse=True)
        self.second = nn.Conv2d(channels, channels, _KERNEL, 1, _PADDING)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.second(self.nonlinearity(self.first(x)))


def build_conv(image_shape: tuple[int, int, int], channels: tuple[int, ...], latent: int, activation: str,
               tied: bool, decoder_blocks: int = 0) -> tuple[nn.Sequential, nn.Sequential]:
    """Stride-2 convolutions with ``channels`` filters each, then a dense layer to the code units
    (before any bottleneck); mirrored back to logits.

    ``activation`` may also be one of ``aekit.nn.gdn.CHANNEL_ACTIVATIONS`` ("gdn"): GDN after each
    convolution, inverse GDN in the decoder (on the dense layer's maps and after each transposed
    convolution but the last). ``decoder_blocks`` residual blocks (:class:`ResidualBlock`) follow
    each of the decoder's nonlinearities, at each size of maps but the image's.

    Example
    -------
    >>> enc, dec = build_conv((1, 28, 28), (32, 64), 16, "relu", tied=False)
    """
    c_in, height, width = image_shape
    sizes = [(height, width)]
    convs = []
    for c_prev, c_next in zip([c_in, *channels[:-1]], channels):
        convs.append(nn.Conv2d(c_prev, c_next, _KERNEL, _STRIDE, _PADDING))
        sizes.append(tuple(_halved(s) for s in sizes[-1]))
    last_shape = (channels[-1], *sizes[-1])
    flat = channels[-1] * sizes[-1][0] * sizes[-1][1]
    to_code = nn.Linear(flat, latent)

    encoder = nn.Sequential(nn.Unflatten(1, tuple(image_shape)))
    for conv in convs:
        encoder.extend([conv, _nonlinearity(activation, conv.out_channels, inverse=False)])
    encoder.extend([nn.Flatten(), to_code])

    from_code = TiedLinear(to_code) if tied else nn.Linear(latent, flat)
    if activation in CHANNEL_ACTIVATIONS:
        # a channel nonlinearity needs the maps, so it comes after the unflattening
        decoder = nn.Sequential(from_code, nn.Unflatten(1, last_shape),
                                make_channel_activation(activation, channels[-1], inverse=True))
    else:
        decoder = nn.Sequential(from_code, make_activation(activation), nn.Unflatten(1, last_shape))
    decoder.extend([ResidualBlock(channels[-1], activation) for _ in range(decoder_blocks)])
    for i, conv in reversed(list(enumerate(convs))):
        target, given = sizes[i], sizes[i + 1]
        output_padding = tuple(t - (_STRIDE * (g - 1) - 2 * _PADDING + _KERNEL) for t, g in zip(target, given))
        decoder.append(
            TiedConvTranspose2d(conv, output_padding) if tied else nn.ConvTranspose2d(
                conv.out_channels, conv.in_channels, _KERNEL, _STRIDE, _PADDING, output_padding)
        )
        if i > 0:
            decoder.append(_nonlinearity(activation, conv.in_channels, inverse=True))
            decoder.extend([ResidualBlock(conv.in_channels, activation) for _ in range(decoder_blocks)])
    decoder.append(nn.Flatten())
    return encoder, decoder


def build_conv_pool(image_shape: tuple[int, int, int], channels: tuple[int, ...], latent: int, activation: str,
                    tied: bool) -> tuple[nn.Sequential, nn.Sequential]:
    """Stages of a 3x3 convolution (stride 1, ``channels`` filters each) and a 2x2 max-pool, then a
    dense layer to the code units; the decoder mirrors each stage with a nearest-neighbour upsampling
    back to the stage's input size and a 3x3 convolution.

    Max-pooling keeps the strongest response in each window, which small image classifiers
    learn from better than stride-2 convolutions. Weights cannot be tied (a max-pool has no transpose
    with weights to share).

    Example
    -------
    >>> enc, dec = build_conv_pool((1, 28, 28), (32, 64), 16, "relu", tied=False)
    """
    if tied:
        raise ValueError("arch='conv-pool' cannot tie its decoder's weights to the encoder's; use tied=False "
                         "or arch='conv'")
    c_in, height, width = image_shape
    sizes = [(height, width)]
    encoder = nn.Sequential(nn.Unflatten(1, tuple(image_shape)))
    for c_prev, c_next in zip([c_in, *channels[:-1]], channels):
        encoder.extend([nn.Conv2d(c_prev, c_next, _KERNEL, 1, _PADDING), make_activation(activation),
                        nn.MaxPool2d(2)])
        sizes.append(tuple(s // 2 for s in sizes[-1]))
    flat = channels[-1] * sizes[-1][0] * sizes[-1][1]
    encoder.extend([nn.Flatten(), nn.Linear(flat, latent)])

    decoder = nn.Sequential(nn.Linear(latent, flat), make_activation(activation),
                            nn.Unflatten(1, (channels[-1], *sizes[-1])))
    for i in reversed(range(len(channels))):
        # upsampling to the stored size undoes the floor of an odd side's pooling
        decoder.extend([nn.Upsample(size=sizes[i]), nn.Conv2d(channels[i], [c_in, *channels][i], _KERNEL, 1, _PADDING)])
        if i > 0:
            decoder.append(make_activation(activation))
    decoder.append(nn.Flatten())
    return encoder, decoder
