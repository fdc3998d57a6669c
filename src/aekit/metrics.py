"""Measures of what a model produces: reconstruction error, PSNR, the Frechet distance between two
sets of rows, and class coverage of generated rows by a reference classifier that aekit trains.

Every function takes rows (n_samples, n_features) in the data's original units.

Example
-------
>>> import numpy as np
>>> from aekit.metrics import frechet_distance, psnr
>>> X = np.random.RandomState(0).rand(500, 4)
>>> round(frechet_distance(X, X), 6)
0.0
>>> round(psnr(X, X + 0.01), 3)
40.0
"""

import hashlib
import json
import math
import os
import re
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_bytes
from torch import nn
from torch.nn import functional as F

from ._fileio import atomic_write_files
from ._version import __version__
from .devices import resolve_device
from .seeding import seeded

_BATCH = 4096


def _rows(X, name="X"):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples, features), got shape {X.shape}")
    return X


# ---- reconstructions ------------------------------------------------------------------------------
def reconstruction_error(X, X_hat):
    """Squared error per row, summed over the features: the "error per image" of the literature.

    Example
    -------
    >>> reconstruction_error([[0.0, 1.0]], [[0.5, 1.0]])
    array([0.25])
    """
    X, X_hat = _rows(X), _rows(X_hat, "X_hat")
    if X.shape != X_hat.shape:
        raise ValueError(f"X and X_hat must have the same shape, got {X.shape} and {X_hat.shape}")
    return np.square(X - X_hat).sum(1)


def psnr(clean, other, peak=1.0, reduction="mean"):
    """Peak signal-to-noise ratio in dB, 10 log10(peak^2 / MSE), of each row of ``other`` against
    the same row of ``clean`` (MSE per row, averaged over its features).

    Parameters
    ----------
    clean, other : array-like (n_samples, n_features)
    peak : float, default=1.0
        The largest possible value (1 for images in [0, 1], 255 for bytes).
    reduction : {"mean", "none"}, default="mean"
        The mean over rows of the per-row PSNR (a float), or the per-row values (an array). An
        identical row has infinite PSNR, and then so has the mean.
    """
    mse = reconstruction_error(clean, other) / np.shape(clean)[1]
    with np.errstate(divide="ignore"):
        per_row = 10 * np.log10(peak ** 2 / mse)
    if reduction == "none":
        return per_row
    if reduction != "mean":
        raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
    return float(per_row.mean())


# ---- Frechet distance -----------------------------------------------------------------------------
def frechet_distance(real, generated, features=None):
    """The Frechet (2-Wasserstein) distance between Gaussians fitted to two sets of rows:
    ``|mu_1 - mu_2|^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))``.

    Parameters
    ----------
    real, generated : array-like (n_samples, n_features)
    features : callable, optional
        ``rows -> features`` applied to both sets first (e.g. ``reference_classifier(...).features``);
        None compares the raw rows.

    Returns
    -------
    float
        0 for two sets with the same mean and covariance; in the squared units of the features.

    Notes
    -----
    With the Inception-v3 pool features of Heusel et al. (2017) this is the FID. With aekit's
    reference classifier's features it is **not** the FID: the numbers are comparable only with
    other numbers computed with the same classifier (same data set, same aekit), and both sets
    should have the same size (the estimate is biased upwards for small sets).

    Example
    -------
    >>> clf = reference_classifier("mnist5k")  # doctest: +SKIP
    >>> frechet_distance(X_test, gan.sample(1000), features=clf.features)  # doctest: +SKIP
    """
    from scipy import linalg

    real, generated = (_rows(features(x) if features is not None else x, name)
                       for x, name in ((real, "real"), (generated, "generated")))
    if real.shape[1] != generated.shape[1]:
        raise ValueError(f"the sets have {real.shape[1]} and {generated.shape[1]} features")
    if min(len(real), len(generated)) < 2:
        raise ValueError("each set needs at least two rows to estimate a covariance")
    mu_1, mu_2 = real.mean(0), generated.mean(0)
    s_1, s_2 = np.atleast_2d(np.cov(real, rowvar=False)), np.atleast_2d(np.cov(generated, rowvar=False))
    with warnings.catch_warnings():
        # constant features make the product singular; the checks below catch a bad root
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s_1 @ s_2)
        if not np.isfinite(covmean).all():
            # shift both covariances by a tiny ridge (as the reference FID code does)
            ridge = np.eye(len(s_1)) * 1e-6
            covmean = linalg.sqrtm((s_1 + ridge) @ (s_2 + ridge))
    if np.iscomplexobj(covmean):
        # rounding gives tiny imaginary parts; large ones mean the covariances are not PSD
        scale = max(1.0, float(np.abs(covmean).max()))
        if np.abs(covmean.imag).max() > 1e-3 * scale:
            raise ValueError(f"the square root of the covariance product has a large imaginary part "
                             f"({np.abs(covmean.imag).max():.3g}); are there enough rows for the features?")
        covmean = covmean.real
    distance = np.square(mu_1 - mu_2).sum() + np.trace(s_1) + np.trace(s_2) - 2 * np.trace(covmean)
    return max(float(distance), 0.0)  # rounding can leave -1e-12 for identical sets


