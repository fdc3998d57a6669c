"""Class-conditional generation on the 5,000 MNIST digits: does ``sample(n, y=c)`` draw digits of class c?

Conditional VAE and GAN (``conditional=True``, fitted with the labels) draw ``--n`` rows per class;
aekit's reference classifier (``aekit.metrics.reference_classifier("mnist5k")``, a small conv net)
judges each: the share assigned to the class asked for, overall and for the worst class, and the
Frechet distance of all samples to the test digits on the classifier's features. Beside them, in the
same run: the classifier's accuracy on real test digits (what a perfect generator would score), and a
Gaussian fitted to each class's training rows (the simple class-conditional baseline).

Target (issue 20): at least 90% of sample(n, y=c) assigned to class c.

Run: python bench/conditional.py [--epochs 30] [--gan-epochs 30] [--n 100] [--seeds 1] [--first-seed 0]
[--only Variational,GAN]
"""

import argparse
import time

import numpy as np

from _machine import describe
from aekit import GAN, VariationalAutoencoder
from aekit.datasets import load
from aekit.metrics import frechet_distance, reference_classifier


def class_gaussian(X, y, c, n, rng):
    """``n`` draws of a Gaussian fitted to the rows of class ``c`` (full covariance, a small ridge), clipped
    to the data's range."""
    rows = X[y == c]
    covariance = np.cov(rows, rowvar=False) + 1e-3 * np.eye(X.shape[1])
    return np.clip(rng.multivariate_normal(rows.mean(0), covariance, size=n), X.min(), X.max()).astype(np.float32)


def judge(name, draw, classes, classifier, X_test, seconds=None):
    """Print the share of each class's samples the classifier assigns to it; ``draw(c)`` gives them."""
    samples = {c: draw(c) for c in classes}
    shares = np.array([np.mean(classifier.predict(rows) == c) for c, rows in samples.items()])
    every = np.concatenate(list(samples.values()))
    distance = frechet_distance(X_test[: len(every)], every, features=classifier.features)
    timing = f"  trained in {seconds:.0f} s (2 cores shared with other jobs)" if seconds is not None else ""
    print(f"{name:52s} assigned to the class asked for {shares.mean():.3f} (worst class {classes[shares.argmin()]}: "
          f"{shares.min():.3f})  Frechet {distance:6.1f}{timing}", flush=True)
    return shares


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30, help="VAE epochs")
    parser.add_argument("--gan-epochs", type=int, default=30)
    parser.add_argument("--n", type=int, default=100, help="samples per class")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds FIRST..FIRST+N-1 (to split a run)")
    parser.add_argument("--only", help="comma-separated parts of model names to run, e.g. Variational")
    args = parser.parse_args()
    train, test = load("mnist5k", split="train"), load("mnist5k", split="test")
    X, y, X_test, y_test = train.data, train.target, test.data, test.target
    classes = np.unique(y)
    classifier = reference_classifier("mnist5k")
    print(f"machine: {describe()}")
    real = np.array([np.mean(classifier.predict(X_test[y_test == c]) == c) for c in classes])
    print(f"{'real test digits (the ceiling)':52s} assigned to their class {real.mean():.3f} "
          f"(worst class {classes[real.argmin()]}: {real.min():.3f})")
    rng = np.random.RandomState(0)
    judge("Gaussian per class (baseline)", lambda c: class_gaussian(X, y, c, args.n, rng), classes, classifier,
          X_test)

    models = {
        "VariationalAutoencoder(conditional=True, latent=16)":
            lambda seed: VariationalAutoencoder(latent=16, conditional=True, epochs=args.epochs, random_state=seed,
                                                device="cpu"),
        "GAN(conditional=True)":
            lambda seed: GAN(conditional=True, epochs=args.gan_epochs, random_state=seed, device="cpu"),
    }
    for name, make in models.items():
        if args.only and not any(part in name for part in args.only.split(",")):
            continue
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            start = time.perf_counter()
            model = make(seed).fit(X, y)
            seconds = time.perf_counter() - start
            judge(f"{name} seed {seed}", lambda c, model=model: model.sample(args.n, random_state=1, y=c), classes,
                  classifier, X_test, seconds)


if __name__ == "__main__":
    main()
