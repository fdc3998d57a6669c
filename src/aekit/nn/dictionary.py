"""A sparse dictionary: one encoder layer, any code (k-sparse, ReLU + L1, ...), one linear decoder whose
columns are the dictionary's directions, trained by the recipe of sparse autoencoders at scale.

The recipe (Gao et al. 2024, "Scaling and evaluating sparse autoencoders"; Bricken et al. 2023):

- a pre-encoder bias b, subtracted from the rows before encoding and added back by the decoder (it
  is the decoder's bias), started at the geometric median of a sample of rows;
- decoder columns of unit norm, kept so after every step, with each column's gradient component along
  the column removed before the step (:meth:`DictionaryNet.project_gradients`,
  :meth:`DictionaryNet.normalize_decoder`);
- the encoder started as the decoder's transpose;
- the reconstruction term divided by the data's variance (sum over features, taken on a sample), so
  that it is the fraction of variance unexplained and reads the same on any data;
- AuxK: units that fired on none of the last ``dead_after`` rows reconstruct the residual with
  their ``aux_k`` largest pre-activations, as the term ``"aux"`` (normalised by the residual's
  energy), which brings dead units back. The count of rows since each unit last fired is a buffer
  (``rows_since_fired``), advanced by :meth:`DictionaryNet.count_firing`.
"""

import torch
from torch import nn

from .bottlenecks import Bottleneck
from .net import AutoencoderNet

# Weiszfeld iterations for the geometric median, on at most this many rows
_MEDIAN_STEPS = 100
_MEDIAN_ROWS = 8192


@torch.no_grad()
def geometric_median(X: torch.Tensor, steps: int = _MEDIAN_STEPS, eps: float = 1e-8) -> torch.Tensor:
    """The point minimising the sum of Euclidean distances to the rows of ``X`` (N, D), by Weiszfeld's
    iterations from the mean (robust to outlying rows, unlike the mean).

    Example
    -------
    >>> geometric_median(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [100.0, 100.0]])).round(decimals=1)
    tensor([0.5000, 0.5000])
    """
    X = X.double()
    point = X.mean(0)
    for _ in range(steps):
        weights = 1.0 / (X - point).norm(dim=1).clamp(min=eps)
        moved = (weights[:, None] * X).sum(0) / weights.sum()
        if (moved - point).norm() <= 1e-7 * (point.norm() + 1e-12):
            point = moved
            break
        point = moved
    return point.float()


