"""The joint phase of semi-supervised training: one network learns from the labelled rows and,
through three more terms, from every row.

- ``consistency``: virtual adversarial training (Miyato et al. 2018): the KL divergence between the
  network's prediction at a row and at the row moved by ``radius`` in the direction that changes the
  prediction most (one power iteration). The prediction is made smooth around every row, labelled
  or not, so the class boundaries move into the gaps between the rows.
- ``entropy``: the entropy of the predictions on every row (Grandvalet and Bengio 2004): confident
  predictions, again boundaries away from the rows.
- ``graph``: cross-entropy of the predictions against the label distributions spread over the
  rows' neighbour graph (:mod:`.graph`).

Each step takes the Trainer's batch of rows (with their spread distributions as targets) and a
batch of labelled rows drawn with replacement from the seeded generator ``"labelled"``; the VAT
directions come from the generator ``"consistency"``. Both are saved in checkpoints, so a resumed
run takes the steps of an uninterrupted one.
"""

import torch
from torch import nn
from torch.nn import functional as F

from ...losses import total_loss
from ...training import LearningRateSchedule, Trainer

# The finite-difference step of the power iteration, as in Miyato et al.: small enough for the
# gradient at the row, large enough for float32.
XI = 1e-6


def unit(v: torch.Tensor) -> torch.Tensor:
    """Each row of ``v`` (N, ...) scaled to unit Euclidean norm."""
    return v / (v.flatten(1).norm(dim=1).view(-1, *[1] * (v.ndim - 1)) + 1e-12)


def virtual_adversarial_loss(net: nn.Module, rows: torch.Tensor, log_p: torch.Tensor, radius: float,
                             generator: torch.Generator) -> torch.Tensor:
    """KL(p(rows) || p(rows + r_adv)) averaged over the rows, ``log_p`` the (detached) log-predictions
    at ``rows`` and ``r_adv`` of norm ``radius`` along the direction one power iteration finds from a
    random start drawn with ``generator``.

    Example
    -------
    >>> net = nn.Linear(4, 3)
    >>> x = torch.randn(8, 4)
    >>> loss = virtual_adversarial_loss(net, x, F.log_softmax(net(x), 1).detach(), 0.5, torch.Generator())
    >>> bool(loss >= 0)
    True
    """
    p = log_p.exp()
    start = torch.randn(rows.shape, generator=generator).to(rows.device)
    r = (XI * unit(start)).requires_grad_(True)
    kl = F.kl_div(F.log_softmax(net(rows + r), 1), p, reduction="batchmean")
    (grad,) = torch.autograd.grad(kl, r)
    return F.kl_div(F.log_softmax(net(rows + radius * unit(grad)), 1), p, reduction="batchmean")


class JointStep:
    """A Trainer step of the joint phase: the batch is ``(rows, spread distributions)``; the labelled
    rows ``labelled_rows`` (M, D) with class indices ``labelled_targets`` (M,) are drawn
    ``labelled_batch`` at a time. Terms: ``cross_entropy`` and ``error`` on the labelled batch,
    ``consistency``, ``entropy`` and ``graph`` on the rows; the trainer's ``loss_weights`` weigh
    them, and a term of weight 0 is not computed.
    """

    def __init__(self, labelled_rows: torch.Tensor, labelled_targets: torch.Tensor, labelled_batch: int,
                 radius: float):
        self.labelled_rows = labelled_rows
        self.labelled_targets = labelled_targets
        self.labelled_batch = labelled_batch
        self.radius = radius

    def __call__(self, trainer: Trainer, batch) -> dict[str, torch.Tensor]:
        rows, spread = batch
        net, weights = trainer.model, trainer.loss_weights
        pick = torch.randint(len(self.labelled_rows), (self.labelled_batch,), generator=trainer.generators["labelled"])
        pick = pick.to(rows.device)
        targets = self.labelled_targets[pick]
        with trainer.autocast():
            # one pass over both batches: the network has no batch statistics, so this equals two
            logits = net(torch.cat([self.labelled_rows[pick], rows]))
            labelled, log_p = logits[:self.labelled_batch], F.log_softmax(logits[self.labelled_batch:], 1)
            terms = labelled_terms(labelled, targets)
            if weights["consistency"]:
                terms["consistency"] = virtual_adversarial_loss(net, rows, log_p.detach(), self.radius,
                                                                trainer.generators["consistency"])
            if weights["entropy"]:
                terms["entropy"] = -(log_p.exp() * log_p).sum(1).mean()
            if weights["graph"]:
                terms["graph"] = -(spread * log_p).sum(1).mean()
            loss = total_loss(terms, weights)
        return optimiser_step(trainer, loss, terms)


def labelled_terms(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
    """``cross_entropy`` and ``error`` (fraction misclassified) of a labelled batch's ``logits``."""
    return {"cross_entropy": F.cross_entropy(logits, targets), "error": (logits.argmax(1) != targets).float().mean()}


def optimiser_step(trainer: Trainer, loss: torch.Tensor, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A step of the trainer's one optimiser on ``loss``; returns the detached ``terms`` and ``loss``."""
    (optimizer,) = trainer.optimizers.values()
    optimizer.zero_grad(set_to_none=True)
    trainer.backward(loss, optimizer)
    trainer.optimizer_step(optimizer)
    terms["loss"] = loss
    return {name: value.detach() for name, value in terms.items()}


class DecayInSecondHalf(LearningRateSchedule):
    """The learning rate of the joint phase: constant for the first half of the epochs, then
    linearly to 0 (derived from the epoch alone, so resuming is exact)."""

    def __init__(self):
        self.factor = lambda done: min(1.0, 2 * (1 - done))


def data_radius(rows: torch.Tensor, fraction: float) -> float:
    """``fraction`` of the mean distance of a row to the mean row: a VAT radius in the data's own
    units, so that any numeric table works unchanged."""
    return fraction * float((rows - rows.mean(0)).norm(dim=1).mean())


__all__ = ["DecayInSecondHalf", "JointStep", "data_radius", "labelled_terms", "optimiser_step", "unit",
           "virtual_adversarial_loss"]
