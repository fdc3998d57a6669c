"""The phases of a classifier's training, each a call of the one training loop.

1. :func:`pretrain`: the autoencoder's own ``fit`` on every row, labelled or not;
2. :func:`labelled_features`: one pass over the rows for the statistics of every row's features
   (they standardise the head's input) and the labelled rows' features, computed once;
3. :meth:`LabelledPhases.head`: the head on those cached features, the encoder fixed;
4. :meth:`LabelledPhases.fine_tune`: optionally the whole network on the labelled rows, the encoder
   with a smaller learning rate and its first layers frozen.

Or, with ``unlabelled="graph+consistency"``, one phase instead of all four:
:meth:`LabelledPhases.joint` trains the whole network on the labelled rows and every row at once
(see :mod:`.consistency`), every row's target its label distribution spread over a neighbour graph
(see :mod:`.graph`); for images, ``unlabelled="fixmatch"``, :meth:`LabelledPhases.fixmatch` does
the same with augmented views (see :mod:`.fixmatch`).

The loop's batches are ``(inputs, class indices)``, or in the joint phase ``(rows, spread label
distributions)``.
"""

import math
from collections.abc import Callable

import numpy as np
import torch
from sklearn.base import clone
from torch import nn

from ...datasets.scaling import Scaler
from ...datasets.stream import row_blocks
from ...estimators._base import BaseAutoencoder
from ...nn.inference import batched
from ...training import Trainer, make_optimizer
from .consistency import DecayInSecondHalf, JointStep, data_radius
from .fixmatch import AveragedNet, ClassStatus, FixMatchStep
from .graph import spread_labels
from .network import ClassifierNet

# Logged per epoch but not trained on: the fraction of misclassified rows.
_LOSS_WEIGHTS = {"error": 0.0}
# Epochs of head training when the classifier's ``epochs`` is None.
HEAD_EPOCHS = 300


def pretrain(autoencoder: BaseAutoencoder, X, inherited: dict, resume: bool) -> tuple[BaseAutoencoder, list[dict]]:
    """A copy of ``autoencoder`` fitted on every row of ``X``, and its history as records of the
    classifier's; ``inherited`` settings replace those the autoencoder leaves at their defaults.

    Example
    -------
    >>> fitted, history = pretrain(Autoencoder(epochs=2), X, {"random_state": 0}, False)  # doctest: +SKIP
    >>> [r["phase"] for r in history]  # doctest: +SKIP
    ['pretrain', 'pretrain']
    """
    defaults, given = type(autoencoder)().get_params(), autoencoder.get_params()
    fitted = clone(autoencoder).set_params(**{k: v for k, v in inherited.items() if given[k] == defaults[k]})
    fitted.fit(X, resume=resume and fitted.checkpoint_dir is not None)
    # the autoencoder's own phases (greedy layers) stay apart in the record
    return fitted, [{**r, "phase": f"pretrain {r['phase']}" if "phase" in r else "pretrain"} for r in fitted.history_]


def labelled_features(encoder: nn.Module, scaler: Scaler, X, labelled: np.ndarray,
                      device: torch.device) -> tuple[Scaler, np.ndarray, np.ndarray]:
    """One pass over the rows of ``X`` (block by block when they stay on disk): a standard Scaler
    fitted to the features of every row, and the scaled rows whose ``labelled`` is True and their
    features, the only rows held in memory.

    Example
    -------
    >>> statistics, rows, features = labelled_features(net.encoder, scaler, X, y != -1, "cpu")  # doctest: +SKIP
    """
    rows, features = [], []

    def feature_blocks():
        for start, block in row_blocks(X):
            scaled = scaler.transform(block)
            out = batched(encoder, scaled, device)
            keep = labelled[start:start + len(scaled)]
            rows.append(scaled[keep])
            features.append(out[keep])
            yield start, out

    statistics = Scaler("standard").fit_blocks(feature_blocks(), "the encoder's features")
    return statistics, np.concatenate(rows), np.concatenate(features)


