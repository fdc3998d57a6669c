"""Semi-supervised learning and transfer: a dense classifier head on a pre-trained encoder.

The classifier's network is the encoder of an aekit model (an autoencoder's code, a VAE's posterior
mean, or another classifier's features) followed by a dense head. Training is three calls of the one
training loop: the autoencoder's own ``fit`` on every row (labelled or not), then the head on the
labelled rows' cached features (standardised with the statistics of every row's features), then,
optionally, the whole network with a smaller learning rate for the encoder. The loop's batches are
``(inputs, class indices)``.

How the encoder is laid out (which aekit model it comes from, which dense blocks earlier classifiers
stacked on it) and the classes are fitted state: ``aekit.load`` restores them (``_set_extra_state``)
before it builds the network (``_build_net``) that the saved weights fill.
"""

import copy
import os

import numpy as np
import torch
from sklearn.base import ClassifierMixin, TransformerMixin, clone
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data
from torch import nn
from torch.nn import functional as F

from .. import registry, saving
from ..datasets.scaling import Scaler
from ..datasets.stream import as_stream, row_blocks
from ..devices import resolve_device
from ..estimators import _params as p
from ..estimators._base import BaseAutoencoder, NeuralEstimator, _make_optimizer, _seeded
from ..estimators.autoencoder import Autoencoder
from ..nn import ACTIVATIONS, AutoencoderNet, make_activation
from ..nn.variational import VariationalNet
from ..training import Trainer

UNLABELLED = -1
# Logged per epoch but not trained on: the fraction of misclassified rows.
_LOSS_WEIGHTS = {"error": 0.0}
_SHARED_PARAMS = ("image_shape", "scale", "epochs", "batch_size", "lr", "lr_schedule", "optimizer",
                  "weight_decay", "clip_grad_norm", "validation_fraction", "early_stopping", "checkpoint_dir",
                  "checkpoint_every", "random_state", "device", "verbose")


class ClassifierNet(nn.Module):
    """``encoder`` (N, D) -> (N, width) features, ``head`` features -> (N, n_classes) logits.

    Training batches are ``(scaled rows, class indices)``.
    """

    def __init__(self, encoder, head):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, x):
        return self.head(self.encoder(x))

    def loss_terms(self, inputs, target):
        logits = self(inputs)
        return {"cross_entropy": F.cross_entropy(logits, target),
                "error": (logits.argmax(1) != target).float().mean()}


class _PosteriorMean(nn.Module):
    """A VAE's encoder reduced to the mean of q(z | x): what its ``transform`` gives."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x):
        return self.encoder(x).chunk(2, dim=-1)[0]


def _encoder_part(net):
    """The modules of a fitted aekit network that compute its ``encode`` (no decoder)."""
    if isinstance(net, VariationalNet):
        return _PosteriorMean(net.encoder)
    if isinstance(net, AutoencoderNet):
        return net.encoder
    raise ValueError(f"encoder: {type(net).__name__} has no encoder a classifier can use")


class _Standardise(nn.Module):
    """``(x - offset) / scale`` per feature: fitted to the features of every row, labelled or not,
    so that training the layer above does not depend on the encoder's scale (not trained)."""

    def __init__(self, width):
        super().__init__()
        self.register_buffer("offset", torch.zeros(width))
        self.register_buffer("scale", torch.ones(width))

    def forward(self, x):
        return (x - self.offset) / self.scale


def _dense(width, hidden, activation):
    """Standardisation of ``width`` features, then dense layers of widths ``hidden``, each followed
    by ``activation``."""
    block = nn.Sequential(_Standardise(width))
    for out in hidden:
        block.extend([nn.Linear(width, out), make_activation(activation)])
        width = out
    return block, width


@torch.no_grad()
def _output_width(module, n_features):
    """Width of the features ``module`` computes from rows of ``n_features`` (one row is run)."""
    device = next(module.parameters(), torch.empty(0)).device
    was_training = module.training
    module.eval()  # batch normalisation cannot take a batch of one in training mode
    try:
        out = module(torch.zeros(1, n_features, device=device))
    except Exception as exc:
        raise ValueError(f"encoder: the module fails on rows of {n_features} features ({exc})") from None
    finally:
        module.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        raise ValueError(f"encoder: the module must map (n_samples, {n_features}) rows to (n_samples, width) "
                         f"features; it returned {getattr(out, 'shape', type(out).__name__)}")
    return out.shape[1]


