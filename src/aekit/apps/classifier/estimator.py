"""The semi-supervised and transfer classifier: the estimator, whose ``fit`` is a short sequence of
named phases (see :mod:`.phases`) on an encoder from one of four sources (see :mod:`.sources`); what
the fitted classifier does (predict, transform, save) is in :mod:`.fitted`.
"""

import os
from typing import Self

from sklearn.base import ClassifierMixin, TransformerMixin
from sklearn.utils import check_random_state
from torch import nn

from ... import registry
from ...datasets.scaling import Scaler
from ...devices import resolve_device
from ...estimators import _params as p
from ...estimators._base import BaseAutoencoder, NeuralEstimator
from ...estimators.autoencoder import Autoencoder
from ...nn import ACTIVATIONS
from ...seeding import seeded
from .ensemble import adopt_members, fit_members, members_for
from .fitted import FittedClassifierMixin
from .labels import checked_rows, labelled_classes
from .network import ClassifierNet, frozen_parameters
from .phases import LabelledPhases, labelled_features, pretrain
from .sources import encoder_spec, features_of, given_encoder, is_fitted, layout_of

_SHARED_PARAMS = ("image_shape", "scale", "batch_size", "lr", "lr_schedule", "optimizer",
                  "weight_decay", "clip_grad_norm", "validation_fraction", "early_stopping", "checkpoint_dir",
                  "checkpoint_every", "log_dir", "random_state", "device", "verbose")
# How the unlabelled rows teach the classifier (the ``unlabelled`` parameter); the first is the default.
UNLABELLED_METHODS = ("auto", "graph+consistency", "fixmatch", "pretrain")
# Steps of the joint phase and rows of any kind in each, by method, where the parameters are None
# (FixMatch's chosen in bench/semisup_conv.py: Fashion validation 0.166 against 0.174 with the other pair).
JOINT_BUDGET = {"graph+consistency": (2000, 128), "fixmatch": (3000, 96)}
# unlabelled="fixmatch"'s autoencoder when none is given, from random weights (pre-training it did worse on
# Fashion-MNIST validation, 0.174 -> 0.189; max-pools 0.157 against 0.166 with stride-2 convolutions).
IMAGE_AUTOENCODER = dict(arch="conv-pool", hidden=(32, 64), latent=128, code_activation="relu", scale="auto", epochs=0)


