"""Alternating least squares for a linear autoencoder with a squared-error loss.

Gradient descent on a linear autoencoder slows to a crawl where PCA's eigenvalues are close, and
stops degrees away from the subspace it should find. Alternating least squares (Roweis 1998, EM for
PCA in the zero-noise limit) minimises the same loss exactly in turns: with the decoder fixed, the
best encoder is its pseudo-inverse; with those codes fixed, the best decoder is a least-squares fit.
Neither step can raise the loss, and the decoder's span converges to PCA's leading subspace at the
rate lambda_{k+1} / lambda_k per step, without ever computing an eigenvector. Each step works on the
D x D second-moment matrix, so its cost does not grow with the rows.
"""

import math
import time

import torch
from torch import nn

# A step that turns the decoder's span by less than this (radians) has converged.
CONVERGED_RADIANS = 1e-10


def _basis(decoder_weight):
    """An orthonormal basis (D, k) of the decoder's column span."""
    return torch.linalg.qr(decoder_weight).Q


def _mean_squared_error(X, mean, basis):
    """Mean over rows of the squared error of projecting ``X - mean`` onto ``basis``."""
    centred = X - mean
    return float((centred - (centred @ basis) @ basis.T).square().sum(1).mean())


def solve_linear_autoencoder(encoder: nn.Linear, decoder: nn.Linear, X: torch.Tensor, X_val: torch.Tensor | None,
                             max_steps: int) -> list[dict]:
    """Set ``encoder`` (D -> k) and ``decoder`` (k -> D) to the minimiser of the mean squared
    reconstruction error of the rows ``X``, starting from the decoder's current weights; at most
    ``max_steps`` steps, fewer once the decoder's span stops turning. Returns one history record per
    step (``recon``, ``loss``, ``val_*`` on ``X_val``, ``time``), as the Trainer does per epoch.
    """
    rows = X.double()
    mean = rows.mean(0)
    centred = rows - mean
    second_moment = centred.T @ centred / len(rows)  # (D, D): all a step needs of the rows
    weight = decoder.weight.detach().double()  # (D, k)
    basis = _basis(weight)
    history = []
    for step in range(max_steps):
        started = time.perf_counter()
        encoder_weight = torch.linalg.pinv(weight)  # (k, D): the best encoder for this decoder
        codes_by_rows = encoder_weight @ second_moment  # (k, D) = Z^T X / n
        codes_gram = codes_by_rows @ encoder_weight.T  # (k, k) = Z^T Z / n
        weight = torch.linalg.solve(codes_gram, codes_by_rows).T  # the best decoder for these codes
        new_basis = _basis(weight)
        # the largest angle between the old span and the new one, from its sine (exact for tiny angles,
        # where a cosine near 1 has no digits left)
        sine = torch.linalg.svdvals(new_basis - basis @ (basis.T @ new_basis)).max().clamp(max=1.0)
        turned = math.asin(float(sine))
        basis = new_basis
        loss = float(torch.trace(second_moment) - torch.trace(basis.T @ second_moment @ basis))
        record = {"epoch": step + 1, "recon": loss, "loss": loss}
        if X_val is not None and len(X_val):
            val = _mean_squared_error(X_val.double(), mean, basis)
            record.update(val_recon=val, val_loss=val)
        record["time"] = time.perf_counter() - started
        history.append(record)
        if turned < CONVERGED_RADIANS:
            break
    encoder_weight = torch.linalg.pinv(weight)
    with torch.no_grad():
        decoder.weight.copy_(weight)
        decoder.bias.copy_(mean)
        encoder.weight.copy_(encoder_weight)
        encoder.bias.copy_(-encoder_weight @ mean)
    return history
