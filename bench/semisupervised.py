"""Semi-supervised learning and transfer on the 5,000 MNIST digits: test error of a classifier that
sees 100 labels, from random weights and on encoders pre-trained on the unlabelled digits.

Network: a 784-512-256-32 MLP encoder (ReLU, linear code) and a softmax head on the standardised code
(``AutoencoderClassifier`` defaults: head 300 epochs at Adam 1e-3, batch 32, then fine-tuning of the
whole network for 100 epochs with the encoder at 1e-4). Pre-training: a plain autoencoder, a
denoising one (masking noise 0.3) and a VAE, each trained once (``--epochs``, batch 128, seed 0) on
the 4,000 training digits without their labels. For each of ``--draws`` label draws (10 labelled
digits per class, ``mask_labels(seed=draw)``) the classifier is trained on every pre-trained
encoder and from scratch: the same network, head and fine-tuning from random weights
(``Autoencoder(epochs=0)``), once with the same encoder learning rate and once with the encoder at
the head's rate; the better of the two is the baseline. Errors are on the 1,000 test digits, mean
and standard deviation over the draws. Target: each pre-trained error at most 0.9 of the baseline's.

Transfer: an encoder that never saw digits 5-9 helps a classifier of 5-9 from 50 labels (10 per
class). Sources: an autoencoder pre-trained on the training digits 0-4, and a classifier of 0-4
trained on all their labels on top of it (20 epochs of head, 20 of fine-tuning; ``encoder=`` that
classifier gives its features). Each is fine-tuned on the 50 labels as above; the baseline is the
same network from random weights. Errors on the test digits 5-9. Target: both sources below the
baseline.

Run: python bench/semisupervised.py [--epochs 50] [--draws 5]
"""

import argparse
import time

import numpy as np

from _machine import describe
from aekit import Autoencoder, AutoencoderClassifier, DenoisingAutoencoder, VariationalAutoencoder
from aekit.apps.classifier import mask_labels
from aekit.datasets import load

TARGET_RATIO = 0.9


def test_errors(data, n_labels, draws, **options):
    """Test errors of ``AutoencoderClassifier(fine_tune=True, **options)`` trained on ``n_labels``
    labels of the training rows, one per label draw; ``data`` is (X, y, X_test, y_test)."""
    X, y, X_test, y_test = data
    errors = []
    for draw in range(draws):
        classifier = AutoencoderClassifier(fine_tune=True, random_state=draw, device="cpu", **options)
        classifier.fit(X, mask_labels(y, n_labels, random_state=draw))
        errors.append(1 - classifier.score(X_test, y_test))
    return np.array(errors)


def show(name, errors, baseline=None, target=None):
    """Print a row of the table; returns whether the mean error is within ``target`` x ``baseline``."""
    met = target is None or errors.mean() <= target * baseline.mean()
    ratio = f"{errors.mean() / baseline.mean():10.2f}" if baseline is not None else f"{'-':>10s}"
    print(f"{name:52s} {errors.mean():6.3f} +- {errors.std():.3f}  {ratio}  "
          f"{'' if target is None else 'met' if met else 'NOT met'}")
    return met


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50, help="pre-training epochs of every autoencoder")
    parser.add_argument("--draws", type=int, default=5, help="label draws")
    args = parser.parse_args()
    start = time.perf_counter()
    train, test = load("mnist5k", split="train"), load("mnist5k", split="test")
    X, y = train.data, train.target
    data = (X, y, test.data, test.target)
    common = dict(hidden=(512, 256), latent=32, epochs=args.epochs, validation_fraction=0, random_state=0,
                  device="cpu")

    print(f"machine: {describe()}")
    print(f"encoder 784-512-256-32, {args.epochs} pre-training epochs; test error, mean +- std over "
          f"{args.draws} label draws")
    print("\nsemi-supervised: 100 labels (10 per class), 3,900 unlabelled training digits, 1,000 test digits")
    print(f"{'classifier':52s} {'error':>15s}  {'/ baseline':>10s}  target <= {TARGET_RATIO}")
    scratch = Autoencoder(**{**common, "epochs": 0}).fit(X)
    runs = {"from scratch": test_errors(data, 100, args.draws, autoencoder=scratch),
            "from scratch, encoder at the head's rate": test_errors(data, 100, args.draws, autoencoder=scratch,
                                                                    encoder_lr=1e-3)}
    baseline = min(runs.values(), key=np.mean)  # the better of the two is the baseline
    for name, errors in runs.items():
        show(f"{name}{' (baseline)' if errors is baseline else ''}", errors, baseline)
    met = [show(f"pre-trained: {name}", test_errors(data, 100, args.draws, autoencoder=autoencoder.fit(X)),
                baseline, TARGET_RATIO)
           for name, autoencoder in (("autoencoder", Autoencoder(**common)),
                                     ("denoising autoencoder", DenoisingAutoencoder(**common)),
                                     ("VAE (posterior mean)", VariationalAutoencoder(**common)))]

    low, high, high_test = y < 5, y >= 5, test.target >= 5
    task = (X[high], y[high], test.data[high_test], test.target[high_test])
    print(f"\ntransfer: digits 5-9 from 50 labels (10 per class), {high_test.sum()} test digits; the sources "
          "saw digits 0-4 only")
    baseline = test_errors(task, 50, args.draws, autoencoder=Autoencoder(**{**common, "epochs": 0}).fit(task[0]))
    show("from scratch (baseline)", baseline)
    digits_0_4 = Autoencoder(**common).fit(X[low])
    classifier_0_4 = AutoencoderClassifier(digits_0_4, epochs=20, fine_tune=True, fine_tune_epochs=20,
                                           random_state=0, device="cpu").fit(X[low], y[low])
    met += [show(f"encoder = {name}", test_errors(task, 50, args.draws, encoder=source), baseline, 1.0)
            for name, source in (("autoencoder of digits 0-4", digits_0_4),
                                 ("classifier of digits 0-4", classifier_0_4))]
    print(f"\ntarget: {'met' if all(met) else 'NOT met'}; wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
