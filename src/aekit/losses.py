"""Loss terms. Every term is per example (summed over features), so that the BCE term is a negative
log-likelihood in nats and squared error is the "error per image" used in the literature."""

import math
from collections.abc import Callable, Mapping

import torch
from torch.nn import functional as F

OUTPUT_ACTIVATIONS = ("sigmoid", "linear")
RECONSTRUCTION_LOSSES = ("mse", "bce")


def output_transform(logits: torch.Tensor, output_activation: str) -> torch.Tensor:
    """Decoder logits -> reconstructions in the (scaled) data space."""
    return torch.sigmoid(logits) if output_activation == "sigmoid" else logits


def reconstruction_loss_from_logits(logits: torch.Tensor, target: torch.Tensor, loss: str,
                                    output_activation: str = "sigmoid",
                                    log_sigma: torch.Tensor | None = None) -> torch.Tensor:
    """Per-row reconstruction loss (..., N) of rows ``target`` (N, D) from decoder logits (..., N, D).

    ``"mse"``: squared error of the reconstructions; ``"bce"``: binary cross-entropy, the negative
    log-likelihood of a Bernoulli with these logits; ``"gaussian"``: the negative log-likelihood of a
    Gaussian with mean ``logits`` and standard deviation exp(``log_sigma``) (a scalar or one per
    feature). BCE is computed from the logits (numerically stable, no clamping of probabilities), and
    all in float32 also under mixed precision: a sum over hundreds of features in bfloat16 loses digits.
    """
    logits = logits.float()
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(logits, target.expand_as(logits), reduction="none").sum(-1)
    if loss == "gaussian":
        return -gaussian_log_density(target, logits, 2 * log_sigma.expand_as(logits))
    return (output_transform(logits, output_activation) - target).square().sum(-1)


def total_loss(terms: Mapping[str, torch.Tensor], weights: Mapping[str, float] | None = None) -> torch.Tensor:
    """The weighted sum of named loss terms; a term without a weight counts once."""
    weights = weights or {}
    return sum(weights.get(name, 1.0) * value for name, value in terms.items())


SPARSITY_KINDS = ("l1", "kl", "squared")
# Relative to a reconstruction term summed over the features of one example.
# Chosen with bench/sparse.py (see BENCHMARKS.md): they reach its targets on MNIST at 20-30 epochs.
DEFAULT_SPARSITY_WEIGHT = {"l1": 0.02, "kl": 3.0, "squared": 10.0}
_EPS = 1e-6


def sparsity_penalty(code: torch.Tensor, kind: str, target: float) -> torch.Tensor:
    """Sparsity of a batch of codes (N, k).

    ``"l1"``: sum_j |h_j| per example, batch mean. ``"kl"``: sum_j KL(p || q_j), with q_j the batch
    mean activation of unit j (units in (0, 1)) and p the target. ``"squared"``: sum_j (p - q_j)^2.
    """
    if kind == "l1":
        return code.abs().sum(1).mean()
    q = code.mean(0).clamp(_EPS, 1 - _EPS)
    if kind == "kl":
        p = target
        kl = p * torch.log(p / q)
        if p < 1:  # at p = 1 (sparsity_target allows it) the second term is 0 log 0 = 0, not NaN
            kl = kl + (1 - p) * torch.log((1 - p) / (1 - q))
        return kl.sum()
    return (target - q).square().sum()


def jacobian_norm(code: torch.Tensor, x: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Per-example sum over ``directions`` of ||J^T v||^2 where J = d code / d x.

    ``directions`` (m, N, k) are code-space vectors: the k unit vectors give ||J||_F^2 exactly; m
    Gaussian vectors, divided by m, give an unbiased estimate of it. All m vector-Jacobian products
    run as one batched backward pass (no Python loop over units or examples).
    """
    (vjps,) = torch.autograd.grad(code, x, directions, create_graph=True, is_grads_batched=True)
    return vjps.flatten(2).square().sum(2).sum(0)


def encoder_jacobian_norm(encode: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                          n_projections: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """||J||_F^2 per row (N,) of J = d encode(x) / d x, differentiable (a penalty can train on it).

    Exact by default (the k code directions); with ``n_projections``, the unbiased estimate from that
    many Gaussian directions drawn from ``generator``. The code is computed again from a copy of ``x``
    that requires gradients, with gradients on also where the caller has them off.

    Example
    -------
    >>> x = torch.randn(5, 3)
    >>> float(encoder_jacobian_norm(lambda v: 2 * v, x)[0])  # J = 2 I: ||J||^2 = 4 * 3
    12.0
    """
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        code = encode(x)
        n, k = code.shape
        if n_projections is None:
            directions = torch.eye(k, device=code.device, dtype=code.dtype)[:, None, :].expand(k, n, k)
        else:
            directions = torch.randn((n_projections, n, k), generator=generator, device=code.device,
                                     dtype=code.dtype) / math.sqrt(n_projections)
        return jacobian_norm(code, x, directions)


def one_layer_jacobian_norm(pre_activation: torch.Tensor, weight: torch.Tensor,
                            activation: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """||J||_F^2 per example for code = activation(x W^T + b): sum_j s'(a_j)^2 ||W_j||^2.

    s' is taken by autograd of the elementwise activation (its gradient of the sum is the
    elementwise derivative), so any elementwise activation works and no Jacobian is built.
    """
    if not pre_activation.requires_grad:  # frozen weights and input: no graph to differentiate, make one
        pre_activation = pre_activation.detach().requires_grad_(True)
    (slope,) = torch.autograd.grad(activation(pre_activation).sum(), pre_activation, create_graph=True)
    return slope.square() @ weight.square().sum(1)


LOG_2PI = math.log(2 * math.pi)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per example, summed over latent dimensions, in nats."""
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(-1)


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, exp(logvar)) summed over the last dimension."""
    return -0.5 * (LOG_2PI + logvar + (z - mu).square() / logvar.exp()).sum(-1)
