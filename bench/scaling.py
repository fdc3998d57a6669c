"""How aekit's training time grows with the number of rows and with the width of the network.

Rows: the 784-512-256-16 autoencoder at batch 1024 on generated data (784 columns of rank-16
structure squashed into [0, 1]) of 5k, 50k and 200k rows (1M with ``--max-rows 1000000``: 3.1 GB of
float32); a least-squares line through (rows, seconds per epoch) gives the time per row and R^2.
Widths: hidden (w, w/2) for w in 256, 512, 1024, 2048 on ``--width-rows`` rows. Times are those of
the training loop's epochs (``history_``), the first epoch of each fit dropped as a warm-up; GFLOP/s
counts 6 x the weights per sample, less 2 x the first layer's (the data needs no gradient), against
this machine's 2048x2048 fp32 matmul peak, measured again after each row.

Run: python bench/scaling.py [--max-rows 200000] [--epochs 2] [--width-rows 50000]
"""

import argparse
import statistics

import numpy as np
import torch

from _machine import describe, matmul_peak_gflops
from aekit import Autoencoder

ROWS = (5_000, 50_000, 200_000, 1_000_000)
WIDTHS = (256, 512, 1024, 2048)
BATCH_SIZE = 1024


def generated(rows, columns=784, rank=16, chunk=100_000, seed=0):
    """Rows of sigmoid(Z W) with Z (rows, rank) and W (rank, columns) Gaussian: in [0, 1], of low rank."""
    generator = torch.Generator().manual_seed(seed)
    weights = torch.randn(rank, columns, generator=generator)
    X = torch.empty(rows, columns)
    for start in range(0, rows, chunk):  # in chunks: no second full-size temporary at 1M rows
        end = min(start + chunk, rows)
        torch.sigmoid(torch.randn(end - start, rank, generator=generator) @ weights, out=X[start:end])
    return X.numpy()


def seconds_per_epoch(X, hidden, epochs):
    fitted = Autoencoder(hidden=hidden, latent=16, scale=None, validation_fraction=0, epochs=epochs + 1,
                         batch_size=BATCH_SIZE, random_state=0, device="cpu").fit(X)
    return statistics.median(record["time"] for record in fitted.history_[1:])


def size(widths):
    """Parameters and training FLOPs per sample of the encoder ``widths`` with its mirrored decoder."""
    weights = [a * b for a, b in zip(widths[:-1], widths[1:])]
    return 2 * sum(weights) + sum(widths[1:]) + sum(widths[:-1]), 6 * 2 * sum(weights) - 2 * weights[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per fit (after one warm-up epoch)")
    parser.add_argument("--width-rows", type=int, default=50_000)
    args = parser.parse_args()
    peak = matmul_peak_gflops()
    print(f"machine: {describe()}; fp32 matmul peak {peak:.0f} GFLOP/s")
    print(f"batch {BATCH_SIZE}, median of {args.epochs} epochs after a warm-up epoch\n")

    print("| rows | s/epoch | us/row | samples/s |")
    print("|---|---|---|---|")
    rows = [n for n in ROWS if n <= args.max_rows]
    seconds = []
    for n in rows:
        seconds.append(seconds_per_epoch(generated(n), (512, 256), args.epochs))
        print(f"| {n:,} | {seconds[-1]:.2f} | {1e6 * seconds[-1] / n:.1f} | {n / seconds[-1]:,.0f} |", flush=True)
    if len(rows) > 2:  # two points always lie on a line
        slope, intercept = np.polyfit(rows, seconds, 1)
        residual = np.array(seconds) - np.polyval([slope, intercept], rows)
        r2 = 1 - np.sum(residual**2) / np.sum((np.array(seconds) - np.mean(seconds)) ** 2)
        print(f"\nline through the rows: {1e6 * slope:.1f} us/row + {intercept:.2f} s, R^2 = {r2:.4f}")
    print()

    X = generated(args.width_rows)
    print(f"| hidden | parameters | s/epoch ({args.width_rows:,} rows) | samples/s | GFLOP/s | % of fp32 peak |")
    print("|---|---|---|---|---|---|")
    for width in WIDTHS:
        hidden = (width, width // 2)
        t = seconds_per_epoch(X, hidden, args.epochs)
        widths = [784, *hidden, 16]
        parameters, flops = size(widths)
        gflops = len(X) / t * flops / 1e9
        peak = matmul_peak_gflops()  # measured again by each row: other jobs come and go
        print(f"| {'-'.join(map(str, widths))} | {parameters:,} | {t:.2f} | {len(X) / t:,.0f} | {gflops:.1f} | "
              f"{100 * gflops / peak:.0f}% of {peak:.0f} |", flush=True)


if __name__ == "__main__":
    main()