class LabelledPhases:
    """The phases that train on the labelled rows (the head, then fine-tuning): a Trainer each, all
    sharing the class indices ``targets``, the seeded validation split, the stream that shuffles the
    batches, and the record ``history`` that they extend even when interrupted.

    ``settings`` is the classifier (its ``optimizer``, ``lr``, ``weight_decay``, ``batch_size``,
    ``validation_fraction``, ``epochs``, ``fine_tune_epochs`` and ``encoder_lr``; for the joint phase
    also ``lr_schedule``, the terms' weights and ``consistency_radius``); ``callbacks(phase)`` gives the
    loop's callbacks of a phase; ``budget`` the joint phase's steps and rows of any kind in each step.
    """

    def __init__(self, settings, targets: np.ndarray, *, split_seed: int, shuffle_seed: int, device: torch.device,
                 callbacks: Callable[[str], list], history: list[dict], budget: tuple[int, int] = (2000, 128)):
        self.settings, self.device, self.callbacks, self.history = settings, device, callbacks, history
        self.budget = budget
        self.targets = torch.from_numpy(np.asarray(targets, np.int64)).to(device)
        self.n_classes = int(np.max(targets)) + 1
        n_val = int(len(targets) * settings.validation_fraction)
        order = np.random.RandomState(split_seed).permutation(len(targets))
        self.splits = (order[n_val:], order[:n_val])  # validation_fraction <= 0.9: training rows remain
        self.generators = {"shuffle": torch.Generator().manual_seed(shuffle_seed)}

    def run(self, model: nn.Module, parameters, epochs: int, inputs: np.ndarray, phase: str) -> None:
        """Train ``model``'s ``parameters`` (tensors or groups) on ``inputs`` and the targets."""
        s = self.settings
        data = (torch.from_numpy(np.ascontiguousarray(inputs, np.float32)).to(self.device), self.targets)
        trainer = Trainer(model, {"main": make_optimizer(s.optimizer, parameters, s.lr, s.weight_decay)},
                          epochs=epochs, batch_size=s.batch_size, generators=self.generators,
                          callbacks=self.callbacks(phase), loss_weights=_LOSS_WEIGHTS)
        try:
            trainer.fit(*(tuple(t[torch.from_numpy(part).to(self.device)] for t in data) for part in self.splits))
        finally:
            self.history.extend({"phase": phase, **record} for record in trainer.history)

    def head(self, net: ClassifierNet, features: np.ndarray) -> None:
        """Train the head on the labelled rows' ``features``: the encoder is fixed, so they were
        computed once."""
        epochs = self.settings.epochs if self.settings.epochs is not None else HEAD_EPOCHS
        self.run(ClassifierNet(nn.Identity(), net.head), net.head.parameters(), epochs, features, "head")

    def fine_tune(self, net: ClassifierNet, rows: np.ndarray, frozen: list[nn.Parameter]) -> None:
        """Train the whole network on the labelled ``rows`` but the ``frozen`` parameters, the
        encoder at ``encoder_lr`` (default: a tenth of ``lr``)."""
        s = self.settings
        ids = {id(q) for q in frozen}
        encoder_lr = s.encoder_lr if s.encoder_lr is not None else s.lr / 10
        groups = [{"params": [q for q in net.encoder.parameters() if id(q) not in ids], "lr": encoder_lr},
                  {"params": list(net.head.parameters())}]
        try:
            for q in frozen:
                q.requires_grad_(False)  # no gradient is computed for them (nor clipped with the others)
            self.run(net, [g for g in groups if g["params"]], s.fine_tune_epochs, rows, "fine-tune")
        finally:
            for q in frozen:
                q.requires_grad_(True)

    def joint(self, net: ClassifierNet, rows: np.ndarray, labelled: np.ndarray, seeds: tuple[int, int]) -> None:
        """Train the whole network on the scaled ``rows`` (every row, in memory) and the training
        part of those whose ``labelled`` is True: label spreading first, then the joint phase of
        :mod:`.consistency`. ``seeds`` start the generators of the labelled batches and of the VAT
        directions."""
        s = self.settings
        inputs, spread, labelled_train, validation = self._spread(rows, labelled)
        step = JointStep(inputs[labelled_train], self.targets[self.splits[0]], s.batch_size,
                         data_radius(inputs, s.consistency_radius))
        weights = {"cross_entropy": 1.0, "error": 0.0, "consistency": s.consistency_weight,
                   "entropy": s.entropy_weight, "graph": s.graph_weight}
        self._train_joint(net, net.parameters(), step, weights, {"consistency": seeds[1]}, seeds[0],
                          (inputs, spread), validation)

    def fixmatch(self, net: ClassifierNet, rows: np.ndarray, labelled: np.ndarray, seeds: tuple[int, int],
                 image_shape: tuple[int, int, int], mirror: bool) -> None:
        """As :meth:`joint`, for rows that are images of ``image_shape``: the FixMatch phase of
        :mod:`.fixmatch` (views flipped left-right when ``mirror``); ``net`` ends with the moving
        average of the weights. ``seeds`` start the generators of the labelled batches and of the views.

        With ``propagation_rounds`` r > 1 the phase runs r times (phases ``joint``, ``joint 2``, ...),
        each on 1/r of the steps, each round after the first on labels spread over a neighbour graph
        of the network's own features instead of the rows' (Iscen et al. 2019; see :func:`feature_spread`)."""
        s = self.settings
        inputs, spread, labelled_train, validation = self._spread(rows, labelled)
        targets = self.targets[self.splits[0]]
        thresholds, align, rounds, augmentation, steps = few_label_settings(s, len(targets), self.n_classes)
        for round_ in range(rounds):
            if round_:
                spread = torch.from_numpy(feature_spread(net, inputs, self._known(len(rows), labelled_train),
                                                         self.n_classes)).to(self.device)
            model, status = AveragedNet(net), None
            if thresholds != "fixed" or align:
                # the labelled rows' class frequencies are the prior; a part of the model: checkpoints carry it
                prior = torch.bincount(targets, minlength=self.n_classes).float() + 1
                model.status = status = ClassStatus(prior / prior.sum())
            step = FixMatchStep(inputs[labelled_train], targets, s.batch_size, image_shape, mirror,
                                status=status, align=align, thresholds=thresholds, augmentation=augmentation,
                                teacher=s.teacher)
            weights = {"cross_entropy": 1.0, "error": 0.0, "confident": 0.0, "consistency": s.consistency_weight,
                       "graph": s.graph_weight}
            self._train_joint(model, net.parameters(), step, weights, {"augment": seeds[1] + round_},
                              seeds[0] + round_, (inputs, spread), validation,
                              phase=f"joint {round_ + 1}" if round_ else "joint",
                              steps=math.ceil((steps or self.budget[0]) / rounds))
            net.load_state_dict(model.average.state_dict())

    def _known(self, n_rows: int, labelled_train: np.ndarray) -> np.ndarray:
        """Class index of each of ``n_rows`` rows, -1 but for the labelled training rows."""
        known = np.full(n_rows, -1)
        known[labelled_train] = self.targets[self.splits[0]].cpu().numpy()
        return known

    def _spread(self, rows: np.ndarray, labelled: np.ndarray):
        """The rows as a tensor, their spread label distributions (from the training part of the
        labels: the validation labels stay unseen), the indices of the labelled training rows, and
        the validation pair (rows, class indices)."""
        train, val = self.splits
        labelled_train = np.flatnonzero(labelled)[train]
        known = self._known(len(rows), labelled_train)
        spread = torch.from_numpy(spread_labels(rows, known, self.n_classes)).to(self.device)
        inputs = torch.from_numpy(np.ascontiguousarray(rows, np.float32)).to(self.device)
        return inputs, spread, labelled_train, (inputs[np.flatnonzero(labelled)[val]], self.targets[val])

    def _train_joint(self, model: nn.Module, parameters, step, weights: dict[str, float], step_seeds: dict[str, int],
                     labelled_seed: int, data, validation, phase: str = "joint", steps: int | None = None) -> None:
        """The joint phase's Trainer (``step``, the loss ``weights``, the generators ``"labelled"`` and
        ``step_seeds``) on ``data`` (rows, spread distributions), recorded as ``phase``; ``steps``
        (default the budget's) when the classifier's ``epochs`` is None."""
        s = self.settings
        generators = {**self.generators, "labelled": torch.Generator().manual_seed(labelled_seed),
                      **{name: torch.Generator().manual_seed(seed) for name, seed in step_seeds.items()}}
        steps, batch_size = (steps or self.budget[0]), self.budget[1]
        epochs = s.epochs if s.epochs is not None else joint_epochs(steps, len(data[0]), batch_size)
        callbacks = self.callbacks(phase) + ([DecayInSecondHalf()] if s.lr_schedule is None else [])
        trainer = Trainer(model, {"main": make_optimizer(s.optimizer, parameters, s.lr, s.weight_decay)},
                          epochs=epochs, batch_size=batch_size, generators=generators,
                          callbacks=callbacks, loss_weights=weights, step=step)
        try:
            trainer.fit(data, validation)
        finally:
            self.history.extend({"phase": phase, **record} for record in trainer.history)