def _weight_layers(module):
    """The modules that hold weights of their own, in order: what ``freeze`` counts."""
    return [m for m in module.modules() if next(m.parameters(recurse=False), None) is not None]


def _is_fitted(estimator):
    return hasattr(estimator, "model_")


def mask_labels(y, n_labeled, random_state=None):
    """A copy of the labels ``y`` in which all but ``n_labeled`` are -1 (unlabelled).

    The labelled rows are drawn at random, as equally from every class as the class sizes allow
    (10 per class for 100 labels of 10 balanced classes); the remainder of an uneven split goes to
    classes chosen at random.

    Parameters
    ----------
    y : array-like of int, shape (n_samples,)
    n_labeled : int
        At least the number of classes and at most the number of rows.
    random_state : int, RandomState or None

    Example
    -------
    >>> mask_labels([0, 0, 0, 1, 1, 1], 2, random_state=0).tolist().count(-1)
    4
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "if":
        raise ValueError(f"y must be a 1-D array of numeric labels (-1 marks unlabelled rows), got {y.dtype} "
                         f"with shape {y.shape}")
    classes, index = np.unique(y, return_inverse=True)
    if not len(classes) <= n_labeled <= len(y):
        raise ValueError(f"n_labeled={n_labeled} must be between the number of classes ({len(classes)}) "
                         f"and the number of rows ({len(y)})")
    rng = check_random_state(random_state)
    order = rng.permutation(len(y))
    # rank of each row within its class in the random order; rows are taken rank by rank
    rank = np.empty(len(y), dtype=np.int64)
    for c in range(len(classes)):
        rows = order[index[order] == c]
        rank[rows] = np.arange(len(rows))
    class_order = rng.permutation(len(classes))[index]
    chosen = np.lexsort((class_order, rank))[:n_labeled]
    masked = np.full_like(y, UNLABELLED)
    masked[chosen] = y[chosen]
    return masked


def _encoder_spec():
    def test(v):
        return v is None or isinstance(v, str | os.PathLike | nn.Module | BaseAutoencoder | AutoencoderClassifier)
    return p.Spec(test, "None, a saved model folder, a fitted aekit autoencoder or AutoencoderClassifier, "
                        "or a torch.nn.Module")


@registry.register("classifier")
class AutoencoderClassifier(ClassifierMixin, TransformerMixin, NeuralEstimator):
    """A classifier on the features of a pre-trained encoder: semi-supervised learning and transfer.

    ``fit(X, y)`` takes every row, labelled or not: ``y == -1`` marks an unlabelled row (the
    scikit-learn convention). The autoencoder is pre-trained on all rows, a dense head is trained
    on the labelled rows' codes (standardised with the mean and standard deviation of every row's
    code), and with ``fine_tune=True`` the whole network is then trained on the labelled rows, the
    encoder with the smaller learning rate ``encoder_lr``.

    For transfer, ``encoder`` supplies an encoder trained elsewhere: a saved model folder, a fitted
    aekit autoencoder (a VAE gives its posterior mean), a fitted ``AutoencoderClassifier`` (its
    features: the encoder and the hidden layers of its head), or any ``torch.nn.Module`` mapping rows
    to (n_samples, width) features (the width is found by running it on one row). Unlabelled rows
    are then not used. The encoder's weights are copied: fitting never changes the given model.

    Parameters
    ----------
    autoencoder : aekit autoencoder, optional
        Pre-trained here on every row of ``X``: a copy is fitted, with the classifier's
        ``random_state``, ``device``, ``image_shape`` and ``verbose`` where the autoencoder leaves
        them at their defaults. An already fitted autoencoder is used as it is (a clone of it, as
        cross-validation makes, is pre-trained again). Default: ``Autoencoder()``.
        ``Autoencoder(..., epochs=0)`` gives the same network from random weights.
    encoder : str, path, fitted aekit estimator or torch.nn.Module, optional
        An encoder trained elsewhere (see above); not together with ``autoencoder``. A clone of
        a fitted estimator is unfitted: give a saved model folder where estimators are cloned
        (cross-validation, grid search).
    freeze : bool or int, default=False
        What fine-tuning leaves unchanged: True for the whole encoder, an integer for its first
        layers with weights (False or 0 for none). Without ``fine_tune`` the encoder is never changed.
    head : tuple of int, default=()
        Widths of the head's hidden layers; () is a softmax regression on the features.
    activation : str, default="relu"
        Activation of the head's hidden layers.
    fine_tune : bool, default=False
        After the head, train the whole network (except frozen layers) for ``fine_tune_epochs``.
    fine_tune_epochs : int, default=100
    encoder_lr : float, optional
        Learning rate of the encoder during fine-tuning; default ``lr / 10``.
    image_shape : tuple (C, H, W), optional
        Shape of each row as an image, given to the autoencoder when it has none.
    scale : {"minmax", "standard", None}, default=None
        Scaling of the data for a ``torch.nn.Module`` encoder; aekit encoders bring their own.
    epochs : int, default=300
        Epochs of head training (cheap: the head learns from the codes, computed once).
    batch_size : int, default=32
    lr : float, default=1e-3
    lr_schedule, optimizer, weight_decay, clip_grad_norm, early_stopping, random_state, device, verbose
        As for :class:`aekit.Autoencoder`; they apply to the head and fine-tuning phases (a schedule
        runs over each phase's epochs).
    validation_fraction : float, default=0.0
        Fraction of the labelled rows held out (seeded) to report ``val_*`` terms and drive early
        stopping.
    checkpoint_dir : str, optional
        Folder for checkpoints of every phase, each in a folder of its own (``pretrain``, ``head``,
        ``fine-tune``), written every ``checkpoint_every`` epochs; ``fit(X, y, resume=True)``
        continues from them. The autoencoder pre-trained here checkpoints into ``pretrain`` unless
        it has a ``checkpoint_dir`` of its own.
    checkpoint_every : int, default=1

    Attributes
    ----------
    classes_ : ndarray
        The labels seen in ``fit`` (without -1).
    model_ : ClassifierNet
        ``model_.encoder`` gives the features, ``model_.head`` the logits.
    autoencoder_ : aekit autoencoder
        The pre-trained autoencoder, when ``encoder`` is None (not saved with the classifier).
    history_ : list of dict
        One dict per epoch with its ``"phase"`` (``"pretrain"``, ``"head"``, ``"fine-tune"``):
        ``cross_entropy``, ``error`` (fraction misclassified), ``val_*`` and ``time``.
    scaler_, n_features_in_, image_shape_, n_parameters_
        As for :class:`aekit.Autoencoder`.

    Example
    -------
    >>> from aekit import Autoencoder, AutoencoderClassifier
    >>> from aekit.apps.classifier import mask_labels
    >>> from aekit.datasets import load
    >>> digits = load("digits")
    >>> y = mask_labels(digits.target, 100, random_state=0)  # 100 labels, 1,697 rows unlabelled
    >>> clf = AutoencoderClassifier(Autoencoder(hidden=(64,), latent=16, epochs=5), epochs=50,
    ...                             random_state=0).fit(digits.data, y)
    >>> clf.predict(digits.data[:3]).shape
    (3,)
    """

    def __init__(self, autoencoder=None, *, encoder=None, freeze=False, head=(), activation="relu",
                 fine_tune=False, fine_tune_epochs=100, encoder_lr=None, image_shape=None, scale=None,
                 epochs=300, batch_size=32, lr=1e-3, lr_schedule=None, optimizer="adam", weight_decay=0.0,
                 clip_grad_norm=None, validation_fraction=0.0, early_stopping=None, checkpoint_dir=None,
                 checkpoint_every=1, random_state=None, device="auto", verbose=False):
        self.autoencoder = autoencoder
        self.encoder = encoder
        self.freeze = freeze
        self.head = head
        self.activation = activation
        self.fine_tune = fine_tune
        self.fine_tune_epochs = fine_tune_epochs
        self.encoder_lr = encoder_lr
        self.image_shape = image_shape
        self.scale = scale
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.clip_grad_norm = clip_grad_norm
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    _param_table = {
        **{name: NeuralEstimator._param_table[name] for name in _SHARED_PARAMS},
        "autoencoder": p.Spec(lambda v: v is None or isinstance(v, BaseAutoencoder),
                              "None or an aekit autoencoder (Autoencoder(), VariationalAutoencoder(), ...)"),
        "encoder": _encoder_spec(),
        "freeze": p.one_of(True, False) | p.integer(0),
        "head": p.widths(),
        "activation": p.one_of(*ACTIVATIONS),
        "fine_tune": p.one_of(True, False),
        "fine_tune_epochs": p.integer(0),
        "encoder_lr": p.real(0, low_open=True) | p.NONE,
    }

    def _validate_params(self):
        p.check_params(self, self._param_table)
        name = type(self).__name__
        if self.autoencoder is not None and self.encoder is not None:
            raise ValueError(f"{name}: give autoencoder= (pre-trained on X) or encoder= (trained elsewhere), "
                             "not both")
        if self.scale is not None and not isinstance(self.encoder, nn.Module):
            raise ValueError(f"{name}: scale={self.scale!r} applies to a torch.nn.Module encoder; an aekit "
                             "encoder is used with the scaling it was trained with")
        if self.freeze is True and self.fine_tune:
            raise ValueError(f"{name}: freeze=True with fine_tune=True leaves no encoder layer to fine-tune; "
                             "give the number of layers to freeze")
        if self.freeze is not True and self.freeze and not self.fine_tune:
            raise ValueError(f"{name}: freeze={self.freeze} only applies to fine-tuning; set fine_tune=True "
                             "(without it the whole encoder stays as it is)")

    # ---- where the encoder comes from -----------------------------------------------------------
    def _source(self, X, seed, resume):
        """The fitted estimator or module that gives the encoder, and the history of pre-training it."""
        if self.encoder is None:
            autoencoder = self.autoencoder if self.autoencoder is not None else Autoencoder()
            if _is_fitted(autoencoder):
                self.autoencoder_ = autoencoder
                return autoencoder, []
            defaults = type(autoencoder)().get_params()
            inherited = {"random_state": seed, "device": self.device, "image_shape": self.image_shape,
                         "verbose": self.verbose, "checkpoint_dir": self.checkpoint_dir and os.path.join(
                             self.checkpoint_dir, "pretrain")}
            self.autoencoder_ = clone(autoencoder).set_params(
                **{k: v for k, v in inherited.items() if autoencoder.get_params()[k] == defaults[k]})
            self.autoencoder_.fit(X, resume=resume and self.autoencoder_.checkpoint_dir is not None)
            # the autoencoder's own phases (greedy layers) stay apart in the record
            return self.autoencoder_, [{**r, "phase": f"pretrain {r['phase']}" if "phase" in r else "pretrain"}
                                       for r in self.autoencoder_.history_]
        if isinstance(self.encoder, str | os.PathLike):
            return saving.load(self.encoder, device=self.device), []
        if not isinstance(self.encoder, nn.Module) and not _is_fitted(self.encoder):
            raise ValueError(f"encoder={type(self.encoder).__name__}(...) is not fitted; give a fitted model or "
                             "its saved folder (or autoencoder= to pre-train it on X)")
        return self.encoder, []

    @staticmethod
    def _layout_of(source):
        """(base, blocks): the aekit estimator (unfitted, for its configuration) or module whose encoder
        starts the features, and the (widths, activation) of the dense blocks stacked on it."""
        if isinstance(source, nn.Module):
            return source, []
        if isinstance(source, AutoencoderClassifier):
            base, blocks = source._layout
            return base, [*blocks, (tuple(source.head), source.activation)]
        if not isinstance(source, BaseAutoencoder):
            raise ValueError(f"encoder: {type(source).__name__} has no encoder a classifier can use")
        return clone(source), []

    @staticmethod
    def _features_of(source):
        """The fitted modules of ``source`` that the layout describes, for copying their weights."""
        if isinstance(source, nn.Module):
            return nn.Sequential(source)
        if isinstance(source, AutoencoderClassifier):
            return nn.Sequential(*source.model_.encoder, source.model_.head[0])
        return nn.Sequential(_encoder_part(source.model_))

    def _network(self, n_features, n_classes):
        """A ClassifierNet of the layout ``self._layout`` for ``n_classes``, with fresh weights."""
        base, blocks = self._layout
        first = copy.deepcopy(base) if isinstance(base, nn.Module) else _encoder_part(
            base._build_net(n_features, self.image_shape_))
        parts, width = [first], _output_width(first, n_features)
        for hidden, activation in blocks:
            block, width = _dense(width, hidden, activation)
            parts.append(block)
        hidden_block, width = _dense(width, self.head, self.activation)
        return ClassifierNet(nn.Sequential(*parts), nn.Sequential(hidden_block, nn.Linear(width, n_classes)))

    # ---- fitting --------------------------------------------------------------------------------
    def fit(self, X, y, *, resume=False):
        """Pre-train on every row of ``X``, then train on the rows whose label ``y`` is not -1.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or rows on disk
            Rows on disk (``aekit.datasets.open_rows``, or a memory map of a ``.npy`` file over
            1 GiB) are read in blocks: the autoencoder trains on them as
            :meth:`aekit.Autoencoder.fit` does, and only the labelled rows are held in memory.
        y : array-like of shape (n_samples,)
            Class labels; -1 marks an unlabelled row (numeric labels only).
        resume : bool, default=False
            Continue from the checkpoints in ``checkpoint_dir`` (which needs an integer
            ``random_state``): finished phases are restored, the interrupted one goes on, and the
            result is that of an uninterrupted run.

        Started by ``torchrun`` as several processes, the processes train every phase together (see
        :mod:`aekit.training.distributed`), each on ``batch_size`` rows of every global batch.

        Returns
        -------
        self
        """
        self._validate_params()
        self._join_processes()
        self._check_resume(resume)
        stream = as_stream(X)
        if stream is None:
            X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
            X = X.astype(np.float32, copy=False)
        else:
            self._check_stream(stream)
            y = column_or_1d(y, warn=True)
            if len(y) != stream.n_rows:
                raise ValueError(f"y has {len(y)} labels but {stream} has {stream.n_rows} rows")
        n_features = self.n_features_in_
        labelled = y != UNLABELLED if y.dtype.kind in "iuf" else np.ones(len(y), dtype=bool)
        if not labelled.any():
            raise ValueError("y has no labelled rows: every label is -1 (unlabelled)")
        check_classification_targets(y[labelled])
        self.classes_, targets = np.unique(y[labelled], return_inverse=True)

        rng = check_random_state(self.random_state)
        pretrain_seed, init_seed, shuffle_seed, split_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=4))
        source, history = self._source(X, pretrain_seed, resume)
        if isinstance(source, nn.Module):
            self.scaler_, self.image_shape_ = Scaler(self.scale).fit(X), None
        else:
            if source.n_features_in_ != n_features:
                raise ValueError(f"the encoder takes {source.n_features_in_} features but X has {n_features}")
            self.scaler_, self.image_shape_ = source.scaler_, source.image_shape_
        if self.image_shape_ is None and self.image_shape is not None:
            self.image_shape_ = self._resolve_image_shape(n_features)
        self._layout = self._layout_of(source)

        device = resolve_device(self.device)
        net = _seeded(init_seed, lambda: self._network(n_features, len(self.classes_)))
        net.encoder.load_state_dict(self._features_of(source).state_dict())
        self.model_ = net.to(device).eval()
        self.n_parameters_ = sum(q.numel() for q in net.parameters())
        frozen = self._frozen(net.encoder)

        # one pass over the rows (block by block when they stay on disk): the features of every row
        # standardise the head's input; the labelled rows and their features are kept to train on
        labelled_rows, labelled_features = [], []

        def feature_blocks():
            for start, block in row_blocks(X):
                rows = self.scaler_.transform(block)
                features = self._batched(net.encoder, rows)
                keep = labelled[start:start + len(rows)]
                labelled_rows.append(rows[keep])
                labelled_features.append(features[keep])
                yield start, features

        statistics = Scaler("standard").fit_blocks(feature_blocks(), "the encoder's features")
        standardise = net.head[0][0]
        standardise.offset.copy_(torch.from_numpy(statistics.offset_))
        standardise.scale.copy_(torch.from_numpy(statistics.scale_))
        rows, features = np.concatenate(labelled_rows), np.concatenate(labelled_features)
        n_val = int(len(rows) * self.validation_fraction)
        order = np.random.RandomState(split_seed).permutation(len(rows))
        splits = (order[n_val:], order[:n_val])  # validation_fraction <= 0.9: training rows remain
        generators = {"shuffle": torch.Generator().manual_seed(shuffle_seed)}

        def train(model, parameters, epochs, inputs, phase):
            data = (torch.from_numpy(np.ascontiguousarray(inputs, np.float32)).to(device),
                    torch.from_numpy(np.asarray(targets, np.int64)).to(device))
            trainer = Trainer(model, {"main": _make_optimizer(self.optimizer, parameters, self.lr, self.weight_decay)},
                              epochs=epochs, batch_size=self.batch_size, generators=generators,
                              callbacks=self._callbacks(resume, checkpoint=phase), loss_weights=_LOSS_WEIGHTS)
            try:
                trainer.fit(*(tuple(t[torch.from_numpy(part).to(device)] for t in data) for part in splits))
            finally:
                history.extend({"phase": phase, **record} for record in trainer.history)

        try:
            # the encoder is fixed while the head learns: its features are computed once
            train(ClassifierNet(nn.Identity(), net.head), net.head.parameters(), self.epochs, features, "head")
            if self.fine_tune:
                ids = {id(q) for q in frozen}
                encoder_lr = self.encoder_lr if self.encoder_lr is not None else self.lr / 10
                groups = [{"params": [q for q in net.encoder.parameters() if id(q) not in ids], "lr": encoder_lr},
                          {"params": list(net.head.parameters())}]
                for q in frozen:
                    q.requires_grad_(False)  # no gradient is computed for them (nor clipped with the others)
                train(net, [g for g in groups if g["params"]], self.fine_tune_epochs, rows, "fine-tune")
        finally:
            for q in frozen:
                q.requires_grad_(True)
            self.history_ = history
            net.eval()
        return self

    def _frozen(self, encoder):
        """The encoder parameters that fine-tuning leaves unchanged (see ``freeze``)."""
        layers = _weight_layers(encoder)
        n_frozen = len(layers) if self.freeze is True else int(self.freeze)
        if n_frozen > len(layers):
            raise ValueError(f"freeze={self.freeze} but the encoder has {len(layers)} layers with weights")
        return [q for layer in layers[:n_frozen] for q in layer.parameters(recurse=False)]

    # ---- saving ---------------------------------------------------------------------------------
    def _build_net(self, n_features, image_shape):
        """For ``aekit.load``: the network of the layout and classes ``_set_extra_state`` restored."""
        return self._network(n_features, len(self.classes_))

    def _extra_state(self):
        base, blocks = self._layout
        if isinstance(base, nn.Module):
            raise ValueError(f"cannot save an {type(self).__name__} whose encoder is a {type(base).__name__}: "
                             "aekit saves configurations as JSON and cannot describe an arbitrary torch "
                             "module; use an aekit model as the encoder, or save model_.state_dict() yourself")
        return {"classes": self.classes_.tolist(),
                "encoder": saving.estimator_to_json(base),
                "blocks": [[list(hidden), activation] for hidden, activation in blocks]}

    def _set_extra_state(self, state):
        self.classes_ = np.asarray(state["classes"])
        self._layout = (saving.estimator_from_json(state["encoder"]),
                        [(tuple(hidden), activation) for hidden, activation in state["blocks"]])

    # ---- using a fitted classifier --------------------------------------------------------------
    def transform(self, X):
        """The features of ``X`` that the head classifies, shape (n_samples, width)."""
        return self._per_row(lambda x: self.model_.encoder(x), X)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in the order of ``classes_``."""
        return self._per_row(lambda x: torch.softmax(self.model_(x), dim=1), X)

    def predict(self, X):
        """The most probable class of each row of ``X``."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError on an unfitted classifier
        return self.classes_[proba.argmax(1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    @property
    def inverse_transform(self):
        # a classifier has no decoder: hide NeuralEstimator's method (hasattr gives False)
        raise AttributeError(f"{type(self).__name__} has no decoder, hence no inverse_transform")


__all__ = ["AutoencoderClassifier", "ClassifierNet", "mask_labels"]
