"""Class conditioning of a decoder, a generator or a discriminator (a conditional VAE or GAN).

A network conditioned on a class gets it as a one-hot vector beside its input. Added to the output
of the network's first (dense) layer, a learned vector per class is exactly that extra input
(:class:`ClassShift`); added after a batch normalisation instead, it is the class-dependent bias of
conditional batch normalisation, where the batch statistics cannot wash it out (a GAN's generator).
A discriminator compares its last features with a learned vector per class (:class:`ClassProjection`,
the projection discriminator of Miyato and Koyama 2018), which judges whether a row fits its class,
where a class given as an input only shifts the logit. It may also name the class of a row from the
same features (an auxiliary classifier, AC-GAN of Odena et al. 2017), which a generator can be
rewarded by for drawing rows of the class it was asked for.
"""

from collections.abc import Sequence

import torch
from torch import nn

# Standard deviation of the class vectors at the start. Started at zero, a conditional VAE's decoder
# first learns to read the class from the code and then all but ignores y (mnist5k, 30 epochs: 27% of
# sample(n, y=c) classified as c); started this strong it relies on y from the first step (99.6%,
# 100 samples per class; 1: 85%, 3: 97%). bench/conditional.py measures it.
CLASS_VECTOR_STD = 5.0


def _require(y: torch.Tensor | None) -> torch.Tensor:
    if y is None:
        raise ValueError("a conditional network needs the class index of every row (y)")
    return y


class ClassShift(nn.Module):
    """Learned vectors per class added inside a network: after its first ``positions[0]`` modules
    (by default after its first dense layer), then after its first ``positions[1]``, and so on; one
    value per channel for image-shaped outputs.

    Parameters
    ----------
    n_classes : int
    widths : sequence of int
        Outputs (channels) of ``network[:position]`` for each position.
    positions : sequence of int, increasing
    std : float
        Standard deviation of the class vectors at the start.

    Example
    -------
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> ClassShift(10, [8]).run(net, torch.zeros(2, 4), torch.tensor([1, 7])).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_classes: int, widths: Sequence[int], positions: Sequence[int] = (1,),
                 std: float = CLASS_VECTOR_STD):
        super().__init__()
        self.n_classes = n_classes
        self.positions = tuple(positions)
        self.shifts = nn.ModuleList(nn.Embedding(n_classes, width) for width in widths)
        for shift in self.shifts:
            nn.init.normal_(shift.weight, std=std)

    def run(self, network: nn.Sequential, inputs: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """``network(inputs)`` with the outputs at ``positions`` shifted by each row's class vectors."""
        y = _require(y)
        hidden, start = inputs, 0
        for position, shift in zip(self.positions, self.shifts):
            hidden = network[start:position](hidden)
            vectors = shift(y)
            hidden = hidden + vectors.view(*vectors.shape, *([1] * (hidden.dim() - 2)))
            start = position
        return network[start:](hidden)


class ClassProjection(nn.Module):
    """A discriminator's logit plus the inner product of its last features with a vector per class;
    with ``auxiliary=True`` also class logits from the same features (an auxiliary classifier).

    Example
    -------
    >>> disc = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    >>> ClassProjection(10, 8).run(disc, torch.zeros(2, 4), torch.tensor([1, 7])).shape
    torch.Size([2])
    >>> logits, classes = ClassProjection(10, 8, auxiliary=True).judge(disc, torch.zeros(2, 4), torch.tensor([1, 7]))
    >>> classes.shape
    torch.Size([2, 10])
    """

    def __init__(self, n_classes: int, width: int, auxiliary: bool = False):
        super().__init__()
        self.n_classes = n_classes
        self.embedding = nn.Embedding(n_classes, width)
        nn.init.zeros_(self.embedding.weight)
        # registered only when asked: files saved without the classifier keep their weights' names
        self.classifier = nn.Linear(width, n_classes) if auxiliary else None

    def judge(self, discriminator: nn.Sequential, x: torch.Tensor,
              y: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (N,): ``discriminator(x)`` plus <embedding(y), features before the last layer>; and
        the auxiliary classifier's class logits (N, n_classes) of the same features, or None."""
        features = discriminator[:-1](x)
        logits = discriminator[-1](features).squeeze(1) + (self.embedding(_require(y)) * features).sum(1)
        return logits, None if self.classifier is None else self.classifier(features)

    def run(self, discriminator: nn.Sequential, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """The logits (N,) of :meth:`judge`."""
        return self.judge(discriminator, x, y)[0]


def output_width(network: nn.Sequential, in_features: int, position: int = 1) -> int:
    """Outputs (channels) of ``network[:position]`` for inputs of ``in_features`` values, found by a
    pass in eval mode (batch normalisation's running statistics stay as they are)."""
    was_training = network.training
    network.eval()
    with torch.no_grad():
        width = network[:position](torch.zeros(1, in_features)).shape[1]
    network.train(was_training)
    return width
