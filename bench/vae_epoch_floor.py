"""How fast can one epoch of issue 4's VAE be on this machine? The matrix products' share of it.

The network of bench/pythae_speed.py (784-512-256-16 MLP, mirrored decoder, batch 128, 4,000 rows):
each layer's three matrix products of a training step (forward with bias; backward: the weight
gradient and, above the first layer, the input gradient) are timed alone at batch 128, and summed
over an epoch's 32 steps. Printed beside the time of an aekit epoch (marginal: (T(3E) - T(E)) / 2E,
fixed costs cancelled) and the epoch that 1.4x pythae's measured speed would need; and a
hand-written loop with aekit's fused Adam, its steps timed in three parts (forward, backward, Adam),
with autograd's graph and with each dense ReLU stack as one autograd node whose backward is derived
by hand (fewer nodes, the ReLU mask applied in place): does the autograd engine cost the difference?

Run: python bench/vae_epoch_floor.py [--epochs 4] [--pythae-seconds 0.80]
"""

import argparse
import math
import time

import torch
from torch.nn import functional as F

from _machine import describe, matmul_peak_gflops
from aekit import VariationalAutoencoder
from aekit.datasets import load
from vae import LATENT, WIDTHS, _mlp

BATCH = 128


def _best_seconds(product, repeats=200):
    for _ in range(10):
        product()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeats):
            product()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def layer_products(n_in, n_out, first):
    """(seconds, flops) of one training step's matrix products of a dense layer n_in -> n_out."""
    x, w, b, g = torch.rand(BATCH, n_in), torch.randn(n_out, n_in), torch.randn(n_out), torch.randn(BATCH, n_out)
    products = [lambda: torch.addmm(b, x, w.t()), lambda: g.t().mm(x)] + ([] if first else [lambda: g.mm(w)])
    return sum(_best_seconds(p) for p in products), 2 * BATCH * n_in * n_out * len(products)


def aekit_marginal_epoch(X, epochs):
    def run(n):
        start = time.perf_counter()
        VariationalAutoencoder(hidden=WIDTHS[1:], latent=LATENT, epochs=n, validation_fraction=0, random_state=0,
                               device="cpu", verbose=False).fit(X)
        return time.perf_counter() - start
    run(1)  # warm-up
    return (run(3 * epochs) - run(epochs)) / (2 * epochs)


class DenseStack(torch.autograd.Function):
    """relu(x W1^T + b1) ... then x Wn^T + bn, as one autograd node with a hand-derived backward."""

    @staticmethod
    def forward(ctx, x, *weights_and_biases):
        weights = weights_and_biases[0::2]
        inputs, h = [], x
        for i, (w, b) in enumerate(zip(weights, weights_and_biases[1::2])):
            inputs.append(h)
            h = torch.addmm(b, h, w.t())
            if i < len(weights) - 1:
                h.clamp_min_(0)
        ctx.save_for_backward(*inputs, *weights)
        return h

    @staticmethod
    def backward(ctx, g):
        n = len(ctx.saved_tensors) // 2
        inputs, weights = ctx.saved_tensors[:n], ctx.saved_tensors[n:]
        grads = [None] * (2 * n)
        for i in range(n - 1, -1, -1):
            grads[2 * i], grads[2 * i + 1] = g.t().mm(inputs[i]), g.sum(0)
            if i > 0:
                g = g.mm(weights[i]).masked_fill_(inputs[i] <= 0, 0)
        return (None, *grads)


def _one_node(stack):
    weights_and_biases = list(stack.parameters())
    return lambda x: DenseStack.apply(x, *weights_and_biases)


def step_parts(X, epochs, one_node):
    """Milliseconds per step of (forward, backward, Adam) in a hand-written fused-Adam loop."""
    X = torch.from_numpy(X)
    torch.manual_seed(0)
    encoder, decoder = _mlp((*WIDTHS, 2 * LATENT)), _mlp((LATENT, *WIDTHS[::-1]))
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3, fused=True)
    if one_node:
        encoder, decoder = _one_node(encoder), _one_node(decoder)
    parts, steps = [0.0, 0.0, 0.0], 0
    for epoch in range(epochs + 1):  # the first is a warm-up
        order = torch.randperm(len(X))
        for start in range(0, len(X), BATCH):
            x = X[order[start:start + BATCH]]
            t0 = time.perf_counter()
            mu, logvar = encoder(x).chunk(2, -1)
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
            recon = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").sum(1)
            loss = (recon + 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1)).mean()
            t1 = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            t2 = time.perf_counter()
            optimizer.step()
            t3 = time.perf_counter()
            if epoch:
                parts = [total + t for total, t in zip(parts, (t1 - t0, t2 - t1, t3 - t2))]
                steps += 1
    return [1e3 * total / steps for total in parts]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--pythae-seconds", type=float, default=None,
                        help="pythae's s/epoch from bench/pythae_speed.py, for the epoch 1.4x of it needs")
    args = parser.parse_args()
    X = load("mnist5k", split="train").data
    steps = math.ceil(len(X) / BATCH)
    encoder = list(zip(WIDTHS[:-1], WIDTHS[1:])) + [(WIDTHS[-1], 2 * LATENT)]
    decoder = [(LATENT, WIDTHS[-1])] + [(a, b) for b, a in zip(WIDTHS[:-1], WIDTHS[1:])][::-1]
    seconds = flops = 0.0
    print(f"machine: {describe()}")
    print(f"{'layer':>12s} {'GFLOP/s':>8s}  (batch {BATCH}: forward + weight gradient + input gradient)")
    for i, (n_in, n_out) in enumerate(encoder + decoder):
        s, f = layer_products(n_in, n_out, first=i == 0)
        seconds, flops = seconds + s, flops + f
        print(f"{f'{n_in}-{n_out}':>12s} {f / s / 1e9:8.1f}")
    peak = matmul_peak_gflops()
    epoch = aekit_marginal_epoch(X, args.epochs)
    print(f"fp32 matmul peak (2048 x 2048): {peak:.1f} GFLOP/s; an epoch is {steps * flops / 1e9:.1f} GFLOP "
          f"in {steps} steps")
    print(f"an epoch's matrix products: {steps * seconds:.3f} s at the layers' own rates, "
          f"{steps * flops / peak / 1e9:.3f} s at the peak")
    print(f"aekit epoch (marginal, {args.epochs} to {3 * args.epochs} epochs): {epoch:.3f} s; matrix products "
          f"{steps * seconds / epoch:.0%} of it, everything else {epoch - steps * seconds:.3f} s")
    for one_node in (False, True):
        forward, backward, adam = step_parts(X, args.epochs, one_node)
        print(f"hand-written fused-Adam loop, {'one node per stack' if one_node else 'autograd graph':18s}, ms per "
              f"step: forward {forward:.2f}, backward {backward:.2f}, Adam {adam:.2f} (an epoch: "
              f"{steps * (forward + backward + adam) / 1e3:.3f} s)")
    print(f"an epoch's matrix products alone, ms per step: {1e3 * seconds:.2f}")
    if args.pythae_seconds:
        print(f"1.4x pythae ({args.pythae_seconds:.3f} s/epoch) needs an epoch of {args.pythae_seconds / 1.4:.3f} s")


if __name__ == "__main__":
    main()
