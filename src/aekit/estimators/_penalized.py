"""The penalty parameters that autoencoder families share: sparsity and contraction of the code,
turned into penalty parts (:mod:`aekit.nn.penalties`) and the weights of their terms."""

from ..losses import DEFAULT_SPARSITY_WEIGHT, SPARSITY_KINDS
from ..nn import ContractivePenalty, SparsityPenalty
from . import _params as p

PENALTY_PARAMS = {
    "sparsity": p.one_of(None, *SPARSITY_KINDS),
    "sparsity_weight": p.real(0) | p.NONE,
    "sparsity_target": p.real(0, 1, low_open=True),
    "contractive_weight": p.real(0),
    "contractive_estimator": p.one_of("exact", "projections"),
    "contractive_projections": p.integer(1),
}


class PenalizedMixin:
    """``_penalties`` and ``_penalty_weights`` for a family with the parameters of ``PENALTY_PARAMS``."""

    def _penalties(self, one_layer=False):
        """Penalty parts; ``one_layer`` for a network whose encoder is one dense layer (a phase)."""
        penalties = []
        if self.sparsity is not None:
            penalties.append(SparsityPenalty(self.sparsity, self.sparsity_target))
        if self.contractive_weight > 0:
            one_layer = one_layer or (self.arch == "mlp" and not self._hidden())
            penalties.append(ContractivePenalty("closed_form" if one_layer else self.contractive_estimator,
                                                self.contractive_projections))
        return penalties

    def _penalty_weights(self):
        """Weights of the penalties' terms (the documented default for sparsity)."""
        weight = self.sparsity_weight
        if weight is None and self.sparsity is not None:
            weight = DEFAULT_SPARSITY_WEIGHT[self.sparsity]
        return {"sparsity": weight, "contractive": self.contractive_weight}