# ---- class coverage -------------------------------------------------------------------------------
class ClassCoverage(NamedTuple):
    """Result of :func:`class_coverage`."""

    coverage: float
    """Fraction of the classes predicted at least once."""
    fractions: np.ndarray
    """Fraction of the rows predicted as each class, in the order of ``classes``."""
    classes: np.ndarray


def _predict(classifier, X):
    if not (hasattr(classifier, "predict") or callable(classifier)):
        raise ValueError(f"classifier must have predict or be a function of rows, got {type(classifier).__name__} "
                         "(aekit.metrics.reference_classifier(dataset) gives one for digit-like data)")
    return np.asarray(classifier.predict(X) if hasattr(classifier, "predict") else classifier(X))


def class_coverage(generated, classifier, n_classes=None):
    """How the rows of ``generated`` spread over the classes ``classifier`` knows: mode collapse
    shows as classes that are never predicted.

    Parameters
    ----------
    generated : array-like (n_samples, n_features)
    classifier : object with ``predict`` or callable rows -> labels
    n_classes : int, optional
        Labels are 0 .. n_classes - 1. Default: the classifier's ``classes_`` when it has them,
        else 0 .. the largest predicted integer label (else the labels predicted: coverage 1).

    Returns
    -------
    ClassCoverage
        ``coverage`` (fraction of classes present), ``fractions`` (per class) and ``classes``.

    Example
    -------
    >>> class_coverage(np.zeros((5, 2)), lambda X: np.zeros(len(X), int), n_classes=4).coverage
    0.25
    """
    labels = _predict(classifier, generated)
    if n_classes is not None:
        classes = np.arange(n_classes)
    elif getattr(classifier, "classes_", None) is not None:
        classes = np.asarray(classifier.classes_)
    elif labels.dtype.kind in "iu" and len(labels):
        classes = np.arange(labels.max() + 1)
    else:
        classes = np.unique(labels)
    fractions = np.array([(labels == c).mean() if len(labels) else 0.0 for c in classes])
    return ClassCoverage(float((fractions > 0).mean()) if len(classes) else 0.0, fractions, classes)


# ---- the reference classifier ---------------------------------------------------------------------
_FORMAT = 1
_CONFIG, _WEIGHTS = "config.json", "model.safetensors"
_CONV_CHANNELS, _WIDTH = (16, 32), 128


