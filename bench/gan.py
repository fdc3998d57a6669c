"""GAN sample quality on the 5,000 MNIST digits: Frechet distance on the features of aekit's
reference classifier and class coverage, for the default MLP GAN (R1 penalty, hidden (256, 512, 1024)),
a narrower one, the narrower one with spectral normalisation instead of R1 and with neither, the
DCGAN-style conv GAN, WGAN-GP (``loss="wgan-gp"``, with the paper's n_critic=5, Adam betas (0.5, 0.9)
and lr 1e-4, and with the default GAN's one critic step per generator step), and VAE samples for
comparison. Over several seeds, each model's mean and standard deviation close its lines.

The reference classifier (two conv layers + dense, trained and cached by
``aekit.metrics.reference_classifier``) gives the features; its distances are NOT the Inception
FID and are comparable only within aekit. The floor is the distance between the training and test
digits themselves.

Targets (issue 4): GAN samples cover all 10 classes, none below 5%, at a lower distance than the VAE's.
Issue 20: WGAN-GP beside the default non-saturating loss, Frechet distance and smallest class share
over 3 seeds (--only "defaults,WGAN" --seeds 3).

Run: python bench/gan.py [--epochs 20] [--vae-epochs 50] [--n 1000] [--only NAME,...] [--seeds 1] [--first-seed 0]
"""

import argparse
import time

import numpy as np

from _machine import describe
from aekit import GAN, VariationalAutoencoder
from aekit.datasets import load
from aekit.metrics import class_coverage, frechet_distance, reference_classifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--vae-epochs", type=int, default=50)
    parser.add_argument("--n", type=int, default=1000, help="samples compared with the test digits")
    parser.add_argument("--only", help="comma-separated parts of model names to run, e.g. conv,VAE")
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds of every model")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds FIRST..FIRST+N-1 (to split a run)")
    args = parser.parse_args()
    X, X_test = load("mnist5k", split="train").data, load("mnist5k", split="test").data
    classifier = reference_classifier("mnist5k")
    print(f"machine: {describe()}")
    print(f"reference classifier test accuracy {classifier.accuracy:.3f}; features: its penultimate layer")
    print(f"floor: training vs test digits, Frechet distance "
          f"{frechet_distance(X[: args.n], X_test[: args.n], features=classifier.features):.1f}")

    def gan(**params):
        return lambda seed: GAN(**params, epochs=args.epochs, random_state=seed, device="cpu")
    narrow = dict(hidden=(256, 512), latent=64)
    models = {
        "GAN() defaults": gan(),
        "narrow: GAN(hidden=(256, 512), latent=64)": gan(**narrow),
        "spectral: (256, 512), latent 64, r1_penalty=0, spectral_norm=True": gan(**narrow, r1_penalty=0,
                                                                                  spectral_norm=True),
        "neither: (256, 512), latent 64, r1_penalty=0": gan(**narrow, r1_penalty=0),
        "GAN(arch='conv')": gan(arch="conv"),
        "WGAN-GP: loss='wgan-gp', n_critic=5, betas (0.5, 0.9), lr 1e-4": gan(loss="wgan-gp", n_critic=5,
                                                                             betas=(0.5, 0.9), lr=1e-4),
        "WGAN-GP: loss='wgan-gp', betas (0.5, 0.9) (one critic step)": gan(loss="wgan-gp", betas=(0.5, 0.9)),
        "VAE 784-512-256-16": lambda seed: VariationalAutoencoder(latent=16, epochs=args.vae_epochs, random_state=seed,
                                                                  device="cpu"),
    }
    for name, make in models.items():
        if args.only and not any(part in name for part in args.only.split(",")):
            continue
        figures = []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            start = time.perf_counter()
            model = make(seed).fit(X)
            seconds = time.perf_counter() - start
            samples = model.sample(args.n, random_state=1)
            distance = frechet_distance(X_test[: args.n], samples, features=classifier.features)
            coverage = class_coverage(samples, classifier)
            last = model.history_[-1]
            monitor = (f"  D acc real/fake {last['d_acc_real']:.2f}/{last['d_acc_fake']:.2f}"
                       if "d_acc_real" in last else "")
            print(f"{name:63s} seed {seed}  Frechet {distance:7.1f}  classes covered {coverage.coverage:.0%}  "
                  f"smallest class share {coverage.fractions.min():.3f}{monitor}  "
                  f"{len(model.history_)} epochs in {seconds:.0f} s (2 cores shared with other jobs)", flush=True)
            figures.append((distance, coverage.fractions.min()))
        if len(figures) > 1:
            mean, spread = np.mean(figures, 0), np.std(figures, 0)
            print(f"{name:63s} {len(figures)} seeds  Frechet {mean[0]:7.1f} +- {spread[0]:.1f}  smallest class "
                  f"share {mean[1]:.3f} +- {spread[1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
