"""Contractive autoencoders: how much flatter is the encoder, at what reconstruction and time cost?

1. ``ContractiveAutoencoder`` with its defaults (one hidden layer = the code layer, sigmoid code,
   default ``contractive_weight`` and ``latent``; squared error, sigmoid output, Adam, batch 128) and a
   plain ``Autoencoder`` of the same shape and code activation, trained on the 4,000 training digits
   of mnist5k (values in [0, 1], no scaling, no validation split, seed 0). On the 1,000 test digits:
   the mean squared Frobenius norm of the encoder Jacobian d code / d x (closed form of
   ``aekit.losses.one_layer_jacobian_norm``; for the contractive model checked against its
   ``model_.loss_terms`` "contractive" term in eval mode) and the squared error per image summed
   over 784 pixels. Targets: Jacobian norm at most half the plain model's; error at most 1.5x.
2. Time of a training epoch: the one-layer contractive model against the plain one (target: at
   most 1.5x), and a deep 784-256-32 contractive model (ReLU hidden layer, sigmoid code) with
   ``contractive_estimator="exact"`` and ``"projections"`` (default 8 directions) against the plain
   deep model. Fits of a few epochs, alternated between models; the median of all epoch times.

Run: python bench/contractive.py [--epochs 30] [--timing-epochs 3] [--repeats 5]
"""

import argparse
import statistics

import numpy as np
import torch

from _machine import describe
from aekit import Autoencoder, ContractiveAutoencoder
from aekit.datasets import load
from aekit.losses import one_layer_jacobian_norm

JACOBIAN_RATIO_TARGET = 0.5
ERROR_RATIO_TARGET = 1.5
TIME_RATIO_TARGET = 1.5


def jacobian_norm(est, X):
    """Mean over rows of ||d code / d x||_F^2 for a one-layer encoder (eval mode, no corruption)."""
    encoder = est.model_.encoder
    with torch.enable_grad():
        pre_activation = encoder[:-1](torch.from_numpy(X))
        return float(one_layer_jacobian_norm(pre_activation, encoder[-2].weight, encoder[-1]).mean().detach())


def recon_error(est, X):
    return float(np.square(est.reconstruct(X) - X).sum(1).mean())


def epoch_times(makers, X, epochs, repeats):
    """Median epoch time (s) of each model: ``repeats`` fits of ``epochs`` epochs, alternated."""
    times = {name: [] for name in makers}
    for make in makers.values():  # warm-up
        make(1, 0).fit(X)
    for repeat in range(repeats):
        names = list(makers) if repeat % 2 == 0 else list(makers)[::-1]
        for name in names:
            times[name] += [h["time"] for h in makers[name](epochs, repeat).fit(X).history_]
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--timing-epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    X = load("mnist5k", split="train").data
    X_test = load("mnist5k", split="test").data
    common = dict(scale=None, validation_fraction=0, device="cpu")
    defaults = ContractiveAutoencoder().get_params()
    latent, weight = defaults["latent"], defaults["contractive_weight"]

    print(f"machine: {describe()}")
    print(f"one-layer 784-{latent}-784, sigmoid code, contractive_weight {weight:g}, {args.epochs} epochs, "
          f"4,000 train / 1,000 test digits of mnist5k")
    cae = ContractiveAutoencoder(epochs=args.epochs, random_state=0, **common).fit(X)
    plain = Autoencoder(hidden=(), latent=latent, code_activation="sigmoid", epochs=args.epochs, random_state=0,
                        **common).fit(X)
    with torch.no_grad():
        term = float(cae.model_.loss_terms(torch.from_numpy(X_test))["contractive"])
    jac = {"contractive": jacobian_norm(cae, X_test), "plain": jacobian_norm(plain, X_test)}
    err = {"contractive": recon_error(cae, X_test), "plain": recon_error(plain, X_test)}
    print(f"{'model':12s} {'||J||_F^2':>10s} {'error':>8s}")
    for name in jac:
        print(f"{name:12s} {jac[name]:10.3f} {err[name]:8.2f}")
    print(f"(contractive model's own loss term on the test digits, eval mode: {term:.3f})")
    j_ratio, e_ratio = jac["contractive"] / jac["plain"], err["contractive"] / err["plain"]
    print(f"target: Jacobian ratio {j_ratio:.3f} <= {JACOBIAN_RATIO_TARGET}: "
          f"{'met' if j_ratio <= JACOBIAN_RATIO_TARGET else 'NOT met'}; error ratio {e_ratio:.2f} <= "
          f"{ERROR_RATIO_TARGET}: {'met' if e_ratio <= ERROR_RATIO_TARGET else 'NOT met'}")

    print(f"\nepoch time, median over {args.repeats} alternated fits of {args.timing_epochs} epochs "
          f"(4,000 rows, batch 128)")
    shallow = epoch_times({
        "plain": lambda e, s: Autoencoder(hidden=(), latent=latent, code_activation="sigmoid", epochs=e,
                                          random_state=s, **common),
        "contractive": lambda e, s: ContractiveAutoencoder(epochs=e, random_state=s, **common),
    }, X, args.timing_epochs, args.repeats)
    ratio = shallow["contractive"] / shallow["plain"]
    print(f"one-layer 784-{latent}-784: plain {1000 * shallow['plain']:.0f} ms, contractive (closed form) "
          f"{1000 * shallow['contractive']:.0f} ms, ratio {ratio:.2f}x; target <= {TIME_RATIO_TARGET}x: "
          f"{'met' if ratio <= TIME_RATIO_TARGET else 'NOT met'}")
    deep = dict(hidden=(256,), latent=32, code_activation="sigmoid", **common)
    deep_times = epoch_times({
        "plain": lambda e, s: Autoencoder(epochs=e, random_state=s, **deep),
        "exact": lambda e, s: Autoencoder(contractive_weight=weight, contractive_estimator="exact", epochs=e,
                                          random_state=s, **deep),
        "projections": lambda e, s: Autoencoder(contractive_weight=weight, contractive_estimator="projections",
                                                epochs=e, random_state=s, **deep),
    }, X, args.timing_epochs, args.repeats)
    print("deep 784-256-32-256-784: " + ", ".join(
        f"{name} {1000 * t:.0f} ms ({t / deep_times['plain']:.2f}x)" for name, t in deep_times.items()))


if __name__ == "__main__":
    main()
