"""Training throughput of aekit's loop against a plain hand-written PyTorch loop.

Both train the same 784-512-256-16-256-512-784 ReLU autoencoder (sigmoid output, squared error,
Adam, batch 128) on the 5,000 MNIST digits, in the same process, alternating runs; the median of
each is reported in samples/s, with their ratio and the achieved GFLOP/s against this machine's
measured 2048x2048 fp32 matmul peak.

Run: python bench/throughput.py [--epochs 3] [--repeats 5] [--batch-size 128]
"""

import argparse
import statistics
import time

import torch
from _machine import describe, matmul_peak_gflops
from torch import nn

from aekit import Autoencoder
from aekit.datasets import load

WIDTHS = (784, 512, 256, 16)


def plain_loop(X, epochs, batch_size, seed):
    """What a user would write by hand: the same network, default Adam, slicing a tensor."""
    torch.manual_seed(seed)
    layers = []
    pairs = list(zip(WIDTHS[:-1], WIDTHS[1:]))
    for i, (a, b) in enumerate(pairs):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(pairs) - 1 else [])
    for i, (b, a) in enumerate(reversed(pairs)):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(pairs) - 1 else [nn.Sigmoid()])
    model = nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            batch = X[order[start:start + batch_size]]
            loss = (model(batch) - batch).square().sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
    return total / len(X)


def aekit_fit(X, epochs, batch_size, seed):
    Autoencoder(hidden=WIDTHS[1:-1], latent=WIDTHS[-1], scale=None, epochs=epochs, batch_size=batch_size,
                validation_fraction=0, random_state=seed, device="cpu").fit(X)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    X = load("mnist5k").data
    X_tensor = torch.from_numpy(X)
    samples = args.epochs * len(X)
    times = {"aekit": [], "plain": []}
    aekit_fit(X, 1, args.batch_size, 0)  # warm-up: thread pools, allocator
    plain_loop(X_tensor, 1, args.batch_size, 0)
    for repeat in range(args.repeats):
        for name in (("aekit", "plain") if repeat % 2 == 0 else ("plain", "aekit")):
            start = time.perf_counter()
            if name == "aekit":
                aekit_fit(X, args.epochs, args.batch_size, repeat)
            else:
                plain_loop(X_tensor, args.epochs, args.batch_size, repeat)
            times[name].append(time.perf_counter() - start)

    layer_macs = [a * b for a, b in zip(WIDTHS[:-1], WIDTHS[1:])]
    macs = 2 * sum(layer_macs)  # encoder + mirrored decoder
    # forward 2 flops per multiply-accumulate, backward 2 for weight gradients and 2 for input
    # gradients, except the first layer whose input (the data) needs no gradient
    flops_per_sample = 6 * macs - 2 * layer_macs[0]
    peak = matmul_peak_gflops()
    print(f"machine: {describe()}")
    print(f"network {'-'.join(map(str, WIDTHS + WIDTHS[-2::-1]))}, batch {args.batch_size}, "
          f"{args.epochs} epochs x {len(X)} rows, median of {args.repeats} alternated runs")
    rates = {}
    for name, values in times.items():
        rates[name] = samples / statistics.median(values)
        gflops = rates[name] * flops_per_sample / 1e9
        print(f"{name:6s} {rates[name]:10.0f} samples/s  {gflops:7.1f} GFLOP/s  "
              f"({100 * gflops / peak:.0f}% of the {peak:.0f} GFLOP/s fp32 matmul peak)")
    print(f"ratio aekit / plain: {rates['aekit'] / rates['plain']:.2f}x")


if __name__ == "__main__":
    main()