@registry.register("classifier")
class AutoencoderClassifier(FittedClassifierMixin, ClassifierMixin, TransformerMixin, NeuralEstimator):
    """A semi-supervised classifier (``y == -1`` marks an unlabelled row), or a classifier on the
    features of an encoder trained elsewhere (transfer).

    ``fit(X, y)`` takes every row, labelled or not. By default (``unlabelled="auto"``) one network
    learns from both kinds of row at once, in one of two ways. Both first spread the labels over a
    10-nearest-neighbour graph of every row (on their first 50 principal components; label
    spreading, Zhou et al. 2004), giving each row a distribution over the classes; both then train
    the network (the encoder of ``autoencoder`` and a dense head) for ``steps`` Adam steps, each on
    ``batch_size`` labelled rows (drawn with replacement) and ``unlabelled_batch_size`` rows of any
    kind, on cross-entropy on the labelled rows + ``graph_weight`` x cross-entropy against the
    spread distributions + a consistency term:

    - rows without ``image_shape`` (``"graph+consistency"``): ``consistency_weight`` x virtual
      adversarial training (Miyato et al. 2018: the prediction at a row and at the row moved, by
      ``consistency_radius`` x the mean distance of a row to the mean row, in the direction that
      changes it most, should agree) + ``entropy_weight`` x the entropy of the predictions;
    - images (``image_shape`` given; ``"fixmatch"``, Sohn et al. 2020): a small CNN (the encoder of
      a convolutional autoencoder) sees shifted (and with ``flip``, mirrored) views; where its prediction on such a
      weak view is confident (>= 0.95; with few labels, a threshold per class, see ``thresholds``), it is the target
      of ``consistency_weight`` x cross-entropy on a strong view (larger shift, contrast, an erased square; with few
      labels RandAugment) of the same row; the classifier keeps a moving average of the weights (with few labels, in
      two rounds).

    With few labels (up to 30 a class) FixMatch trains ``ensemble`` networks from different seeds, which predict
    together (the mean of their softmaxes): twice the time for a lower error.

    Test error (bench/semisupervised.py, 3 label draws) beside the better of a logistic regression and an MLP on the
    labelled rows: MNIST digits 0.097 vs 0.228 (100 labels), 0.051 vs 0.105 (1,000), without ``image_shape`` (with it
    0.086 at 100 labels with one network, at about 20x the time, twice that for the default two); Fashion-MNIST with
    ``image_shape`` 0.212 vs 0.284 (100, two networks; one 0.216), 0.157 vs 0.189 (1,000), without it 0.290 and 0.185.

    For rows, the network starts from the encoder of ``autoencoder`` pre-trained on every row (its code standardised):
    on a validation split of the digits, 100 labels, this lowered the error in each of 4 label draws (0.092 -> 0.086).
    ``Autoencoder(epochs=0)`` starts from random weights, as the default CNN for images does (pre-training it did
    worse on Fashion-MNIST).

    With ``unlabelled="pretrain"`` (the method of earlier versions) the autoencoder is pre-trained on all rows, a
    dense head is trained on the labelled rows' codes (standardised with the mean and standard deviation of every
    row's code), and with ``fine_tune=True`` the whole network is then trained on the labelled rows, the encoder with
    the smaller learning rate ``encoder_lr``.

    For transfer, ``encoder`` supplies an encoder trained elsewhere: a saved model folder, a fitted aekit autoencoder
    (a VAE gives its posterior mean), a fitted ``AutoencoderClassifier`` (its features: the encoder and its head's
    hidden layers), or any ``torch.nn.Module`` mapping rows to (n_samples, width) features. The head (and fine-tuning)
    train on the labelled rows as with ``"pretrain"``; unlabelled rows are not used. The given model is never changed
    (weights are copied).

    Parameters
    ----------
    autoencoder : aekit autoencoder, optional
        The network's encoder; default ``Autoencoder()`` (784-512-256-16 ReLU layers for MNIST, no batch normalisation:
        virtual adversarial training needs none) with its per-feature min-max scaling, or for ``"fixmatch"``
        ``Autoencoder(**IMAGE_AUTOENCODER)`` (two 3x3 convolutions of 32 and 64 channels, each with a 2x2 max-pool, a
        ReLU code of 128; rows in [0, 1] are not scaled; ``epochs=0``: not pre-trained). A copy is pre-trained here on
        every row of ``X``, with the classifier's ``random_state``, ``device``, ``image_shape`` and ``verbose`` where
        the autoencoder leaves them at their defaults. An already fitted autoencoder is used as it is (a clone of it, as
        cross-validation makes, is unfitted again).
    encoder : str, path, fitted aekit estimator or torch.nn.Module, optional
        An encoder trained elsewhere (see above); not together with ``autoencoder``. A clone of a fitted estimator is
        unfitted: give a saved model folder where estimators are cloned (cross-validation, grid search).
    unlabelled : {"auto", "graph+consistency", "fixmatch", "pretrain"}, default="auto"
        How the unlabelled rows teach the classifier (see above); "auto" is "fixmatch" when ``image_shape`` is given,
        else "graph+consistency".
    steps : int, optional
        Joint-phase steps when ``epochs`` is None, up to 64 passes over the rows; default 2,000 (63 passes over 4,000
        rows sufficed), 3,000 for "fixmatch" (up to 30 labels a class ``phases.FEW_LABEL_STEPS``).
    unlabelled_batch_size : int, optional
        Rows (labelled or not) in each step of the joint phase, beside ``batch_size`` labelled ones; default 128, 96 for
        "fixmatch".
    consistency_weight : float, default=1.0
        Weight of the virtual adversarial term (of the FixMatch term for images); 0 leaves it out.
    consistency_radius : float, default=0.3
        Size of the adversarial move, as a fraction of the mean distance of a scaled row to the mean row (any numeric
        table works unchanged); best of 0.1-1 on the digits (Fashion-MNIST: 0.1, by 0.006).
    entropy_weight : float, default=1.0
        Weight of the entropy of the predictions on the unlabelled batch ("graph+consistency" only).
    graph_weight : float, default=1.0
        Weight of the cross-entropy against the spread labels (digits, 100 labels: 0.146 -> 0.093).
    flip : bool, default=True
        Whether the views of ``"fixmatch"`` mirror images left-right (right for clothes and objects; False where a
        mirror image is another class or none, as for digits and text).
    thresholds : {"auto", "fixed", "flexible", "adaptive"}, default="auto"
        Confidence a pseudo-label of ``"fixmatch"`` needs: 0.95, or per class as FlexMatch (Zhang et al. 2021) or
        FreeMatch (Wang et al. 2023) set it (``ClassStatus``; they start at 0: for far fewer steps, use "fixed").
    distribution_alignment : {"auto", True, False}, default="auto"
        Whether ``"fixmatch"`` aligns weak-view predictions to the labelled class frequencies first (ReMixMatch).
    propagation_rounds : int or "auto", default="auto"
        Rounds of ``"fixmatch"`` sharing ``steps`` (``epochs`` each); after the first, labels spread over the network's
        features.
    augmentation : {"auto", "basic", "randaugment"}, default="auto"
        ``"fixmatch"``'s strong view: "basic" (above) or RandAugment (2 random operations, then an erased square).
        "auto" (these four): by labels a class, see ``phases.few_label_settings``.
    teacher : {"trained", "average"}, default="trained"
        Which network's weak-view prediction is ``"fixmatch"``'s pseudo-label: the trained one, or its moving average.
    test_views : int or "auto", default="auto"
        Images are predicted as the mean softmax over this many fixed views: as they are, mirrored (with ``flip``),
        shifted 1 pixel right, left, down, up (``augment.prediction_views``); "auto": all for "fixmatch", else 1.
    ensemble : int or "auto", default="auto"
        Networks fitted (the first with ``random_state``, the others with seeds drawn from it, see
        ``ensemble.member_seeds``) whose mean softmax is the prediction; "auto": 2 for "fixmatch" with up to 30 labels a
        class (``ensemble.members_for``), else 1.
    freeze : bool or int, default=False
        What fine-tuning leaves unchanged: True for the whole encoder, an integer for its first layers with weights
        (False or 0 for none). Without ``fine_tune`` the encoder is never changed.
    head : tuple of int, default=()
        Widths of the head's hidden layers; () is a softmax regression on the features.
    activation : str, default="relu"
        Activation of the head's hidden layers.
    fine_tune : bool, default=False
        With ``"pretrain"`` or ``encoder``: after the head, train the whole network (except frozen layers) for
        ``fine_tune_epochs`` (the joint phase trains it all anyway).
    fine_tune_epochs : int, default=100
    encoder_lr : float, optional
        Learning rate of the encoder during fine-tuning; default ``lr / 10``.
    image_shape : tuple (C, H, W), optional
        Shape of each row as an image, given to the autoencoder when it has none; with it the default method is
        ``"fixmatch"``.
    scale : {"minmax", "standard", None}, default=None
        Scaling of the data for a ``torch.nn.Module`` encoder; aekit encoders bring their own.
    epochs : int, optional
        Epochs of the joint phase (default: as many as make ``steps`` steps), or of head training with ``"pretrain"`` or
        ``encoder`` (default 300; cheap: the head learns from the codes, computed once).
    batch_size : int, default=32
        Labelled rows per step, in every phase.
    lr : float, default=1e-3
    lr_schedule : {None, "cosine", "linear"}, default=None
        None: in the joint phase, constant for the first half of its epochs and then linearly to 0 (the schedule it was
        measured with); constant in the head and fine-tuning phases.
    optimizer, weight_decay, clip_grad_norm, early_stopping, random_state, device, verbose
        As for :class:`aekit.Autoencoder`; they apply to the joint, head and fine-tuning phases.
    validation_fraction : float, default=0.0
        Fraction of the labelled rows held out (seeded) to report ``val_*`` terms and drive early stopping; their labels
        are not spread either.
    checkpoint_dir : str, optional
        Folder for checkpoints of every phase, each in a folder of its own (``joint``, or ``pretrain``, ``head``,
        ``fine-tune``), written every ``checkpoint_every`` epochs; ``fit(X, y, resume=True)`` continues from them. The
        autoencoder pre-trained here checkpoints into ``pretrain`` unless it has a ``checkpoint_dir`` of its own.
    checkpoint_every : int, default=1
    log_dir : str, optional
        TensorBoard event files, as for :class:`aekit.Autoencoder`: each phase's terms under its name
        (``joint/train/cross_entropy``, say); the autoencoder pre-trained here logs into ``pretrain`` unless it has a
        ``log_dir`` of its own.

    Attributes
    ----------
    classes_ : ndarray
        The labels seen in ``fit`` (without -1).
    model_ : ClassifierNet, or EnsembleNet for several networks
        ``model_.encoder`` gives the features (an ensemble's side by side), ``model_.head`` the logits.
    n_members_ : int
        Networks in ``model_`` (``ensemble`` resolved).
    autoencoder_ : aekit autoencoder
        The pre-trained autoencoder, when ``encoder`` is None (not saved with the classifier).
    history_ : list of dict
        One dict per epoch with its ``"phase"`` (``"pretrain"``, then ``"joint"``, or ``"head"``
        and ``"fine-tune"``): ``cross_entropy``, ``error`` (fraction misclassified; of the labelled
        batches in the joint phase), the joint phase's ``consistency``, ``entropy`` and ``graph``,
        ``val_*`` and ``time``.
    scaler_, n_features_in_, image_shape_, n_parameters_
        As for :class:`aekit.Autoencoder`.

    Example
    -------
    >>> from aekit import Autoencoder, AutoencoderClassifier
    >>> from aekit.apps.classifier import mask_labels
    >>> from aekit.datasets import load
    >>> digits = load("digits")
    >>> y = mask_labels(digits.target, 100, random_state=0)  # 100 labels, 1,697 rows unlabelled
    >>> clf = AutoencoderClassifier(Autoencoder(hidden=(64,), latent=16), steps=100,
    ...                             random_state=0).fit(digits.data, y)
    >>> clf.predict(digits.data[:3]).shape
    (3,)
    """

    def __init__(self, autoencoder=None, *, encoder=None, unlabelled="auto", steps=None, unlabelled_batch_size=None,
                 consistency_weight=1.0, consistency_radius=0.3, entropy_weight=1.0, graph_weight=1.0, flip=True,
                 thresholds="auto", distribution_alignment="auto", propagation_rounds="auto", augmentation="auto",
                 teacher="trained", test_views="auto", ensemble="auto", freeze=False, head=(), activation="relu",
                 fine_tune=False, fine_tune_epochs=100, encoder_lr=None, image_shape=None, scale=None, epochs=None,
                 batch_size=32, lr=1e-3, lr_schedule=None, optimizer="adam", weight_decay=0.0, clip_grad_norm=None,
                 validation_fraction=0.0, early_stopping=None, checkpoint_dir=None, checkpoint_every=1, log_dir=None,
                 random_state=None, device="auto", verbose=False):
        p.store(self, locals())

    _param_table = {
        **{name: NeuralEstimator._param_table[name] for name in _SHARED_PARAMS},
        "epochs": p.integer(0) | p.NONE, "unlabelled": p.one_of(*UNLABELLED_METHODS),
        "steps": p.integer(1) | p.NONE, "unlabelled_batch_size": p.integer(1) | p.NONE,
        **{name: p.real(0) for name in ("consistency_weight", "consistency_radius", "entropy_weight", "graph_weight")},
        "autoencoder": p.Spec(lambda v: v is None or isinstance(v, BaseAutoencoder),
                              "None or an aekit autoencoder (Autoencoder(), VariationalAutoencoder(), ...)"),
        "encoder": encoder_spec(),
        "flip": p.one_of(True, False), "thresholds": p.one_of("auto", "fixed", "flexible", "adaptive"),
        "distribution_alignment": p.one_of("auto", True, False), "propagation_rounds": p.integer(1) | p.one_of("auto"),
        "augmentation": p.one_of("auto", "basic", "randaugment"), "teacher": p.one_of("trained", "average"),
        "test_views": p.integer(1) | p.one_of("auto"), "ensemble": p.integer(1) | p.one_of("auto"),
        "freeze": p.one_of(True, False) | p.integer(0), "head": p.widths(), "activation": p.one_of(*ACTIVATIONS),
        "fine_tune": p.one_of(True, False), "fine_tune_epochs": p.integer(0),
        "encoder_lr": p.real(0, low_open=True) | p.NONE,
    }

    def _validate_params(self):
        p.check_params(self, self._param_table)
        name = type(self).__name__
        if self.autoencoder is not None and self.encoder is not None:
            raise ValueError(f"{name}: give autoencoder= (pre-trained on X) or encoder= (trained elsewhere), not both")
        if self.scale is not None and not isinstance(self.encoder, nn.Module):
            raise ValueError(f"{name}: scale={self.scale!r} applies to a torch.nn.Module encoder; an aekit "
                             "encoder is used with the scaling it was trained with")
        if self._joint() and self.fine_tune:
            raise ValueError(f"{name}: fine_tune=True applies to unlabelled='pretrain' or encoder=; with "
                             f"unlabelled={self._method()!r} the joint phase trains the whole network")
        if self._method() == "fixmatch" and self.image_shape is None:
            raise ValueError(f"{name}: unlabelled='fixmatch' needs image_shape=(C, H, W): it trains on "
                             "shifted, flipped and erased images")
        if self.freeze is True and self.fine_tune:
            raise ValueError(f"{name}: freeze=True with fine_tune=True leaves no encoder layer to fine-tune; "
                             "give the number of layers to freeze")
        if self.freeze is not True and self.freeze and not self.fine_tune:
            raise ValueError(f"{name}: freeze={self.freeze} only applies to fine-tuning; set fine_tune=True "
                             "(without it the whole encoder stays as it is)")

    # ---- fitting --------------------------------------------------------------------------------
    def fit(self, X, y, *, resume: bool = False) -> Self:
        """Train on every row of ``X``, those whose label ``y`` is not -1 and the others (see the
        class's description for how each ``unlabelled`` method uses them).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or rows on disk
            Rows on disk (``aekit.datasets.open_rows``, or a memory map of a ``.npy`` file over
            1 GiB), with ``unlabelled="pretrain"`` or ``encoder``, are read in blocks: the
            autoencoder trains on them as :meth:`aekit.Autoencoder.fit` does, and only the labelled
            rows are held in memory. The joint phase needs every row in memory.
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
        X, y = checked_rows(self, X, y)
        labelled, self.classes_, targets = labelled_classes(y)
        self.n_members_ = members_for(self.ensemble, self._method(), len(targets), len(self.classes_))
        if self.n_members_ > 1:
            return adopt_members(self, fit_members(self, X, y, self.n_members_, resume))
        rng = check_random_state(self.random_state)
        pretrain_seed, init_seed, shuffle_seed, split_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=4))

        source, history = self._source(X, pretrain_seed, resume)
        self._adopt_source(source, X)
        device = resolve_device(self.device)
        net = self._start_network(source, init_seed, device)
        phases = LabelledPhases(self, targets, split_seed=split_seed, shuffle_seed=shuffle_seed, device=device,
                                callbacks=lambda phase: self._callbacks(resume, checkpoint=phase), history=history,
                                budget=self._joint_budget())
        frozen = frozen_parameters(net.encoder, self.freeze)
        statistics, rows, features = labelled_features(net.encoder, self.scaler_, X, labelled, device)
        # the head's first module standardises its input; not for FixMatch, which trains the CNN whole
        # from its start: features standardised there (small at a random start) would multiply its step size
        if self._method() != "fixmatch":
            net.head[0][0].set_scaler(statistics)
        try:
            if self._joint():
                seeds = tuple(int(s) for s in rng.randint(0, 2**31 - 1, size=2))
                if self._method() == "fixmatch":
                    phases.fixmatch(net, self.scaler_.transform(X), labelled, seeds, self.image_shape_, self.flip)
                else:
                    phases.joint(net, self.scaler_.transform(X), labelled, seeds)
            else:
                phases.head(net, features)
                if self.fine_tune:
                    phases.fine_tune(net, rows, frozen)
        finally:
            self.history_ = history
            net.eval()
        return self

    def _method(self) -> str:
        """The method ``fit`` follows: ``unlabelled``, with ``"auto"`` resolved (``"fixmatch"`` for
        images, ``"graph+consistency"`` for other rows), and ``"pretrain"`` for a given encoder."""
        if self.encoder is not None:
            return "pretrain"
        if self.unlabelled == "auto":
            return "fixmatch" if self.image_shape is not None else "graph+consistency"
        return self.unlabelled

    def _joint_budget(self) -> tuple[int, int]:
        """Steps of the joint phase and rows in each: the parameters, or the method's defaults."""
        steps, batch = JOINT_BUDGET.get(self._method(), JOINT_BUDGET["graph+consistency"])
        return (self.steps if self.steps is not None else steps,
                self.unlabelled_batch_size if self.unlabelled_batch_size is not None else batch)

    def _joint(self) -> bool:
        """Whether ``fit`` trains a joint phase (the unlabelled rows through the graph and consistency)."""
        return self._method() in ("graph+consistency", "fixmatch")

    def _source(self, X, seed: int, resume: bool):
        """The fitted estimator or module that gives the encoder, and the history of pre-training it."""
        if self.encoder is not None:
            return given_encoder(self.encoder, self.device), []
        if self.autoencoder is not None:
            autoencoder = self.autoencoder
        else:
            autoencoder = Autoencoder(**IMAGE_AUTOENCODER) if self._method() == "fixmatch" else Autoencoder()
        if is_fitted(autoencoder):
            self.autoencoder_ = autoencoder
            return autoencoder, []
        inherited = {"random_state": seed, "device": self.device, "image_shape": self.image_shape,
                     "verbose": self.verbose,
                     "checkpoint_dir": self.checkpoint_dir and os.path.join(self.checkpoint_dir, "pretrain"),
                     "log_dir": self.log_dir and os.path.join(self.log_dir, "pretrain")}
        self.autoencoder_, history = pretrain(autoencoder, X, inherited, resume)
        return self.autoencoder_, history

    def _adopt_source(self, source, X):
        """Take the scaling, image shape and layout of the features from ``source``."""
        n_features = self.n_features_in_
        if isinstance(source, nn.Module):
            self.scaler_, self.image_shape_ = Scaler(self.scale).fit(X), None
        else:
            if source.n_features_in_ != n_features:
                raise ValueError(f"the encoder takes {source.n_features_in_} features but X has {n_features}")
            self.scaler_, self.image_shape_ = source.scaler_, source.image_shape_
        if self.image_shape_ is None and self.image_shape is not None:
            self.image_shape_ = self._resolve_image_shape(n_features)
        self._layout = layout_of(source)

    def _start_network(self, source, seed: int, device) -> ClassifierNet:
        """``model_``: the network of the layout, a fresh head (seeded) on the weights of ``source``."""
        net = seeded(seed, lambda: self._network(self.n_features_in_, len(self.classes_)))
        net.encoder.load_state_dict(features_of(source).state_dict())
        self.model_ = net.to(device).eval()
        self.n_parameters_ = sum(q.numel() for q in net.parameters())
        return self.model_


__all__ = ["IMAGE_AUTOENCODER", "JOINT_BUDGET", "UNLABELLED_METHODS", "AutoencoderClassifier"]