def feature_spread(net: ClassifierNet, inputs: torch.Tensor, known: np.ndarray, n_classes: int) -> np.ndarray:
    """Label distributions (n_rows, n_classes) of the rows ``inputs``, the class indices ``known``
    (-1: none) spread over a neighbour graph of ``net``'s features (each scaled to unit length),
    each row's distribution weighted by its certainty, 1 - entropy / log(n_classes) (Iscen et al.
    2019): a row the labels reach evenly from several classes is hardly a target at all.

    Example
    -------
    >>> net = ClassifierNet(nn.Identity(), nn.Linear(2, 2))
    >>> angles = torch.cat([torch.linspace(0, 0.3, 12), torch.linspace(1.3, 1.6, 12)])  # two clusters of 12
    >>> rows = torch.stack([angles.cos(), angles.sin()], 1) * torch.linspace(1, 3, 24)[:, None]
    >>> known = np.full(24, -1); known[0], known[-1] = 0, 1
    >>> feature_spread(net, rows, known, 2).argmax(1).tolist() == [0] * 12 + [1] * 12
    True
    """
    features = batched(net.encoder, inputs.cpu().numpy(), inputs.device)
    features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    spread = spread_labels(features, known, n_classes)
    entropy = -(spread * np.log(np.maximum(spread, 1e-12))).sum(1)
    return (spread * (1 - entropy / np.log(n_classes))[:, None]).astype(np.float32)


