"""The joint phase for images (``unlabelled="fixmatch"``): FixMatch (Sohn et al. 2020) with the
spread labels as a second target, and an exponential moving average of the weights.

Each step takes the Trainer's batch of rows of any kind (with their label distributions spread over
the rows' neighbour graph, :mod:`.graph`) and ``labelled_batch`` labelled rows drawn with
replacement from the seeded generator ``"labelled"``; the views come from the generator
``"augment"`` (see :mod:`.augment`). Terms:

- ``cross_entropy`` (and ``error``): the labelled rows, on a weak view;
- ``consistency``: where the prediction on a weak view of a row is confident (top probability at
  least ``THRESHOLD``, or with flexible thresholds its class's threshold, see :class:`ClassStatus`),
  its class is the target of the cross-entropy on a strong view of the same row (averaged over every
  row of the batch, confident or not);
- ``graph``: cross-entropy of the weak-view predictions against the spread distributions.

The classifier keeps the moving average of the weights (decay ``EMA_DECAY`` per step, normalised
as Adam's moments are, so that a short run is not an average with its random start), which
generalises better than the last weights; validation (``val_*``) scores it too. It is part of the
module the Trainer checkpoints, so a resumed run takes the steps of an uninterrupted one.

Chosen in bench/semisup_conv.py on a validation split of Fashion-MNIST (100 labels: FixMatch alone
0.316, with the spread labels 0.291); in aekit (bench/semisupervised.py --validation, 1,000 labels)
0.166, where the MLP on the labelled rows makes 0.187. With few labels (100), flexible thresholds
and distribution alignment (:class:`ClassStatus`) took that validation error from 0.288 to 0.263
(logistic regression 0.310); at 1,000 labels they are left out (see ``phases.few_label_settings``).
With few labels the strong view is RandAugment (:mod:`.randaugment`): 0.260 -> 0.242 there (6,000 steps: 0.219).
"""

import copy

import torch
from torch import nn
from torch.nn import functional as F

from ...losses import total_loss
from ...training import Trainer
from .augment import strong_view, weak_view
from .consistency import labelled_terms, optimiser_step
from .network import ClassifierNet
from .randaugment import rand_augment_view

# Confidence a weak-view prediction needs to become a pseudo-label (FixMatch's value).
THRESHOLD = 0.95
# Decay of the moving average of the weights, per step.
EMA_DECAY = 0.999
# Decay per step of the class statistics of flexible thresholds: about an epoch of 10,000 rows in
# batches of 96, the span over which FlexMatch's per-row record of predictions is renewed.
STATUS_DECAY = 0.99
# The strong views by name (the classifier's ``augmentation``).
STRONG_VIEWS = {"basic": strong_view, "randaugment": rand_augment_view}