class _ClassifierNet(nn.Module):
    """Standardised rows -> ``body`` (two conv + pool stages and a dense layer for images, two dense
    layers otherwise) -> 128 features -> class logits."""

    def __init__(self, n_features, n_classes, image_shape=None):
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("std", torch.ones(n_features))
        if image_shape is not None:
            c, h, w = image_shape
            a, b = _CONV_CHANNELS
            self.body = nn.Sequential(
                nn.Unflatten(1, tuple(image_shape)),
                nn.Conv2d(c, a, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(b * (h // 4) * (w // 4), _WIDTH), nn.ReLU())
        else:
            self.body = nn.Sequential(nn.Linear(n_features, _WIDTH), nn.ReLU(), nn.Linear(_WIDTH, _WIDTH), nn.ReLU())
        self.head = nn.Linear(_WIDTH, n_classes)

    def features(self, x):
        return self.body((x - self.mean) / self.std)

    def forward(self, x):
        return self.head(self.features(x))


class ReferenceClassifier:
    """A trained classifier of one data set, made by :func:`reference_classifier`.

    Attributes
    ----------
    classes_ : ndarray
        The labels, in the order of ``predict_proba``'s columns.
    accuracy : float
        Accuracy on the data set's test split.
    name : str
    path : Path
        The cache folder it was saved in.
    """

    def __init__(self, net, classes, accuracy, name, path, image_shape):
        self.net = net.eval()
        self.classes_ = np.asarray(classes)
        self.accuracy = accuracy
        self.name = name
        self.path = path
        self.image_shape = image_shape

    @torch.no_grad()
    def _apply(self, fn, X):
        X = np.asarray(X, dtype=np.float32)
        n_features = self.net.mean.shape[0]
        if X.ndim != 2 or X.shape[1] != n_features:
            raise ValueError(f"{self.name} classifier: rows must have {n_features} features, got shape {X.shape}")
        device = self.net.mean.device
        out = [fn(torch.from_numpy(X[i:i + _BATCH]).to(device)).cpu() for i in range(0, len(X), _BATCH)]
        return torch.cat(out).numpy() if out else np.empty((0,), np.float32)

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes)."""
        return self._apply(lambda x: F.softmax(self.net(x), dim=1), X)

    def predict(self, X):
        """The most probable label of each row."""
        return self.classes_[self._apply(lambda x: self.net(x).argmax(1), X)]

    __call__ = predict

    def features(self, X):
        """The penultimate layer's activations (n_samples, 128): features for :func:`frechet_distance`."""
        return self._apply(self.net.features, X)

    def __repr__(self):
        return f"ReferenceClassifier({self.name!r}, accuracy={self.accuracy:.4f})"


def _cache_root(cache_dir):
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get("AEKIT_CACHE"):
        return Path(os.environ["AEKIT_CACHE"])
    return Path.home() / ".cache" / "aekit"


def _splits(data):
    from .datasets import load
    from .datasets._bunch import split_rows

    if isinstance(data, str | os.PathLike):
        return str(data), load(data, split="train"), load(data, split="test")
    if not hasattr(data, "data"):
        raise TypeError(f"reference_classifier needs a data set name or a Bunch, got {type(data).__name__}")
    return str(data.get("name") or "data"), split_rows(data, "train"), split_rows(data, "test")


def _digest(train, settings):
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for array in (train.data, train.target):
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _train(train, test, classes, settings, device):
    from .training import Trainer

    X, y = train.data.astype(np.float32), np.searchsorted(classes, train.target)
    image_shape = settings["image_shape"]
    net = seeded(settings["random_state"], lambda: _ClassifierNet(X.shape[1], len(classes), image_shape))
    if image_shape is not None:  # one scale for all pixels: a blank border must not blow up
        net.mean.fill_(float(X.mean()))
        net.std.fill_(float(X.std()) or 1.0)
    else:
        std = X.std(0)
        net.mean.copy_(torch.from_numpy(X.mean(0)))
        net.std.copy_(torch.from_numpy(np.where(std > 0, std, 1.0).astype(np.float32)))
    net = net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step(trainer, batch):
        inputs, labels = batch
        loss = F.cross_entropy(trainer.model(inputs), labels)
        optimizer.zero_grad(set_to_none=True)
        trainer.backward(loss, optimizer)  # through the trainer: processes under torchrun average gradients
        trainer.optimizer_step(optimizer)
        return {"loss": loss}

    rows = (torch.from_numpy(X).to(device), torch.from_numpy(y.astype(np.int64)).to(device))
    shuffle = torch.Generator().manual_seed(settings["random_state"])
    Trainer(net, {"main": optimizer}, epochs=settings["epochs"], batch_size=128, generators={"shuffle": shuffle},
            step=step).fit(rows)
    net.eval()
    predictions = ReferenceClassifier(net, classes, 0.0, "", None, image_shape).predict(test.data)
    return net, float((predictions == test.target).mean())


def reference_classifier(data, *, epochs=None, random_state=0, cache_dir=None, device="auto"):
    """A small classifier of a labelled data set, trained on its train split and cached on disk.

    Used to label generated rows (:func:`class_coverage`, a GAN's ``monitor_classifier``) and as a
    feature map for :func:`frechet_distance`. Image data (the Bunch has an ``image_shape`` of at
    least 4x4 pixels) gets two conv + max-pool stages and a dense layer of 128; other data two
    dense layers of 128. Trained with Adam for a few epochs: ``digits`` in seconds, ``mnist5k`` in
    well under a minute on a CPU.

    Parameters
    ----------
    data : str or Bunch
        A name or path :func:`aekit.datasets.load` accepts, or a loaded Bunch with labels; its
        fixed train / test split is used.
    epochs : int, optional
        Default: enough passes for about 40,000 rows, between 5 and 40.
    random_state : int, default=0
    cache_dir : path, optional
        Default ``$AEKIT_CACHE``, else ``~/.cache/aekit``. The classifier is kept in
        ``<cache_dir>/reference/<name>/`` as ``config.json`` and ``model.safetensors`` (no pickle),
        and retrained when the training data or the settings differ from the cached ones.
    device : str, default="auto"

    Returns
    -------
    ReferenceClassifier
        ``predict``, ``predict_proba``, ``features``, ``classes_``, ``accuracy`` (test split).

    Example
    -------
    >>> clf = reference_classifier("digits")  # doctest: +SKIP
    >>> clf.accuracy > 0.9  # doctest: +SKIP
    True
    """
    name, train, test = _splits(data)
    if train.target is None or test.target is None:
        raise ValueError(f"{name}: a reference classifier needs labelled data")
    image_shape = train.get("image_shape")
    if image_shape is not None and min(image_shape[1:]) < 4:
        image_shape = None
    if epochs is None:
        epochs = int(np.clip(math.ceil(40_000 / len(train.data)), 5, 40))
    settings = {"epochs": int(epochs), "random_state": int(random_state),
                "image_shape": list(image_shape) if image_shape is not None else None,
                "conv_channels": list(_CONV_CHANNELS), "width": _WIDTH}
    classes = np.unique(np.concatenate([train.target, test.target]))
    digest = _digest(train, settings)
    folder = _cache_root(cache_dir) / "reference" / (re.sub(r"[^\w.-]+", "_", Path(name).name) or "data")
    device = resolve_device(device)

    config_path = folder / _CONFIG
    if config_path.exists():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            if config.get("format") == _FORMAT and config.get("digest") == digest:
                net = _ClassifierNet(train.data.shape[1], len(config["classes"]), image_shape)
                net.load_state_dict(safetensors_load((folder / _WEIGHTS).read_bytes()))
                return ReferenceClassifier(net.to(device), np.asarray(config["classes"]), config["accuracy"], name,
                                           folder, image_shape)
        except (OSError, ValueError, KeyError, RuntimeError):
            pass  # unreadable or stale: train again and overwrite

    settings["image_shape"] = tuple(image_shape) if image_shape is not None else None
    net, accuracy = _train(train, test, classes, settings, device)
    state = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    config = {"format": _FORMAT, "aekit_version": __version__, "name": name, "digest": digest,
              "classes": classes.tolist(), "accuracy": accuracy, "n_train": len(train.data),
              "settings": {**settings, "image_shape": list(image_shape) if image_shape is not None else None}}
    atomic_write_files({folder / _WEIGHTS: safetensors_bytes(state),
                        folder / _CONFIG: json.dumps(config, indent=2).encode()})
    return ReferenceClassifier(net, classes, accuracy, name, folder, image_shape)


# ---- retrieval ------------------------------------------------------------------------------------
def precision_at_k(index, Q, q_labels, db_labels, k=10):
    """Mean over queries of the fraction of their ``k`` nearest stored items that share their label.

    Parameters
    ----------
    index : aekit.CodeIndex
    Q : array-like (n_queries, n_features)
        Query rows, encoded by the index's estimator; codes if the index has no estimator.
    q_labels : array-like (n_queries,)
    db_labels : array-like (n_items,)
        Labels of the stored items in the order they were added (the order of ``index.ids_``).
    k : int, default=10

    Returns
    -------
    float
        In [0, 1]; a neighbour an approximate search did not find counts as a miss.

    Example
    -------
    >>> from aekit import CodeIndex
    >>> index = CodeIndex()
    >>> index.add_codes([[0.0], [0.1], [5.0], [5.1]])
    >>> precision_at_k(index, [[0.05], [5.2]], q_labels=[0, 1], db_labels=[0, 0, 1, 0], k=2)
    0.75
    """
    q_labels, db_labels = np.asarray(q_labels), np.asarray(db_labels)
    if q_labels.shape != (len(Q),):
        raise ValueError(f"q_labels must have one label per query ({len(Q)}), got shape {q_labels.shape}")
    if db_labels.shape != (len(index),):
        raise ValueError(f"db_labels must have one label per stored item ({len(index)}), got shape "
                         f"{db_labels.shape}")
    search = index.search if index.estimator is not None else index.search_codes
    _, ids = search(Q, k)
    # stored ids -> positions in the order of addition (ids may be any integers)
    order = np.argsort(index.ids_, kind="stable")
    positions = order[np.searchsorted(index.ids_[order], ids).clip(0, len(order) - 1)]
    hits = (db_labels[positions] == q_labels[:, None]) & (ids >= 0)
    return float(hits.mean()) if hits.size else 0.0


__all__ = ["ClassCoverage", "ReferenceClassifier", "class_coverage", "frechet_distance", "precision_at_k", "psnr",
           "reference_classifier", "reconstruction_error"]
