"""A reference classifier of a labelled data set: a small network, trained once and cached on disk,
that labels generated rows (class coverage, a GAN's monitor) and gives features for the Frechet
distance (see :mod:`aekit.metrics`).

Its input is standardised by a :class:`~aekit.datasets.scaling.ScalingLayer`; the cache is a
:mod:`aekit.bundle` (``config.json`` and ``model.safetensors``), trained again when the data, the
settings or the cache's format differ.

Example
-------
>>> from aekit.reference import reference_classifier
>>> clf = reference_classifier("digits")  # doctest: +SKIP
>>> clf.accuracy > 0.9  # doctest: +SKIP
True
"""

import json
import math
import os
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import bundle
from .datasets import load
from .datasets._bunch import split_rows
from .datasets.scaling import Scaler, ScalingLayer
from .devices import resolve_device
from .nn.inference import batched
from .seeding import seeded
from .training import Trainer

# 2: a bundle with a checksum and the scaling as a layer (1 kept "format": 1 and two buffers)
CACHE = bundle.Kind("reference classifier", "model.safetensors", "weights_sha256", version=2)
_CONV_CHANNELS, _WIDTH = (16, 32), 128
_BATCH_SIZE, _LR = 128, 1e-3


class _ReferenceNet(nn.Module):
    """Rows (N, n_features) -> scaled -> ``body`` (two conv + pool stages and a dense layer for
    images, two dense layers otherwise) -> (N, 128) features -> (N, n_classes) logits.

    Images are scaled with one offset and scale for all pixels (a layer of width 1): per-pixel
    scaling would blow up a border that is nearly always blank.
    """

    def __init__(self, n_features, n_classes, image_shape=None):
        super().__init__()
        self.n_features = n_features
        self.scaling = ScalingLayer(1 if image_shape is not None else n_features)
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
        return self.body(self.scaling(x))

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

    def _apply(self, fn, X):
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.net.n_features:
            raise ValueError(f"{self.name} classifier: rows must have {self.net.n_features} features, got shape "
                             f"{X.shape}")
        return batched(fn, X, self.net.scaling.offset.device)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities (n_samples, n_classes)."""
        return self._apply(lambda x: F.softmax(self.net(x), dim=1), X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable label of each row."""
        return self.classes_[self._apply(lambda x: self.net(x).argmax(1), X)]

    __call__ = predict

    def features(self, X: np.ndarray) -> np.ndarray:
        """The penultimate layer's activations (n_samples, 128): features for
        :func:`aekit.metrics.frechet_distance`."""
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
    if isinstance(data, str | os.PathLike):
        return str(data), load(data, split="train"), load(data, split="test")
    if not hasattr(data, "data"):
        raise TypeError(f"reference_classifier needs a data set name or a Bunch, got {type(data).__name__}")
    return str(data.get("name") or "data"), split_rows(data, "train"), split_rows(data, "test")


def _train(train, test, classes, settings, device):
    """The network trained on ``train`` with ``settings``, and its accuracy on ``test``."""
    X, y = train.data.astype(np.float32), np.searchsorted(classes, train.target)
    image_shape = settings["image_shape"]
    net = seeded(settings["random_state"], lambda: _ReferenceNet(X.shape[1], len(classes), image_shape))
    net.scaling.set_scaler(Scaler("standard").fit(X.reshape(-1, 1) if image_shape is not None else X))
    net = net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=_LR)

    def step(trainer, batch):
        inputs, labels = batch
        loss = F.cross_entropy(trainer.model(inputs), labels)
        optimizer.zero_grad(set_to_none=True)
        trainer.backward(loss, optimizer)  # through the trainer: processes under torchrun average gradients
        trainer.optimizer_step(optimizer)
        return {"loss": loss}

    rows = (torch.from_numpy(X).to(device), torch.from_numpy(y.astype(np.int64)).to(device))
    shuffle = torch.Generator().manual_seed(settings["random_state"])
    Trainer(net, {"main": optimizer}, epochs=settings["epochs"], batch_size=_BATCH_SIZE,
            generators={"shuffle": shuffle}, step=step).fit(rows)
    net.eval()
    predictions = ReferenceClassifier(net, classes, 0.0, "", None, image_shape).predict(test.data)
    return net, float((predictions == test.target).mean())


def _cached(folder, digest, n_features, image_shape):
    """``(net, config)`` from the cache in ``folder`` when it was trained on the same data and
    settings, else None (no cache, or one unreadable, stale or of another format)."""
    try:
        config, weights = bundle.read(folder, CACHE)
        if config.get("digest") != digest:
            return None
        net = _ReferenceNet(n_features, len(config["classes"]), image_shape)
        net.load_state_dict(weights)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return None
    return net, config


def reference_classifier(data, *, epochs: int | None = None, random_state: int = 0,
                         cache_dir: str | os.PathLike | None = None,
                         device: str | torch.device = "auto") -> ReferenceClassifier:
    """A small classifier of a labelled data set, trained on its train split and cached on disk.

    Used to label generated rows (:func:`aekit.metrics.class_coverage`, a GAN's
    ``monitor_classifier``) and as a feature map for :func:`aekit.metrics.frechet_distance`. Image
    data (the Bunch has an ``image_shape`` of at least 4x4 pixels) gets two conv + max-pool stages
    and a dense layer of 128; other data two dense layers of 128. Trained with Adam for a few
    epochs: ``digits`` in seconds, ``mnist5k`` in well under a minute on a CPU.

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
    image_shape = tuple(image_shape) if image_shape is not None else None
    if epochs is None:
        epochs = int(np.clip(math.ceil(40_000 / len(train.data)), 5, 40))
    settings = {"epochs": int(epochs), "random_state": int(random_state),
                "image_shape": list(image_shape) if image_shape is not None else None,
                "conv_channels": list(_CONV_CHANNELS), "width": _WIDTH}
    digest = bundle.digest(json.dumps(settings, sort_keys=True).encode(),
                           *(np.ascontiguousarray(a).tobytes() for a in (train.data, train.target)))
    folder = _cache_root(cache_dir) / "reference" / (re.sub(r"[^\w.-]+", "_", Path(name).name) or "data")
    device = resolve_device(device)

    cached = _cached(folder, digest, train.data.shape[1], image_shape)
    if cached is not None:
        net, config = cached
        return ReferenceClassifier(net.to(device), np.asarray(config["classes"]), config["accuracy"], name, folder,
                                   image_shape)

    classes = np.unique(np.concatenate([train.target, test.target]))
    net, accuracy = _train(train, test, classes, {**settings, "image_shape": image_shape}, device)
    config = {"name": name, "digest": digest, "classes": classes.tolist(), "accuracy": accuracy,
              "n_train": len(train.data), "settings": settings}
    bundle.write(bundle.encode(folder, CACHE, config, net.state_dict()))
    return ReferenceClassifier(net, classes, accuracy, name, folder, image_shape)


__all__ = ["ReferenceClassifier", "reference_classifier"]
