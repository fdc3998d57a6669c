"""Denoising against noise made outside aekit: training noise bounded per feature (today) or by the data's
overall range (proposed), against the noisy input and a plain autoencoder (issue 17, item 3).

Test rows are corrupted with numpy, independently of aekit (seed 1): Gaussian ``clip(x + N(0, 0.3^2), 0,
1)``, masking 0.3 (set to 0) and salt-and-pepper 0.2 (0 or 1, equally likely), so always-blank border
pixels get noise as in a real noisy image. Data: the MNIST digits of ``mnist5k`` (stratified
4,000/1,000 split, random_state=0) and Fashion-MNIST (10,000 training / 2,000 test rows drawn with seed
0), values in [0, 1].

All networks have one shape (784-512-128-512-784 by default: ReLU, linear code, sigmoid output, squared
error, Adam 1e-3, batch 128, ``scale=None``, no validation split, seed 0). The plain autoencoder is
trained on clean rows; each ``DenoisingAutoencoder(noise=kind, noise_level=level)`` on rows corrupted
afresh every batch with the matching kind and level, its Gaussian noise clipped and its salt-and-pepper
values taken either from each feature's training minimum and maximum (``per-feature``, aekit today) or
from the overall minimum and maximum of the training data (``global``, the proposal; prototyped here by
replacing ``aekit.noise.Corruption.init_from_data``).

PSNR: mean over test rows of each row's PSNR in dB (peak 1.0). Target: the denoising autoencoder at
least 1.5 dB above both the noisy input and the plain autoencoder, for each noise model.

Run: python bench/denoising_routes.py [--data digits fashion] [--epochs 100] [--hidden 512] [--latent 128]
"""

import argparse
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from _machine import describe
from aekit import Autoencoder, DenoisingAutoencoder
from aekit.datasets import load
from aekit.noise import Corruption

NOISE_MODELS = (("gaussian", 0.3), ("masking", 0.3), ("salt_and_pepper", 0.2))
TARGET_GAIN_DB = 1.5
PER_FEATURE_RANGE = Corruption.init_from_data


@torch.no_grad()
def global_range(self, X):
    """The proposal: the training data's overall minimum and maximum bound the noise of every feature."""
    self.low.fill_(float(X.min()))
    self.high.fill_(float(X.max()))


def load_split(name):
    if name == "digits":
        bunch = load("mnist5k")
        X, X_test = train_test_split(bunch.data, test_size=1000, stratify=bunch.target, random_state=0)
        return X, X_test
    train, test = load("fashion-mnist", split="train"), load("fashion-mnist", split="test")
    rng = np.random.RandomState(0)
    return (train.data[rng.choice(len(train.data), 10000, replace=False)],
            test.data[rng.choice(len(test.data), 2000, replace=False)])


def corrupt_outside(X, kind, level, rng):
    """Noise as another program makes it: bounded by the valid range [0, 1], not by aekit's data ranges."""
    if kind == "gaussian":
        return np.clip(X + rng.normal(0, level, X.shape), 0, 1).astype(np.float32)
    hit = rng.rand(*X.shape) < level
    if kind == "masking":
        return np.where(hit, 0, X).astype(np.float32)
    return np.where(hit, (rng.rand(*X.shape) < 0.5), X).astype(np.float32)


def psnr(clean, estimate):
    mse = np.square(estimate.astype(np.float64) - clean).mean(1)
    return float((10 * np.log10(1.0 / np.maximum(mse, 1e-12))).mean())


def run(name, common):
    X, X_test = load_split(name)
    rng = np.random.RandomState(1)
    noisy = {kind: corrupt_outside(X_test, kind, level, rng) for kind, level in NOISE_MODELS}
    start = time.perf_counter()
    plain = Autoencoder(**common).fit(X)
    for kind, level in NOISE_MODELS:
        cells, gains = [psnr(X_test, noisy[kind]), psnr(X_test, plain.reconstruct(noisy[kind]))], []
        for bound in (PER_FEATURE_RANGE, global_range):
            Corruption.init_from_data = bound
            try:
                dae = DenoisingAutoencoder(noise=kind, noise_level=level, **common).fit(X)
            finally:
                Corruption.init_from_data = PER_FEATURE_RANGE
            cells.append(psnr(X_test, dae.reconstruct(noisy[kind])))
            gains.append(cells[-1] - max(cells[:2]))
        print(f"{name:8s} {kind + ' ' + str(level):21s} " + " ".join(f"{c:9.2f}" for c in cells)
              + f" {gains[0]:+8.2f} {gains[1]:+8.2f}  {'met' if gains[1] >= TARGET_GAIN_DB else 'NOT met'}", flush=True)
    print(f"{name}: {time.perf_counter() - start:.0f} s for the plain and six denoising autoencoders", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="*", default=["digits", "fashion"], choices=["digits", "fashion"])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--hidden", type=int, nargs="*", default=[512])
    parser.add_argument("--latent", type=int, default=128)
    args = parser.parse_args()
    common = dict(hidden=tuple(args.hidden), latent=args.latent, scale=None, epochs=args.epochs,
                  validation_fraction=0, random_state=0, device="cpu")
    shape = "-".join(map(str, (784, *args.hidden, args.latent, *args.hidden[::-1], 784)))
    print(f"machine: {describe()}")
    print(f"network {shape}, {args.epochs} epochs; PSNR in dB (mean over test rows); gain = DAE - max(noisy, plain)")
    print(f"{'data':8s} {'noise':21s} {'noisy':>9s} {'plain AE':>9s} {'DAE feat':>9s} {'DAE glob':>9s} "
          f"{'gain feat':>8s} {'gain glob':>8s}  target {TARGET_GAIN_DB} dB (global)")
    for name in args.data:
        run(name, common)


if __name__ == "__main__":
    main()
