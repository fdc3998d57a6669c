"""Denoising: PSNR against the clean test digits of the corrupted input, a plain autoencoder's and a
denoising autoencoder's reconstruction of it, for three noise models.

Both autoencoders have the same shape (784-256-64-256-784 by default, ReLU, linear code, sigmoid
output, squared error, Adam, batch 128) and are trained on the 4,000 training digits of mnist5k
(values in [0, 1], no scaling, no validation split, seed 0): the plain one on clean digits, the
denoising one (``DenoisingAutoencoder(noise=kind, noise_level=level)``) on digits corrupted afresh
every batch. The 1,000 test digits are corrupted once with ``aekit.noise.corrupt(..., random_state=0)``.

PSNR (peak 1.0) is given two ways: the mean over test images of each image's PSNR (the headline
figure), and the PSNR of the mean squared error over all test pixels.

Run: python bench/denoising.py [--epochs 30] [--hidden 256] [--latent 64]
"""

import argparse

import numpy as np

from _machine import describe
from aekit import Autoencoder, DenoisingAutoencoder
from aekit.datasets import load
from aekit.noise import corrupt

NOISE_MODELS = (("gaussian", 0.3), ("masking", 0.3), ("salt_and_pepper", 0.2))
TARGET_GAIN_DB = 1.5


def psnr(clean, estimate):
    """(mean of per-image PSNR, PSNR of the mean MSE), in dB for values with peak 1.0."""
    mse = np.square(estimate.astype(np.float64) - clean).mean(1)
    per_image = 10 * np.log10(1.0 / np.maximum(mse, 1e-12))
    return float(per_image.mean()), float(10 * np.log10(1.0 / mse.mean()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, nargs="*", default=[256])
    parser.add_argument("--latent", type=int, default=64)
    args = parser.parse_args()

    X = load("mnist5k", split="train").data
    X_test = load("mnist5k", split="test").data
    common = dict(hidden=tuple(args.hidden), latent=args.latent, scale=None, epochs=args.epochs,
                  validation_fraction=0, random_state=0, device="cpu")
    shape = "-".join(map(str, (784, *args.hidden, args.latent, *args.hidden[::-1], 784)))

    print(f"machine: {describe()}")
    print(f"network {shape}, {args.epochs} epochs, 4,000 train / 1,000 test digits of mnist5k")
    print("PSNR in dB against the clean test digits: mean of per-image PSNR (PSNR of the mean MSE)")
    plain = Autoencoder(**common).fit(X)
    print(f"plain autoencoder, clean test input: {psnr(X_test, plain.reconstruct(X_test))[0]:.2f} dB")
    print(f"{'noise':24s} {'corrupted':>16s} {'plain AE':>16s} {'denoising AE':>16s} {'gain':>7s}  target")
    met = []
    for kind, level in NOISE_MODELS:
        noisy = corrupt(X_test, kind, level, random_state=0)
        dae = DenoisingAutoencoder(noise=kind, noise_level=level, **common).fit(X)
        results = [psnr(X_test, noisy), psnr(X_test, plain.reconstruct(noisy)), psnr(X_test, dae.reconstruct(noisy))]
        gain = results[2][0] - results[1][0]
        met.append(gain >= TARGET_GAIN_DB)
        cells = " ".join(f"{a:7.2f} ({b:5.2f})" for a, b in results)
        print(f"{kind + ' ' + str(level):24s} {cells} {gain:+6.2f}  {'met' if met[-1] else 'NOT met'}")
    print(f"target: denoising beats plain by >= {TARGET_GAIN_DB} dB on every noise model: "
          f"{'met' if all(met) else 'NOT met'}")


if __name__ == "__main__":
    main()
