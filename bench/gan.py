"""GAN sample quality on the 5,000 MNIST digits: Frechet distance on the features of aekit's
reference classifier and class coverage, for the default MLP GAN with and without spectral norm.

The reference classifier (two conv layers + dense, trained and cached by
``aekit.metrics.reference_classifier``) gives the features; its distances are NOT the Inception
FID and are comparable only within aekit. The floor is the distance between the training and test
digits themselves.

Run: python bench/gan.py [--epochs 20] [--n 1000]
"""

import argparse
import time

from _machine import describe

from aekit import GAN
from aekit.datasets import load
from aekit.metrics import class_coverage, frechet_distance, reference_classifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--n", type=int, default=1000, help="samples compared with the test digits")
    args = parser.parse_args()
    X, X_test = load("mnist5k", split="train").data, load("mnist5k", split="test").data
    classifier = reference_classifier("mnist5k")
    print(f"machine: {describe()}")
    print(f"reference classifier test accuracy {classifier.accuracy:.3f}; features: its penultimate layer")
    print(f"floor: training vs test digits, Frechet distance "
          f"{frechet_distance(X[: args.n], X_test[: args.n], features=classifier.features):.1f}")
    for name, extra in (("GAN() defaults", {}), ("GAN(spectral_norm=True)", {"spectral_norm": True})):
        start = time.perf_counter()
        gan = GAN(epochs=args.epochs, random_state=0, device="cpu", **extra).fit(X)
        seconds = time.perf_counter() - start
        samples = gan.sample(args.n, random_state=1)
        distance = frechet_distance(X_test[: args.n], samples, features=classifier.features)
        coverage = class_coverage(samples, classifier)
        last = gan.history_[-1]
        print(f"{name:26s} Frechet {distance:7.1f}  classes covered {coverage.coverage:.0%}  "
              f"smallest class share {coverage.fractions.min():.3f}  D acc real/fake "
              f"{last['d_acc_real']:.2f}/{last['d_acc_fake']:.2f}  {args.epochs} epochs in {seconds:.0f} s",
              flush=True)


if __name__ == "__main__":
    main()