class AveragedNet(nn.Module):
    """``net`` (trained) beside a moving average of its weights (``average``, never given gradients):
    after ``t`` updates, the weights after each update ``s`` weighted by ``decay ** (t - s)``, over
    the sum of those weights (the start itself has none).

    ``forward`` is the trained network's; ``loss_terms`` (what validation scores) the average's.

    Example
    -------
    >>> model = AveragedNet(ClassifierNet(nn.Identity(), nn.Linear(4, 3)), decay=0.5)
    >>> for change in (1.0, 2.0):
    ...     with torch.no_grad():
    ...         _ = model.net.head.bias.fill_(change)
    ...     model.update()
    >>> [round(b, 4) for b in model.average.head.bias.tolist()]  # (0.5 x 1 + 1 x 2) / 1.5
    [1.6667, 1.6667, 1.6667]
    """

    def __init__(self, net: ClassifierNet, decay: float = EMA_DECAY):
        super().__init__()
        self.net = net
        self.average = copy.deepcopy(net).requires_grad_(False)
        self.decay = decay
        # a buffer: checkpoints carry it, so a resumed run weighs the steps as an uninterrupted one
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def loss_terms(self, inputs: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.average.loss_terms(inputs, target)

    @torch.no_grad()
    def update(self) -> None:
        """Add the trained weights as they are now to the average."""
        self.updates += 1
        # the newest weights' share of the normalised sum: 1 at the first update, 1 - decay in the long run
        share = (1 - self.decay) / (1 - self.decay ** int(self.updates))
        for average, trained in zip(self.average.parameters(), self.net.parameters()):
            average.lerp_(trained, share)


class ClassStatus(nn.Module):
    """What the pseudo-labels of the last hundred steps or so say about each class: the running
    fraction of rows predicted confidently (at least ``THRESHOLD``) as each class, and the running
    mean prediction; buffers, so that checkpoints carry them.

    Two uses, both for very few labels:

    - flexible thresholds (FlexMatch, Zhang et al. 2021): class ``c``'s threshold is ``THRESHOLD``
      x ``M(b_c)``, ``M(b) = b / (2 - b)``, where ``b_c`` is its confident fraction over the larger
      of the largest such fraction and the fraction not yet confident (the warm-up): a class the
      network hardly predicts confidently yet takes pseudo-labels at a low threshold, and every
      class starts from 0. FlexMatch counts each row's latest prediction; here a moving average
      of the batches' counts stands for it (no per-row record);
    - distribution alignment (ReMixMatch, Berthelot et al. 2020): weak-view predictions are
      multiplied by ``prior / mean prediction`` and normalised, so that no class takes more than
      its share of the pseudo-labels.

    Example
    -------
    >>> status = ClassStatus(torch.tensor([0.5, 0.5]), decay=0.0)
    >>> status.thresholds().tolist()  # nothing confident yet: every class takes any pseudo-label
    [0.0, 0.0]
    >>> status.update(torch.tensor([[0.99, 0.01], [0.98, 0.02], [0.6, 0.4], [0.3, 0.7]]))
    >>> [round(t, 3) for t in status.thresholds().tolist()]  # class 0 learnt (1/2 / max(1/2, 1/2))
    [0.95, 0.0]
    """

    def __init__(self, prior: torch.Tensor, decay: float = STATUS_DECAY):
        super().__init__()
        self.decay = decay
        self.register_buffer("prior", prior.float().clone())
        self.register_buffer("confident", torch.zeros_like(self.prior))
        self.register_buffer("mean_prediction", self.prior.clone())
        self.register_buffer("mean_label", self.prior.clone())
        self.register_buffer("mean_confidence", 1 / torch.tensor(float(len(prior))))

    def thresholds(self, kind: str = "flexible") -> torch.Tensor:
        """Each class's confidence threshold, shape (n_classes,): FlexMatch's (``"flexible"``) or
        FreeMatch's (``"adaptive"``: the running mean top probability x the class's running mean
        probability over the largest such mean)."""
        if kind == "adaptive":
            return self.mean_confidence * self.mean_label / self.mean_label.max()
        unused = (1 - self.confident.sum()).clamp(min=0)
        status = self.confident / torch.maximum(self.confident.max(), unused).clamp(min=1e-12)
        return THRESHOLD * status / (2 - status)

    def align(self, probabilities: torch.Tensor) -> torch.Tensor:
        """``probabilities`` (N, n_classes) moved toward the prior: times prior / mean prediction, normalised."""
        aligned = probabilities * (self.prior / self.mean_prediction.clamp(min=1e-6))
        return aligned / aligned.sum(1, keepdim=True)

    @torch.no_grad()
    def update(self, probabilities: torch.Tensor, raw: torch.Tensor | None = None) -> None:
        """Add a batch: ``probabilities`` (N, n_classes) as pseudo-labelled, ``raw`` (default the
        same) as the network gave them, before alignment."""
        raw = probabilities if raw is None else raw
        confidence, pseudo = probabilities.max(1)
        counts = torch.bincount(pseudo[confidence >= THRESHOLD], minlength=len(self.prior)).float()
        self.confident.lerp_(counts / len(probabilities), 1 - self.decay)
        self.mean_prediction.lerp_(raw.mean(0), 1 - self.decay)
        self.mean_label.lerp_(probabilities.mean(0), 1 - self.decay)
        self.mean_confidence.lerp_(confidence.mean(), 1 - self.decay)


class FixMatchStep:
    """A Trainer step of the image joint phase on an :class:`AveragedNet`: the batch is ``(rows,
    spread distributions)``; the labelled rows ``labelled_rows`` (M, D) with class indices
    ``labelled_targets`` (M,) are drawn ``labelled_batch`` at a time; rows are seen as images of
    ``image_shape`` (C, H, W); ``mirror`` lets the views flip them left-right. A ``status`` (the
    model's :class:`ClassStatus`, so that checkpoints carry it) follows the pseudo-labels: with
    ``thresholds`` "flexible" or "adaptive" they are its per-class ones, with ``align`` the weak-view predictions are
    aligned to its prior first; ``augmentation`` names the strong view (``STRONG_VIEWS``); ``teacher``
    which network's weak-view prediction makes the pseudo-labels: ``"trained"`` (FixMatch's) or the
    moving ``"average"`` (a mean teacher, Tarvainen and Valpola 2017: steadier pseudo-labels).
    """

    def __init__(self, labelled_rows: torch.Tensor, labelled_targets: torch.Tensor, labelled_batch: int,
                 image_shape: tuple[int, int, int], mirror: bool = True, status: ClassStatus | None = None,
                 align: bool = False, thresholds: str = "fixed", augmentation: str = "basic",
                 teacher: str = "trained"):
        self.labelled_rows = labelled_rows
        self.labelled_targets = labelled_targets
        self.labelled_batch = labelled_batch
        self.image_shape = tuple(image_shape)
        self.mirror = mirror
        self.status, self.align, self.thresholds = status, align, thresholds
        self.strong_view = STRONG_VIEWS[augmentation]
        self.teacher = teacher

    def __call__(self, trainer: Trainer, batch) -> dict[str, torch.Tensor]:
        rows, spread = batch
        model, weights = trainer.model, trainer.loss_weights
        views = trainer.generators["augment"]
        pick = torch.randint(len(self.labelled_rows), (self.labelled_batch,), generator=trainer.generators["labelled"])
        pick = pick.to(rows.device)
        targets = self.labelled_targets[pick]
        labelled_images = self.labelled_rows[pick].view(-1, *self.image_shape)
        images = rows.view(-1, *self.image_shape)
        # views in a fixed order (labelled weak, unlabelled weak, strong): the generator's draws stay put
        inputs = torch.cat([weak_view(labelled_images, views, self.mirror), weak_view(images, views, self.mirror),
                            self.strong_view(images, views, self.mirror)]).flatten(1)
        n_labelled, n_rows = self.labelled_batch, len(rows)
        with trainer.autocast():
            # one pass over all three: the network has no batch statistics, so this equals three
            logits = model.net(inputs)
            labelled, weak, strong = logits.split([n_labelled, n_rows, n_rows])
            log_p = F.log_softmax(weak, 1)
            terms = labelled_terms(labelled, targets)
            if weights["consistency"]:
                teacher = log_p.detach().exp()
                if self.teacher == "average":
                    with torch.no_grad():
                        teacher = F.softmax(model.average(inputs[n_labelled:n_labelled + n_rows]), 1)
                confidence, pseudo, thresholds = self._pseudo_labels(teacher)
                confident = (confidence >= thresholds).float()
                terms["consistency"] = (F.cross_entropy(strong, pseudo, reduction="none") * confident).mean()
                terms["confident"] = confident.mean()
            if weights["graph"]:
                terms["graph"] = -(spread * log_p).sum(1).mean()
            loss = total_loss(terms, weights)
        terms = optimiser_step(trainer, loss, terms)
        model.update()
        return terms

    def _pseudo_labels(self, probabilities: torch.Tensor):
        """Each row's top probability and class, and the threshold it must reach (its class's, or
        ``THRESHOLD``); the status, if any, takes in the batch."""
        if self.status is None:
            confidence, pseudo = probabilities.max(1)
            return confidence, pseudo, torch.full_like(confidence, THRESHOLD)
        aligned = self.status.align(probabilities) if self.align else probabilities
        confidence, pseudo = aligned.max(1)
        thresholds = (torch.full_like(confidence, THRESHOLD) if self.thresholds == "fixed"
                      else self.status.thresholds(self.thresholds)[pseudo])
        self.status.update(aligned, probabilities)
        return confidence, pseudo, thresholds


__all__ = ["EMA_DECAY", "STATUS_DECAY", "STRONG_VIEWS", "THRESHOLD", "AveragedNet", "ClassStatus", "FixMatchStep"]
