"""The classifier's network: an encoder that gives features, then dense blocks and a linear layer.

Every dense block starts by standardising its input features (statistics of every row's features,
labelled or not), so that training the layers above does not depend on the scale of the encoder.
A classifier whose features serve another classifier lends it its encoder and the first block of
its head, which is how the blocks of earlier classifiers stack up in a layout.
"""

import torch
from torch import nn
from torch.nn import functional as F

from ...datasets.scaling import ScalingLayer
from ...nn import make_activation


class ClassifierNet(nn.Module):
    """``encoder`` (N, D) -> (N, width) features, ``head`` features -> (N, n_classes) logits.

    Training batches are ``(scaled rows, class indices)``.

    Example
    -------
    >>> net = ClassifierNet(nn.Identity(), nn.Linear(4, 3))
    >>> sorted(net.loss_terms(torch.zeros(2, 4), torch.tensor([0, 2])))
    ['cross_entropy', 'error']
    """

    def __init__(self, encoder: nn.Module, head: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))

    def loss_terms(self, inputs: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        logits = self(inputs)
        return {"cross_entropy": F.cross_entropy(logits, target),
                "error": (logits.argmax(1) != target).float().mean()}


def dense_block(width: int, hidden: tuple[int, ...], activation: str) -> tuple[nn.Sequential, int]:
    """Standardisation of ``width`` features, then dense layers of widths ``hidden``, each followed
    by ``activation``; returns the block and the width of its output.

    Example
    -------
    >>> block, width = dense_block(8, (5,), "relu")
    >>> [type(m).__name__ for m in block], width
    (['ScalingLayer', 'Linear', 'ReLU'], 5)
    """
    block = nn.Sequential(ScalingLayer(width))
    for out in hidden:
        block.extend([nn.Linear(width, out), make_activation(activation)])
        width = out
    return block, width


@torch.no_grad()
def output_width(module: nn.Module, n_features: int) -> int:
    """Width of the features ``module`` computes from rows of ``n_features`` (one row is run).

    Example
    -------
    >>> output_width(nn.Linear(6, 4), 6)
    4
    """
    device = next(module.parameters(), torch.empty(0)).device
    was_training = module.training
    module.eval()  # batch normalisation cannot take a batch of one in training mode
    try:
        out = module(torch.zeros(1, n_features, device=device))
    except Exception as exc:
        raise ValueError(f"encoder: the module fails on rows of {n_features} features ({exc})") from None
    finally:
        module.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        raise ValueError(f"encoder: the module must map (n_samples, {n_features}) rows to (n_samples, width) "
                         f"features; it returned {getattr(out, 'shape', type(out).__name__)}")
    return out.shape[1]


def classifier_net(first: nn.Module, blocks: list[tuple[tuple[int, ...], str]], head: tuple[int, ...],
                   activation: str, n_features: int, n_classes: int) -> ClassifierNet:
    """The network of the features of ``first`` (rows of ``n_features`` -> features), the dense
    ``blocks`` ((widths, activation) each) stacked on it, and a head of hidden widths ``head`` with
    ``activation`` and ``n_classes`` outputs.

    Example
    -------
    >>> net = classifier_net(nn.Linear(6, 4), [((5,), "tanh")], (), "relu", 6, 3)
    >>> net(torch.zeros(2, 6)).shape
    torch.Size([2, 3])
    """
    parts, width = [first], output_width(first, n_features)
    for hidden, block_activation in blocks:
        block, width = dense_block(width, hidden, block_activation)
        parts.append(block)
    hidden_block, width = dense_block(width, head, activation)
    return ClassifierNet(nn.Sequential(*parts), nn.Sequential(hidden_block, nn.Linear(width, n_classes)))


def weight_layers(module: nn.Module) -> list[nn.Module]:
    """The modules that hold weights of their own, in order: what ``freeze`` counts."""
    return [m for m in module.modules() if next(m.parameters(recurse=False), None) is not None]


def frozen_parameters(encoder: nn.Module, freeze: bool | int) -> list[nn.Parameter]:
    """The parameters of the first ``freeze`` layers with weights of ``encoder`` (all for True).

    Example
    -------
    >>> len(frozen_parameters(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 2)), 1))
    2
    """
    layers = weight_layers(encoder)
    n_frozen = len(layers) if freeze is True else int(freeze)
    if n_frozen > len(layers):
        raise ValueError(f"freeze={freeze} but the encoder has {len(layers)} layers with weights")
    return [q for layer in layers[:n_frozen] for q in layer.parameters(recurse=False)]


__all__ = ["ClassifierNet", "classifier_net", "dense_block", "frozen_parameters", "output_width",
           "weight_layers"]
