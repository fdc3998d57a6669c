"""Denoising against noise made outside aekit: the default ``DenoisingAutoencoder`` beside the noisy input
itself and a plain autoencoder of the same shape and scaling, on two real data sets (issue 17, item 3).

Data (values in [0, 1]): the MNIST digits of ``mnist5k`` (its 4,000 train / 1,000 test rows) and
Fashion-MNIST (10,000 training / 2,000 test rows drawn with seed 0). The test rows are corrupted
independently of aekit, with numpy (seed 1): Gaussian ``clip(x + N(0, 0.3^2), 0, 1)``, masking 0.3 (set
to 0) and salt-and-pepper 0.2 (0 or 1, equally likely), so that always-blank border pixels get noise, as
in a real noisy image.

Models: ``DenoisingAutoencoder(noise=kind, noise_level=level)`` at its defaults (shape, scaling, epochs),
trained on rows corrupted afresh every batch; a plain ``Autoencoder`` with the same shape, scaling and
epochs, trained on clean rows. Both: seed 0 (``--seed``), CPU. ``--epochs`` overrides the epochs of both (say
so when quoting the figures).

PSNR: mean over test rows of each row's PSNR in dB (peak 1.0). Gain: the denoising autoencoder minus the
better of the noisy input and the plain autoencoder. Target: gain >= 1.5 dB for each noise model.

Run: python bench/denoising.py [--data digits fashion] [--epochs N] [--seed 0]
"""

import argparse
import time

import numpy as np

from _machine import describe
from aekit import Autoencoder, DenoisingAutoencoder
from aekit.datasets import load

NOISE_MODELS = (("gaussian", 0.3), ("masking", 0.3), ("salt_and_pepper", 0.2))
TARGET_GAIN_DB = 1.5
FASHION_ROWS = (10000, 2000)
# what the plain autoencoder takes from the denoising one, so that only the training noise differs
SHARED = ("hidden", "latent", "activation", "code_activation", "output_activation", "loss", "scale", "epochs",
          "batch_size", "lr", "validation_fraction")


def load_split(name):
    """(train rows, test rows) of ``name``: "digits" (mnist5k) or "fashion" (a seeded subset)."""
    if name == "digits":
        return load("mnist5k", split="train").data, load("mnist5k", split="test").data
    train, test = load("fashion-mnist", split="train").data, load("fashion-mnist", split="test").data
    rng = np.random.RandomState(0)
    return (train[rng.choice(len(train), FASHION_ROWS[0], replace=False)],
            test[rng.choice(len(test), FASHION_ROWS[1], replace=False)])


def corrupt_outside(X, kind, level, rng):
    """Noise as another program makes it: bounded by the valid range [0, 1], not by aekit's data ranges."""
    if kind == "gaussian":
        return np.clip(X + rng.normal(0, level, X.shape), 0, 1).astype(np.float32)
    hit = rng.rand(*X.shape) < level
    if kind == "masking":
        return np.where(hit, 0, X).astype(np.float32)
    return np.where(hit, (rng.rand(*X.shape) < 0.5), X).astype(np.float32)


def psnr(clean, estimate):
    """Mean over rows of each row's PSNR in dB, for values with peak 1.0."""
    mse = np.square(estimate.astype(np.float64) - clean).mean(1)
    return float((10 * np.log10(1.0 / np.maximum(mse, 1e-12))).mean())


def run(name, overrides):
    """Print one line per noise model for data set ``name``; returns whether every target was met."""
    X, X_test = load_split(name)
    rng = np.random.RandomState(1)
    noisy = {kind: corrupt_outside(X_test, kind, level, rng) for kind, level in NOISE_MODELS}
    start = time.perf_counter()
    plain, met = None, []
    for kind, level in NOISE_MODELS:
        dae = DenoisingAutoencoder(noise=kind, noise_level=level, **overrides).fit(X)
        if plain is None:
            shared = {key: value for key, value in dae.get_params().items() if key in SHARED}
            plain = Autoencoder(**shared, **{k: v for k, v in overrides.items() if k not in shared}).fit(X)
            print(f"{name}: {len(X)} train / {len(X_test)} test rows; both models: "
                  f"{', '.join(f'{k}={v!r}' for k, v in shared.items())}; scaler resolved to "
                  f"{dae.scaler_.kind_!r}; plain AE on clean test rows "
                  f"{psnr(X_test, plain.reconstruct(X_test)):.2f} dB", flush=True)
        cells = [psnr(X_test, noisy[kind]), psnr(X_test, plain.reconstruct(noisy[kind])),
                 psnr(X_test, dae.reconstruct(noisy[kind]))]
        gain = cells[2] - max(cells[:2])
        met.append(gain >= TARGET_GAIN_DB)
        print(f"{name:8s} {kind + ' ' + str(level):21s} " + " ".join(f"{c:9.2f}" for c in cells)
              + f" {gain:+8.2f}  {'met' if met[-1] else 'NOT met'}", flush=True)
    print(f"{name}: {time.perf_counter() - start:.0f} s for the plain and three denoising autoencoders", flush=True)
    return all(met)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="*", default=["digits", "fashion"], choices=["digits", "fashion"])
    parser.add_argument("--epochs", type=int, default=None, help="override the default epochs (of both models)")
    parser.add_argument("--seed", type=int, default=0, help="the models' random_state (the data and noise stay)")
    args = parser.parse_args()
    overrides = dict(random_state=args.seed, device="cpu")
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    print(f"machine: {describe()}")
    print("PSNR in dB (mean over test rows); gain = DAE - max(noisy, plain AE)"
          + (f"; epochs overridden: {args.epochs}" if args.epochs is not None else "; DenoisingAutoencoder defaults")
          + f"; models' seed {args.seed}")
    print(f"{'data':8s} {'noise':21s} {'noisy':>9s} {'plain AE':>9s} {'DAE':>9s} {'gain':>8s}  "
          f"target >= {TARGET_GAIN_DB} dB")
    verdicts = [run(name, overrides) for name in args.data]
    print(f"target (DAE >= {TARGET_GAIN_DB} dB above both, every noise model and data set): "
          f"{'met' if all(verdicts) else 'NOT met'}")


if __name__ == "__main__":
    main()