# Labelled rows per class up to which "auto" picks FixMatch's few-label settings (measured at 10 and
# 100 per class on Fashion-MNIST: they helped at 10, cost 0.004 at 100; see few_label_settings).
FEW_LABELS_PER_CLASS = 30
# The strong view "auto" picks with few labels (see fixmatch.STRONG_VIEWS): Fashion-MNIST validation,
# 100 labels, draw 0: RandAugment 0.242 against the basic view's 0.260 (bench/semisupervised.py).
FEW_LABEL_AUGMENTATION = "randaugment"
# FixMatch's steps (all rounds) with few labels when ``steps`` is None: the stronger view keeps
# teaching longer (validation as above, RandAugment: 3,000 steps 0.242, 4,500 0.234, 6,000 0.219;
# twice the time of 3,000), but not past 6,000: 9,000 0.221, 10,000 0.232 (12,000 is the same run
# there: 64 passes over 7,500 rows), each 1.5x the time or more.
FEW_LABEL_STEPS = 6000


def few_labels(n_labelled: int, n_classes: int) -> bool:
    """Whether ``n_labelled`` labels over ``n_classes`` classes are few: at most ``FEW_LABELS_PER_CLASS`` a class,
    where FixMatch's few-label settings (and two networks, ``ensemble.members_for``) apply.

    Example
    -------
    >>> few_labels(100, 10), few_labels(1000, 10)
    (True, False)
    """
    return n_labelled <= FEW_LABELS_PER_CLASS * n_classes


def few_label_settings(settings, n_labelled: int, n_classes: int) -> tuple[str, bool, int, str, int | None]:
    """The ``thresholds``, ``distribution_alignment``, ``propagation_rounds``, ``augmentation`` and
    ``steps`` of ``settings`` (the classifier), each ``"auto"`` (``steps``: None) resolved by the
    ``n_labelled`` training labels over ``n_classes`` classes: with at most ``FEW_LABELS_PER_CLASS``
    a class, flexible thresholds, alignment, 2 rounds, ``FEW_LABEL_AUGMENTATION`` and
    ``FEW_LABEL_STEPS``, else FixMatch's fixed threshold, no alignment, 1 round, the basic strong
    view and None (the method's budget, ``JOINT_BUDGET``).

    Chosen on a validation split of Fashion-MNIST (bench/semisupervised.py --validation, draw 0):
    100 labels 0.288 -> 0.260 (logistic regression 0.310), 0.219 with RandAugment and 6,000 steps; 1,000 labels
    0.157 -> 0.161 (MLP 0.187).

    Example
    -------
    >>> from types import SimpleNamespace
    >>> auto = SimpleNamespace(thresholds="auto", distribution_alignment="auto", propagation_rounds="auto",
    ...                        augmentation="auto")
    >>> few_label_settings(SimpleNamespace(**vars(auto), steps=None), 1000, 10)
    ('fixed', False, 1, 'basic', None)
    """
    few = few_labels(n_labelled, n_classes)
    chosen = {"thresholds": "flexible" if few else "fixed", "distribution_alignment": few,
              "propagation_rounds": 2 if few else 1, "augmentation": FEW_LABEL_AUGMENTATION if few else "basic",
              "steps": FEW_LABEL_STEPS if few else None}
    return tuple(chosen[name] if getattr(settings, name) in ("auto", None) else getattr(settings, name)
                 for name in chosen)


# Passes over the rows that the joint phase needs at most: 2,000 steps over 4,000 rows are 63.
MAX_JOINT_EPOCHS = 64


def joint_epochs(steps: int, n_rows: int, batch_size: int) -> int:
    """The fewest epochs over ``n_rows`` rows in batches of ``batch_size`` that take ``steps`` steps,
    at most ``MAX_JOINT_EPOCHS``: a few thousand rows train the steps asked for, and a few dozen
    stop at that many passes rather than fitting one batch thousands of times.

    Example
    -------
    >>> joint_epochs(2000, 4000, 128), joint_epochs(2000, 1797, 128), joint_epochs(2000, 30, 128)
    (63, 64, 64)
    """
    return max(1, min(MAX_JOINT_EPOCHS, math.ceil(steps / math.ceil(n_rows / batch_size))))


__all__ = ["FEW_LABEL_AUGMENTATION", "FEW_LABEL_STEPS", "FEW_LABELS_PER_CLASS", "HEAD_EPOCHS", "LabelledPhases",
           "feature_spread", "few_label_settings", "few_labels", "joint_epochs", "labelled_features", "pretrain"]
