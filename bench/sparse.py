"""Sparse autoencoders: does the code reach the sparsity asked for, and at what reconstruction cost?

``SparseAutoencoder`` with its defaults (784-400-784: the 400 code units are the only hidden layer;
squared error, sigmoid output, Adam, batch 128, default sparsity weights) trained on the 4,000
training digits of mnist5k (values in [0, 1], no scaling, no validation split, seed 0):

* ``sparsity="kl"`` (sigmoid code, target 0.05): the mean activation of each code unit over the
  1,000 test digits, averaged over units (target: within 0.02 of 0.05), and its spread over units.
* ``sparsity="l1"`` (ReLU code): the fraction of code values on the test digits that are exactly
  zero (target: at least 0.5).

Each next to an unregularised ``Autoencoder`` of the same shape and code activation (sigmoid for
KL, ReLU for L1). Reconstruction error is the squared error per test image summed over 784 pixels.

Run: python bench/sparse.py [--epochs 30]
"""

import argparse

import numpy as np

from _machine import describe
from aekit import Autoencoder, SparseAutoencoder
from aekit.datasets import load
from aekit.losses import DEFAULT_SPARSITY_WEIGHT

TARGET = 0.05
TOLERANCE = 0.02
L1_ZERO_TARGET = 0.5


def recon_error(est, X):
    return float(np.square(est.reconstruct(X) - X).sum(1).mean())


def describe_code(codes):
    unit_means = codes.mean(0)
    return (f"unit means: average {unit_means.mean():.4f}, sd {unit_means.std():.4f}, "
            f"min {unit_means.min():.4f}, median {np.median(unit_means):.4f}, max {unit_means.max():.4f}; "
            f"exact zeros {np.mean(codes == 0):.3f}, values < 0.01 {np.mean(np.abs(codes) < 0.01):.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--kl-weight", type=float, default=None, help="default: DEFAULT_SPARSITY_WEIGHT")
    parser.add_argument("--l1-weight", type=float, default=None, help="default: DEFAULT_SPARSITY_WEIGHT")
    args = parser.parse_args()

    X = load("mnist5k", split="train").data
    X_test = load("mnist5k", split="test").data
    common = dict(scale=None, epochs=args.epochs, validation_fraction=0, random_state=0, device="cpu")
    defaults = SparseAutoencoder().get_params()
    latent, hidden = defaults["latent"], defaults["hidden"]

    print(f"machine: {describe()}")
    print(f"network 784-{'-'.join(map(str, (*hidden, latent, *hidden[::-1])))}-784, {args.epochs} epochs, "
          f"4,000 train / 1,000 test digits of mnist5k; squared error per test image summed over 784 pixels")

    def compare(kind, weight, code_activation, title):
        """Fit the sparse model and the unregularised one with the same code units; print both."""
        sparse = SparseAutoencoder(sparsity=kind, sparsity_weight=weight, **common).fit(X)
        plain = Autoencoder(hidden=hidden, latent=latent, code_activation=code_activation, **common).fit(X)
        codes = sparse.transform(X_test)
        shown = DEFAULT_SPARSITY_WEIGHT[kind] if weight is None else weight
        print(f"\n{title}, weight {shown:g} ({code_activation} code)")
        print(f"  sparse : error {recon_error(sparse, X_test):6.2f}; {describe_code(codes)}")
        print(f"  plain  : error {recon_error(plain, X_test):6.2f}; {describe_code(plain.transform(X_test))}")
        return codes

    kl_codes = compare("kl", args.kl_weight, "sigmoid", f"KL, target {TARGET}")
    gap = abs(kl_codes.mean(0).mean() - TARGET)
    print(f"  target: average unit mean within {TOLERANCE} of {TARGET}: |gap| = {gap:.4f}, "
          f"{'met' if gap <= TOLERANCE else 'NOT met'}")

    zeros = float(np.mean(compare("l1", args.l1_weight, "relu", "L1") == 0))
    print(f"  target: fraction of exact zeros >= {L1_ZERO_TARGET}: {zeros:.3f}, "
          f"{'met' if zeros >= L1_ZERO_TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
