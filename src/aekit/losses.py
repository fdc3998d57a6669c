"""Loss terms. Every term is per example (summed over features), so that the BCE term is a negative
log-likelihood in nats and squared error is the "error per image" used in the literature."""

import torch
from torch.nn import functional as F

OUTPUT_ACTIVATIONS = ("sigmoid", "linear")
RECONSTRUCTION_LOSSES = ("mse", "bce")


def output_transform(logits, output_activation):
    """Decoder logits -> reconstructions in the (scaled) data space."""
    return torch.sigmoid(logits) if output_activation == "sigmoid" else logits


def reconstruction_error(logits, target, loss, output_activation):
    """Per-example reconstruction loss, shape (N,), from decoder logits.

    BCE is computed from the logits (numerically stable, no clamping of probabilities).
    """
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)
    return (output_transform(logits, output_activation) - target).square().sum(1)


def total_loss(terms, weights=None):
    """The weighted sum of named loss terms; a term without a weight counts once."""
    weights = weights or {}
    return sum(weights.get(name, 1.0) * value for name, value in terms.items())
