"""Deep autoencoders on digits: joint training vs greedy pre-training + fine-tuning, tied and untied,
against PCA with as many components as the code.

The 784-1000-500-250-30 shape of Hinton and Salakhutdinov (2006). Prints the average squared
reconstruction error per test image (summed over the pixels, values in [0, 1]) and its ratio to
PCA's, with training times. The target: ``StackedAutoencoder`` with its defaults (greedy, tied)
reaches at most 0.7 of PCA's error on the 5,000 MNIST digits.

Run: python bench/stacked.py [--data mnist5k|fashion-mnist] [--train-rows N] [--epochs E]
"""

import argparse
import time

import numpy as np
from sklearn.decomposition import PCA

from _machine import describe
from aekit import Autoencoder, StackedAutoencoder
from aekit.datasets import load


def squared_error(reconstruction, X):
    return float(np.square(reconstruction - X).sum(1).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist5k")
    parser.add_argument("--train-rows", type=int, default=None, help="use the first N training rows")
    parser.add_argument("--epochs", type=int, default=None, help="fine-tuning/joint epochs (default: the model's)")
    args = parser.parse_args()

    train, test = load(args.data, split="train"), load(args.data, split="test")
    X, X_test = train.data[: args.train_rows], test.data
    pca = PCA(30, random_state=0).fit(X)
    pca_error = squared_error(pca.inverse_transform(pca.transform(X_test)), X_test)
    print(f"machine: {describe()}")
    print(f"data: {args.data}, {len(X)} training / {len(X_test)} test rows; 784-1000-500-250-30")
    print(f"{'model':44s} {'test err':>9s} {'/ PCA':>6s} {'train err':>9s} {'epochs':>7s} {'time s':>7s}")
    print(f"{'PCA, 30 components':44s} {pca_error:9.2f} {1.0:6.2f} "
          f"{squared_error(pca.inverse_transform(pca.transform(X)), X):9.2f}")
    extra = {} if args.epochs is None else {"epochs": args.epochs}
    models = {
        "StackedAutoencoder() defaults: greedy, tied": StackedAutoencoder(random_state=0, **extra),
        "greedy, untied": StackedAutoencoder(tied=False, random_state=0, **extra),
        "joint (no pre-training), tied": StackedAutoencoder(pretrain=None, random_state=0, **extra),
        "joint (no pre-training), untied": StackedAutoencoder(pretrain=None, tied=False, random_state=0, **extra),
        "shallow 784-256-30 Autoencoder": Autoencoder(hidden=(256,), latent=30, random_state=0, **extra),
    }
    for name, est in models.items():
        start = time.perf_counter()
        est.set_params(device="cpu").fit(X)
        seconds = time.perf_counter() - start
        error = squared_error(est.reconstruct(X_test), X_test)
        print(f"{name:44s} {error:9.2f} {error / pca_error:6.2f} {squared_error(est.reconstruct(X), X):9.2f} "
              f"{len(est.history_):7d} {seconds:7.0f}", flush=True)


if __name__ == "__main__":
    main()
