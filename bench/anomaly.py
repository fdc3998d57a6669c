"""Anomaly detection: one-class MNIST (ROC-AUC per digit) and breast cancer against IsolationForest.

One-class MNIST follows Ruff et al. (2018, Deep SVDD): for each digit, a detector is trained on that
digit's training images only (the ~400 of the mnist5k train split, values in [0, 1]) and scores
the whole test split (1,000 digits), the nine other digits being the anomalies; the table gives
ROC-AUC per digit and the mean. Baselines: PCA-16 reconstruction error and a plain 784-256-16 MLP
autoencoder's reconstruction error (ReLU, linear code, sigmoid output, squared error, Adam 1e-3,
batch 128, 100 epochs). aekit's candidates reuse one trained model per family for every score
(an ``AnomalyDetector`` given a fitted autoencoder does not train it again):

- the MLP autoencoder above and a VAE (aekit's defaults: 784-512-256-16, Bernoulli, 100 epochs);
- a convolutional autoencoder (32-64 channels, 16 codes, 100 epochs): what ``AnomalyDetector``
  builds by default for images;
- scores: reconstruction error, relative error (divided by the image's squared norm), Gaussian
  mixture density of the codes, IWAE log-likelihood (VAE), and sums of standardised scores.

"default" is ``AnomalyDetector(image_shape=(1, 28, 28), random_state=0)`` as it is (what
``aekit train anomaly --data mnist5k`` trains): the conv model, relative error + code density.

Breast cancer (scikit-learn's Wisconsin data, 30 features, 357 benign, 212 malignant): benign is
normal. For each of 5 seeds, half of the benign rows (random) train the detector; the held-out
benign rows and all malignant rows are scored. ROC-AUC mean and standard deviation over the seeds
for ``AnomalyDetector(random_state=seed)`` as it is and ``IsolationForest(random_state=seed)``.

Run: python bench/anomaly.py [--digits 0 1 ...] [--epochs 100] [--seeds 5]
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
from aekit import AnomalyDetector, Autoencoder, VariationalAutoencoder
from aekit.datasets import load

TARGET = 0.96


def pca_scores(X, X_test, n_components=16):
    """Minus the squared error of the PCA reconstruction: the classic baseline."""
    pca = PCA(n_components, random_state=0).fit(X)
    return -np.square(pca.inverse_transform(pca.transform(X_test)) - X_test).sum(1)


def digit_columns(X, X_test, epochs):
    """Name -> test scores of every candidate for one digit's training images ``X``."""
    common = dict(epochs=epochs, scale=None, random_state=0, device="cpu")
    default = AnomalyDetector(image_shape=(1, 28, 28), epochs=epochs, random_state=0, device="cpu").fit(X)
    models = {
        "MLP": Autoencoder(hidden=(256,), latent=16, **common).fit(X),
        "conv": default.autoencoder_,
        "VAE": VariationalAutoencoder(**common).fit(X),
    }
    columns = {"PCA-16 recon": pca_scores(X, X_test)}
    for label, model, scores in [
        ("MLP recon (plain AE)", "MLP", "reconstruction"),
        ("MLP relative", "MLP", "relative"),
        ("MLP relative+density", "MLP", ("relative", "density")),
        ("conv recon", "conv", "reconstruction"),
        ("conv relative", "conv", "relative"),
        ("conv recon+density", "conv", ("reconstruction", "density")),
        ("VAE likelihood", "VAE", "likelihood"),
        ("VAE relative+density", "VAE", ("relative", "density")),
    ]:
        detector = AnomalyDetector(models[model], scores=scores, random_state=0).fit(X)
        columns[label] = detector.score_samples(X_test)
    columns["default (conv relative+density)"] = default.score_samples(X_test)
    return columns


def one_class_mnist(digits, epochs):
    train, test = load("mnist5k", split="train"), load("mnist5k", split="test")
    aucs = {}
    for digit in digits:
        start = time.perf_counter()
        columns = digit_columns(train.data[train.target == digit], test.data, epochs)
        for name, scores in columns.items():
            aucs.setdefault(name, []).append(roc_auc_score(test.target == digit, scores))
        print(f"  digit {digit} done in {time.perf_counter() - start:.0f} s", flush=True)
    width = max(map(len, aucs))
    print(f"{'ROC-AUC':{width}s} " + " ".join(f"{d:>6d}" for d in digits) + "    mean")
    for name, values in aucs.items():
        print(f"{name:{width}s} " + " ".join(f"{v:6.3f}" for v in values) + f"  {np.mean(values):6.4f}")
    mean = np.mean(aucs["default (conv relative+density)"])
    print(f"target: default detector mean AUC >= {TARGET}: {mean:.4f}, {'met' if mean >= TARGET else 'NOT met'}"
          + ("" if len(digits) == 10 else " (not all digits: no verdict on the target)"))


def breast_cancer(seeds):
    X, y = load_breast_cancer(return_X_y=True)
    benign, malignant = X[y == 1], X[y == 0]
    aucs = {}
    for seed in range(seeds):
        train, held_out = train_test_split(benign, train_size=0.5, random_state=seed)
        X_test = np.concatenate([held_out, malignant])
        normal = np.r_[np.ones(len(held_out)), np.zeros(len(malignant))]
        detector = AnomalyDetector(random_state=seed, device="cpu").fit(train)
        recon = AnomalyDetector(detector.autoencoder_, scores="reconstruction").fit(train)
        density = AnomalyDetector(detector.autoencoder_, scores="density", random_state=seed).fit(train)
        forest = IsolationForest(random_state=seed).fit(train)
        for name, model in [("default AnomalyDetector (recon+density)", detector),
                            ("  its reconstruction error alone", recon), ("  its code density alone", density),
                            ("IsolationForest", forest)]:
            aucs.setdefault(name, []).append(roc_auc_score(normal, model.score_samples(X_test)))
    print(f"breast cancer, benign normal: {len(train)} benign train / {len(held_out)} benign + "
          f"{len(malignant)} malignant test, {seeds} seeds (default model: {detector.autoencoder_!r})")
    for name, values in aucs.items():
        print(f"  {name:42s} ROC-AUC {np.mean(values):.4f} +- {np.std(values):.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, nargs="*", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5, help="breast cancer: random train/test splits")
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"machine: {describe()}")
    print(f"one-class MNIST (mnist5k: ~400 train images per digit, 1,000 test digits), {args.epochs} epochs")
    one_class_mnist(args.digits, args.epochs)
    breast_cancer(args.seeds)
    print(f"wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
