"""The joint phase for images (``unlabelled="fixmatch"``): FixMatch (Sohn et al. 2020) with the
spread labels as a second target, and an exponential moving average of the weights.

Each step takes the Trainer's batch of rows of any kind (with their label distributions spread over
the rows' neighbour graph, :mod:`.graph`) and ``labelled_batch`` labelled rows drawn with
replacement from the seeded generator ``"labelled"``; the views come from the generator
``"augment"`` (see :mod:`.augment`). Terms:

- ``cross_entropy`` (and ``error``): the labelled rows, on a weak view;
- ``consistency``: where the prediction on a weak view of a row is confident (top probability at
  least ``THRESHOLD``), its class is the target of the cross-entropy on a strong view of the same
  row (averaged over every row of the batch, confident or not);
- ``graph``: cross-entropy of the weak-view predictions against the spread distributions.

The classifier keeps the moving average of the weights (decay ``EMA_DECAY`` per step, normalised
as Adam's moments are, so that a short run is not an average with its random start), which
generalises better than the last weights; validation (``val_*``) scores it too. It is part of the
module the Trainer checkpoints, so a resumed run takes the steps of an uninterrupted one.

Chosen in bench/semisup_conv.py on a validation split of Fashion-MNIST (100 labels: FixMatch alone
0.316, with the spread labels 0.291); in aekit (bench/semisupervised.py --validation, 1,000 labels)
0.166, where the MLP on the labelled rows makes 0.187.
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

# Confidence a weak-view prediction needs to become a pseudo-label (FixMatch's value).
THRESHOLD = 0.95
# Decay of the moving average of the weights, per step.
EMA_DECAY = 0.999


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


class FixMatchStep:
    """A Trainer step of the image joint phase on an :class:`AveragedNet`: the batch is ``(rows,
    spread distributions)``; the labelled rows ``labelled_rows`` (M, D) with class indices
    ``labelled_targets`` (M,) are drawn ``labelled_batch`` at a time; rows are seen as images of
    ``image_shape`` (C, H, W); ``mirror`` lets the views flip them left-right.
    """

    def __init__(self, labelled_rows: torch.Tensor, labelled_targets: torch.Tensor, labelled_batch: int,
                 image_shape: tuple[int, int, int], mirror: bool = True):
        self.labelled_rows = labelled_rows
        self.labelled_targets = labelled_targets
        self.labelled_batch = labelled_batch
        self.image_shape = tuple(image_shape)
        self.mirror = mirror

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
                            strong_view(images, views, self.mirror)]).flatten(1)
        n_labelled, n_rows = self.labelled_batch, len(rows)
        with trainer.autocast():
            # one pass over all three: the network has no batch statistics, so this equals three
            logits = model.net(inputs)
            labelled, weak, strong = logits.split([n_labelled, n_rows, n_rows])
            log_p = F.log_softmax(weak, 1)
            terms = labelled_terms(labelled, targets)
            if weights["consistency"]:
                confidence, pseudo = log_p.detach().exp().max(1)
                confident = (confidence >= THRESHOLD).float()
                terms["consistency"] = (F.cross_entropy(strong, pseudo, reduction="none") * confident).mean()
                terms["confident"] = confident.mean()
            if weights["graph"]:
                terms["graph"] = -(spread * log_p).sum(1).mean()
            loss = total_loss(terms, weights)
        terms = optimiser_step(trainer, loss, terms)
        model.update()
        return terms


__all__ = ["EMA_DECAY", "THRESHOLD", "AveragedNet", "FixMatchStep"]
