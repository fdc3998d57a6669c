"""Anomaly detection: the default AnomalyDetector() beside PCA-16 and IsolationForest (issue 17, item 2).

One-class protocol (Ruff et al. 2018, Deep SVDD): for each class, a detector is trained on that
class's training rows only and scores every test row, the other classes being the anomalies; the
table gives the mean ROC-AUC over the classes. Data, each given as bare 784-column rows and with
``image_shape=(1, 28, 28)``:

- MNIST digits: the 5,000 digits of ``mnist5k`` split 4,000/1,000 (stratified, random_state=0);
- Fashion-MNIST: 10,000 training and 2,000 test rows drawn with seed 0 from the official splits.

Columns, all computed in the same run on the same rows:

- ``PCA-16``: minus the squared error of a 16-component PCA reconstruction;
- ``IForest``: ``IsolationForest(random_state=0).score_samples``;
- ``AnomalyDetector()``: ``AnomalyDetector(image_shape=..., random_state=0)`` at its defaults (what
  ``aekit train anomaly`` trains): for images the convolutional model with relative error + code
  density, for bare rows in [0, 1] (intensities) the MLP of the values as given with relative error +
  reconstruction error + code density.

Targets (issue 17): above both baselines in all four settings, at least 0.96 on the digits as
images. Breast cancer (scikit-learn's Wisconsin data, 30 features, benign normal; for each of 5 seeds
half of the benign rows train, the other half and all malignant rows are scored) checks the tabular
default (min-max scaled MLP, reconstruction + density) against IsolationForest.

Run: python bench/anomaly.py [--data digits fashion] [--views rows images] [--classes 0 1 ...]
[--epochs 100] [--seeds 5]. ``--epochs`` overrides the default's 100 (for a quicker, weaker run).
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from _machine import describe
from aekit import AnomalyDetector
from aekit.datasets import load

IMAGE_TARGET = 0.96
DEFAULT = "AnomalyDetector()"
BASELINES = ("PCA-16", "IForest")


def load_split(name):
    """``(X, y, X_test, y_test)`` of ``"digits"`` (mnist5k 4,000/1,000) or ``"fashion"`` (10,000/2,000)."""
    if name == "digits":
        bunch = load("mnist5k")
        X, X_test, y, y_test = train_test_split(bunch.data, bunch.target, test_size=1000, stratify=bunch.target,
                                                random_state=0)
        return X, y, X_test, y_test
    train, test = load("fashion-mnist", split="train"), load("fashion-mnist", split="test")
    rng = np.random.RandomState(0)
    i, j = rng.choice(len(train.data), 10000, replace=False), rng.choice(len(test.data), 2000, replace=False)
    return train.data[i], train.target[i], test.data[j], test.target[j]


def pca_scores(X, X_test, n_components=16):
    """Minus the squared error of the PCA reconstruction: the classic baseline."""
    pca = PCA(n_components, random_state=0).fit(X)
    return -np.square(pca.inverse_transform(pca.transform(X_test)) - X_test).sum(1)


def detector(image_shape, epochs, random_state=0):
    """The default detector; ``epochs=None`` keeps the default model's own count."""
    return AnomalyDetector(image_shape=image_shape, epochs=epochs, random_state=random_state, device="cpu")


def one_class(split, name, view, classes, epochs):
    """Mean ROC-AUC of each column over ``classes``; prints one line of the table."""
    X_all, y_all, X_test, y_test = split
    image_shape = (1, 28, 28) if view == "images" else None
    aucs = {}
    start = time.perf_counter()
    for label in classes:
        X = X_all[y_all == label]
        columns = {"PCA-16": pca_scores(X, X_test),
                   "IForest": IsolationForest(random_state=0).fit(X).score_samples(X_test),
                   DEFAULT: detector(image_shape, epochs).fit(X).score_samples(X_test)}
        for column, scores in columns.items():
            aucs.setdefault(column, []).append(roc_auc_score(y_test == label, scores))
    means = {column: float(np.mean(values)) for column, values in aucs.items()}
    verdict = "wins" if means[DEFAULT] > max(means[b] for b in BASELINES) else "LOSES"
    if name == "digits" and view == "images":
        verdict += f", {'meets' if means[DEFAULT] >= IMAGE_TARGET else 'MISSES'} >= {IMAGE_TARGET}"
    print(f"{name:8s} {view:7s} {means['PCA-16']:8.4f} {means['IForest']:8.4f} {means[DEFAULT]:17.4f}   "
          f"{verdict}  ({time.perf_counter() - start:.0f} s)", flush=True)
    print("    per class (default): " + " ".join(f"{c}:{a:.3f}" for c, a in zip(classes, aucs[DEFAULT])), flush=True)
    return means


def breast_cancer(seeds, epochs):
    X, y = load_breast_cancer(return_X_y=True)
    benign, malignant = X[y == 1], X[y == 0]
    aucs = {}
    start = time.perf_counter()
    for seed in range(seeds):
        train, held_out = train_test_split(benign, train_size=0.5, random_state=seed)
        X_test = np.concatenate([held_out, malignant])
        normal = np.r_[np.ones(len(held_out)), np.zeros(len(malignant))]
        for column, model in [("IForest", IsolationForest(random_state=seed)),
                              (DEFAULT, detector(None, epochs, random_state=seed))]:
            aucs.setdefault(column, []).append(roc_auc_score(normal, model.fit(train).score_samples(X_test)))
    means = {column: np.mean(values) for column, values in aucs.items()}
    print(f"breast cancer, benign normal ({len(train)} benign train / {len(held_out)} benign + {len(malignant)} "
          f"malignant test, {seeds} seeds): "
          + ", ".join(f"{c} {means[c]:.4f} +- {np.std(v):.4f}" for c, v in aucs.items())
          + f"   {'wins' if means[DEFAULT] > means['IForest'] else 'LOSES'}  ({time.perf_counter() - start:.0f} s)",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="*", default=["digits", "fashion"], choices=["digits", "fashion"])
    parser.add_argument("--views", nargs="*", default=["rows", "images"], choices=["rows", "images"])
    parser.add_argument("--classes", type=int, nargs="*", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=None, help="override the default model's 100 epochs")
    parser.add_argument("--seeds", type=int, default=5, help="breast cancer: random train/test splits")
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"machine: {describe()}")
    epochs = "the default's epochs (100)" if args.epochs is None else f"{args.epochs} epochs"
    print(f"one-class mean ROC-AUC over classes {args.classes}, {epochs}"
          + ("" if len(args.classes) == 10 else " (not all classes: no verdict on the issue's targets)"))
    breast_cancer(args.seeds, args.epochs)
    print(f"{'data':8s} {'view':7s} {'PCA-16':>8s} {'IForest':>8s} {DEFAULT:>17s}")
    for name in args.data:
        split = load_split(name)
        for view in args.views:
            one_class(split, name, view, args.classes, args.epochs)
    print(f"wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
