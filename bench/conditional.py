"""Class-conditional generation on the 5,000 MNIST digits: does ``sample(n, y=c)`` draw digits of class c?

Conditional VAE and GAN (``conditional=True``, fitted with the labels) draw ``--n`` rows per class;
aekit's reference classifier (``aekit.metrics.reference_classifier("mnist5k")``, a small conv net)
judges each: the share assigned to the class asked for, overall and for the worst class, and the
Frechet distance of all samples to the test digits on the classifier's features. Beside them, in the
same run: the classifier's accuracy on real test digits (what a perfect generator would score), and a
Gaussian fitted to each class's training rows (the simple class-conditional baseline).

Class accuracy alone can be had by one sample per class, so beside it, per class: the diversity of its
samples (their mean pairwise distance on the classifier's features, over that of the real rows of the
class: 1 is as varied as the real digits, 0 one sample repeated; the mean and the least varied
class). With 100 samples a class, a Frechet distance per class (128 features) would rest on too few rows.

Every figure is given against the training rows (validation: the classifier is trained on them too, so
nothing of the test split is used; settings are chosen on these) and against the test rows (what is
reported); ``--validation`` leaves the test rows unread.

Target (issue 20): at least 90% of sample(n, y=c) assigned to class c, for every class.

Run: python bench/conditional.py [--epochs 30] [--gan-epochs 120] [--n 100] [--seeds 1] [--first-seed 0]
[--only Variational,GAN] [--gan-params '{"auxiliary_weight": 0.3}'] [--validation]
"""

import argparse
import json
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


def spread(features):
    """Mean pairwise Euclidean distance between rows of ``features``."""
    squared = (features ** 2).sum(1)
    distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * features @ features.T, 0))
    return distances.sum() / (len(features) * (len(features) - 1))


def judge(name, draw, classes, classifier, compared, seconds=None):
    """Print the share of each class's samples the classifier assigns to it, then per set of real rows
    ``compared`` ({name: (X, y)}) the Frechet distances and the diversity of the samples against them;
    ``draw(c)`` gives the samples of class c."""
    samples = {c: draw(c) for c in classes}
    shares = np.array([np.mean(classifier.predict(rows) == c) for c, rows in samples.items()])
    timing = f"  trained in {seconds:.0f} s (2 cores shared with other jobs)" if seconds is not None else ""
    print(f"{name:52s} assigned to the class asked for {shares.mean():.3f} (worst class {classes[shares.argmin()]}: "
          f"{shares.min():.3f}){timing}", flush=True)
    print(f"{'':52s} per class: " + " ".join(f"{c}:{share:.2f}" for c, share in zip(classes, shares)), flush=True)
    every = np.concatenate(list(samples.values()))
    for against, (X_real, y_real) in compared.items():
        distance = frechet_distance(X_real[: len(every)], every, features=classifier.features)
        diversity = np.array([spread(classifier.features(rows)) / spread(classifier.features(X_real[y_real == c]))
                              for c, rows in samples.items()])
        print(f"{'':52s} against the {against} digits: Frechet {distance:6.1f}  diversity {diversity.mean():.2f} "
              f"(least {classes[diversity.argmin()]}: {diversity.min():.2f})", flush=True)
    return shares


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30, help="VAE epochs")
    parser.add_argument("--gan-epochs", type=int, default=120)
    parser.add_argument("--n", type=int, default=100, help="samples per class")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds FIRST..FIRST+N-1 (to split a run)")
    parser.add_argument("--only", help="comma-separated parts of model names to run, e.g. Variational")
    parser.add_argument("--gan-params", default="{}", help="JSON of GAN parameters beside the bench's")
    parser.add_argument("--vae-params", default="{}", help="JSON of VAE parameters beside the bench's")
    parser.add_argument("--validation", action="store_true", help="compare with the training rows only")
    args = parser.parse_args()
    train = load("mnist5k", split="train")
    X, y = train.data, train.target
    compared = {"training": (X, y)}
    if not args.validation:
        test = load("mnist5k", split="test")
        compared["test"] = (test.data, test.target)
    classes = np.unique(y)
    classifier = reference_classifier("mnist5k")
    print(f"machine: {describe()}")
    for against, (X_real, y_real) in compared.items():
        real = np.array([np.mean(classifier.predict(X_real[y_real == c]) == c) for c in classes])
        print(f"{'real ' + against + ' digits (the ceiling)':52s} assigned to their class {real.mean():.3f} "
              f"(worst class {classes[real.argmin()]}: {real.min():.3f})")
    rng = np.random.RandomState(0)
    judge("Gaussian per class (baseline)", lambda c: class_gaussian(X, y, c, args.n, rng), classes, classifier,
          compared)
    gan_params, vae_params = json.loads(args.gan_params), json.loads(args.vae_params)

    models = {
        "VariationalAutoencoder(conditional=True, latent=16)":
            lambda seed: VariationalAutoencoder(latent=16, conditional=True, epochs=args.epochs, random_state=seed,
                                                device="cpu", **vae_params),
        "GAN(conditional=True)":
            lambda seed: GAN(conditional=True, epochs=args.gan_epochs, random_state=seed, device="cpu", **gan_params),
    }
    for name, make in models.items():
        if args.only and not any(part in name for part in args.only.split(",")):
            continue
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            start = time.perf_counter()
            model = make(seed).fit(X, y)
            seconds = time.perf_counter() - start
            settings = json.dumps(vae_params if "Variational" in name else gan_params)
            judge(f"{name} {settings} seed {seed}", lambda c, model=model: model.sample(args.n, random_state=1, y=c),
                  classes, classifier, compared, seconds)


if __name__ == "__main__":
    main()