class Centre(nn.Module):
    """x - b, where b is the bias of ``decoder`` (held outside the module tree: one shared Parameter)."""

    def __init__(self, decoder: nn.Linear):
        super().__init__()
        self._decoder = (decoder,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self._decoder[0].bias


class DictionaryNet(AutoencoderNet):
    """rows (N, D) -> code (N, units) -> rows, with the recipe of the module's docstring.

    Parameters
    ----------
    n_features : int
    bottleneck : Bottleneck
        The code: a :class:`~aekit.nn.ksparse.KSparseBottleneck`, or a deterministic ReLU for an L1 dictionary.
    corruption, penalties
        As :class:`AutoencoderNet` takes them (an L1 penalty, training-time noise).
    encoder_init : {"transpose", "random"}
        The encoder's weights: the (unit-norm) decoder's transpose, or PyTorch's default initialisation.
    pre_bias : {"median", "mean", "zero"}
        Where the pre-encoder bias starts.
    unit_norm_decoder : bool
        Keep the decoder's columns at unit norm (and project their gradients).
    aux_k : int
        Dead units that reconstruct the residual per row in the AuxK term (0: no term).
    dead_after : int
        Rows without firing after which a unit counts as dead.
    """

    def __init__(self, n_features: int, bottleneck: Bottleneck, corruption: nn.Module | None = None, penalties=(),
                 encoder_init: str = "transpose", pre_bias: str = "median", unit_norm_decoder: bool = True,
                 aux_k: int = 0, dead_after: int = 10_000_000):
        latent = bottleneck.latent
        decoder = nn.Linear(latent, n_features)
        encoder_layer = nn.Linear(n_features, latent)
        super().__init__(nn.Sequential(Centre(decoder), encoder_layer), bottleneck, nn.Sequential(decoder), "mse",
                         "linear", corruption, penalties)
        self.pre_bias = pre_bias
        self.unit_norm_decoder = unit_norm_decoder
        self.aux_k = min(aux_k, latent)
        self.dead_after = dead_after
        self.register_buffer("variance", torch.ones(()))
        self.register_buffer("rows_since_fired", torch.zeros(latent, dtype=torch.int64))
        self.register_buffer("rows_seen", torch.zeros((), dtype=torch.int64))
        # set by every training batch: the units active on some row, and the mean count of active units
        self.fired, self.l0, self.batch_rows = None, None, 0
        with torch.no_grad():
            nn.init.zeros_(decoder.bias)
            nn.init.zeros_(encoder_layer.bias)
            if unit_norm_decoder:
                self.normalize_decoder()
            if encoder_init == "transpose":
                encoder_layer.weight.copy_(decoder.weight.t())

    @property
    def dictionary(self) -> nn.Linear:
        """The decoder's layer: its weight (D, units) holds the dictionary's directions as columns."""
        return self.decoder[0]

    @torch.no_grad()
    def init_from_data(self, X: torch.Tensor) -> None:
        """The pre-encoder bias and the data's variance from a sample of the training rows."""
        super().init_from_data(X)
        sample = X[:_MEDIAN_ROWS].float()
        if len(sample) == 0:
            return
        start = {"median": geometric_median, "mean": lambda rows: rows.mean(0)}.get(self.pre_bias)
        if start is not None:
            self.dictionary.bias.copy_(start(sample))
        variance = (sample - sample.mean(0)).square().sum(1).mean()
        self.variance.copy_(variance if variance > 0 else torch.ones(()))

    @torch.no_grad()
    def normalize_decoder(self) -> None:
        """Scale every decoder column to unit norm."""
        weight = self.dictionary.weight
        weight.div_(weight.norm(dim=0, keepdim=True).clamp(min=1e-12))

    @torch.no_grad()
    def project_gradients(self) -> None:
        """Remove from each decoder column's gradient its component along the column, which would
        only change the column's norm (undone by :meth:`normalize_decoder`)."""
        weight, grad = self.dictionary.weight, self.dictionary.weight.grad
        if grad is not None and self.unit_norm_decoder:
            grad.sub_(weight * (grad * weight).sum(0, keepdim=True))

    @torch.no_grad()
    def count_firing(self, fired: torch.Tensor, rows: int | torch.Tensor) -> None:
        """Advance the dead-unit counter by a batch of ``rows`` rows on which the units ``fired`` (bool,
        units) were active (the whole global batch's, when several processes train together)."""
        self.rows_since_fired.add_(rows).masked_fill_(fired, 0)
        self.rows_seen.add_(rows)

    def dead_units(self) -> torch.Tensor:
        """(units,) bool: units that fired on none of the last ``dead_after`` rows."""
        return self.rows_since_fired >= self.dead_after

    def loss_terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``"recon"``: squared error over the data's variance (the fraction of variance unexplained);
        the bottleneck's and penalties' terms; ``"aux"`` (AuxK) when ``aux_k`` > 0."""
        encoding, bottleneck_terms = self.run_encoder(x)
        if self.training:
            with torch.no_grad():
                active = encoding.code > 0
                self.fired, self.l0, self.batch_rows = active.any(0), active.sum(1).float().mean(), x.shape[0]
        logits = self.decoder(encoding.code)
        terms = {"recon": self.reconstruction_loss(logits, x).mean() / self.variance, **bottleneck_terms}
        for penalty in self.penalties:
            terms[penalty.name] = penalty(encoding)
        if self.aux_k > 0:
            terms["aux"] = self.aux_loss(encoding.pre_code, (x - logits).detach())
        return terms

    def aux_loss(self, pre_code: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """AuxK: how much of ``residual`` (N, D) the dead units' ``aux_k`` largest pre-activations per row
        fail to reconstruct, over the residual's energy; 0 without dead units."""
        dead = self.dead_units()
        # a fixed width keeps the step free of host synchronisation; live units are pushed out of the top
        masked = pre_code.masked_fill(~dead, float("-inf"))
        values, indices = masked.topk(self.aux_k, dim=-1, sorted=False)
        code = torch.zeros_like(pre_code).scatter(-1, indices, values.relu().nan_to_num(0.0, 0.0, 0.0))
        estimate = code @ self.dictionary.weight.t()
        unexplained = (estimate - residual).square().sum() / residual.square().sum().clamp(min=1e-12)
        return unexplained * dead.any().to(unexplained.dtype)
