"""Several networks trained alike from different seeds, predicting together: an ensemble.

With few labels the FixMatch networks of different seeds err on different rows (each one's
pseudo-labels go wrong in its own way), so the mean of their softmaxes errs less than any one of
them. The first member is the network a single fit gives (the same seed), so an ensemble is that
network and others beside it.
"""

import os

import numpy as np
import torch
from sklearn.utils import check_random_state
from torch import nn

from .phases import few_labels

# Networks ensemble="auto" trains with few labels, at twice the time: Fashion-MNIST validation, 100 labels
# (bench/semisupervised.py --validation --members 2), draws 0 / 1: the first network 0.224 / 0.208, the second
# 0.226 / 0.218, both 0.221 / 0.206.
FEW_LABEL_MEMBERS = 2


def member_seeds(random_state, n_members: int) -> list:
    """The ``random_state`` each of ``n_members`` networks is fitted with: the classifier's own for
    the first, then integers drawn from a generator seeded with it + 1 (the first network's fit draws
    its own seeds from the classifier's: they stay apart); a seed in, seeds out, the same ensemble every time.

    Example
    -------
    >>> seeds = member_seeds(0, 3)
    >>> seeds[0], len(set(seeds)), seeds == member_seeds(0, 3)
    (0, 3, True)
    """
    if n_members == 1:
        return [random_state]
    if isinstance(random_state, np.random.RandomState):
        return [int(s) for s in random_state.randint(0, 2**31 - 1, size=n_members)]
    drawn = check_random_state(None if random_state is None else random_state + 1)
    return [random_state] + [int(s) for s in drawn.randint(0, 2**31 - 1, size=n_members - 1)]


class JoinedFeatures(nn.Module):
    """The features of several encoders of the same rows, side by side."""

    def __init__(self, encoders: list[nn.Module]):
        super().__init__()
        self.parts = nn.ModuleList(encoders)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([encoder(x) for encoder in self.parts], dim=1)


class EnsembleNet(nn.Module):
    """The networks ``members`` (ClassifierNets) as one, whose outputs are the log of the mean of the
    members' softmaxes: a softmax of them gives the mean probabilities, so whatever predicts with a
    ClassifierNet (the views, saving, the CLI) predicts with the ensemble unchanged.

    ``encoder`` gives the members' features side by side; ``heads`` are the members' heads.

    Example
    -------
    >>> from aekit.apps.classifier.network import ClassifierNet
    >>> nets = [ClassifierNet(nn.Identity(), nn.Linear(4, 3)) for _ in range(2)]
    >>> out = EnsembleNet(nets)(torch.zeros(5, 4))
    >>> out.shape, bool(torch.allclose(out.exp().sum(1), torch.ones(5)))
    (torch.Size([5, 3]), True)
    """

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.encoder = JoinedFeatures([m.encoder for m in members])
        self.heads = nn.ModuleList([m.head for m in members])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probabilities = torch.stack([torch.softmax(head(encoder(x)), dim=1)
                                     for encoder, head in zip(self.encoder.parts, self.heads)]).mean(0)
        return probabilities.clamp_min(torch.finfo(probabilities.dtype).tiny).log()


def members_for(ensemble: int | str, method: str, n_labelled: int, n_classes: int) -> int:
    """How many networks ``ensemble`` asks for: the number given, or for ``"auto"``
    ``FEW_LABEL_MEMBERS`` where FixMatch has few labels (``phases.few_labels``), else 1.

    Example
    -------
    >>> [members_for("auto", "fixmatch", 100, 10), members_for("auto", "fixmatch", 1000, 10),
    ...  members_for(3, "pretrain", 1000, 10)]
    [2, 1, 3]
    """
    if ensemble != "auto":
        return int(ensemble)
    return FEW_LABEL_MEMBERS if method == "fixmatch" and few_labels(n_labelled, n_classes) else 1


def fit_members(classifier, X, y, n_members: int, resume: bool) -> list:
    """``n_members`` classifiers of ``classifier``'s parameters (``ensemble=1``), each fitted on ``X``, ``y``
    with its seed of :func:`member_seeds`, checkpointing and logging into a folder ``member-k`` of the
    classifier's own."""
    members = []
    for k, seed in enumerate(member_seeds(classifier.random_state, n_members), start=1):
        params = {**classifier.get_params(deep=False), "ensemble": 1, "random_state": seed}
        for folder in ("checkpoint_dir", "log_dir"):
            if params[folder] is not None:
                params[folder] = os.path.join(params[folder], f"member-{k}")
        members.append(type(classifier)(**params).fit(X, y, resume=resume))
    return members


def adopt_members(classifier, members: list):
    """``classifier`` fitted as the ensemble of the fitted ``members``: their networks as one
    ``model_``, the first one's scaling, image shape, layout and autoencoder, and every member's history
    (each record with its ``"member"``, 1, 2, ...). Returns ``classifier``."""
    first = members[0]
    classifier.scaler_, classifier.image_shape_, classifier._layout = first.scaler_, first.image_shape_, first._layout
    if hasattr(first, "autoencoder_"):
        classifier.autoencoder_ = first.autoencoder_
    classifier.model_ = EnsembleNet([member.model_ for member in members]).eval()
    classifier.n_parameters_ = sum(q.numel() for q in classifier.model_.parameters())
    classifier.history_ = [{**record, "member": k} for k, member in enumerate(members, start=1)
                           for record in member.history_]
    return classifier


__all__ = ["FEW_LABEL_MEMBERS", "EnsembleNet", "JoinedFeatures", "adopt_members", "fit_members", "member_seeds",
           "members_for"]
