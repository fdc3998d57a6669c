"""Denoising against noise made outside aekit: training noise bounded per feature (aekit before issue 17
item 3) or by the data's overall range (aekit now), against the noisy input and a plain autoencoder.

Test rows are corrupted with numpy, independently of aekit (seed 1): Gaussian ``clip(x + N(0, 0.3^2), 0,
1)``, masking 0.3 (set to 0) and salt-and-pepper 0.2 (0 or 1, equally likely), so always-blank border
pixels get noise as in a real noisy image. Data: the MNIST digits of ``mnist5k`` (stratified
4,000/1,000 split, random_state=0) and Fashion-MNIST (10,000 training / 2,000 test rows drawn with seed
0), values in [0, 1].

All networks have one shape (784-512-128-512-784 by default: ReLU, linear code, sigmoid output, squared
error, Adam 1e-3, batch 128, ``scale=None``, no validation split, seed 0). The plain autoencoder is
trained on clean rows; each ``DenoisingAutoencoder(noise=kind, noise_level=level)`` on rows corrupted
afresh every batch with the matching kind and level, its Gaussian noise clipped and its salt-and-pepper
values taken either from each feature's training minimum and maximum (``per-feature``, the old rule,
reproduced here by replacing ``aekit.datasets.Scaler.range_in_scaled_units``) or from the overall
minimum and maximum of the training data (``global``, aekit's rule now).

PSNR: mean over test rows of each row's PSNR in dB (peak 1.0). Target: the denoising autoencoder at
least 1.5 dB above both the noisy input and the plain autoencoder, for each noise model.

Run: python bench/denoising_routes.py [--data digits fashion] [--epochs 100] [--hidden 512] [--latent 128]
"""

import argparse
import time

import numpy as np

from _machine import describe
from aekit import Autoencoder, DenoisingAutoencoder
from aekit.datasets import Scaler
from denoising import NOISE_MODELS, TARGET_GAIN_DB, corrupt_outside, load_split, psnr

GLOBAL_RANGE = Scaler.range_in_scaled_units


def per_feature_range(self, declared=None):
    """The old rule: each feature's own training minimum and maximum bound its noise."""
    return tuple(self.transform(np.stack([self.data_min_, self.data_max_])))


def run(name, common):
    X, X_test = load_split(name)
    rng = np.random.RandomState(1)
    noisy = {kind: corrupt_outside(X_test, kind, level, rng) for kind, level in NOISE_MODELS}
    start = time.perf_counter()
    plain = Autoencoder(**common).fit(X)
    for kind, level in NOISE_MODELS:
        cells, gains = [psnr(X_test, noisy[kind]), psnr(X_test, plain.reconstruct(noisy[kind]))], []
        for bound in (per_feature_range, GLOBAL_RANGE):
            Scaler.range_in_scaled_units = bound
            try:
                dae = DenoisingAutoencoder(noise=kind, noise_level=level, **common).fit(X)
            finally:
                Scaler.range_in_scaled_units = GLOBAL_RANGE
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
