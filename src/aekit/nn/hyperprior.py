"""Integer codes under a mean-scale hyperprior, for learned compression.

:class:`HyperpriorBottleneck` rounds the encoder's outputs to integer codes ``y`` as
:class:`~aekit.nn.quantised.EntropyBottleneck` does, but codes them under a Gaussian whose mean and
scale depend on the row: a small network (the analysis transform ``h_a``) turns ``y`` into a few
integer side codes ``z``, coded first under a factorised prior; another (the synthesis ``h_s``)
turns ``z`` into a mean and a scale for each dimension of ``y`` (Balle et al. 2018; Minnen, Balle
and Toderici 2018). What a factorised prior pays for again and again (which digit this is, how
thick its strokes are) is said once in ``z``. With ``groups`` > 1 the dimensions of ``y`` are coded
in that many groups, each conditioned on ``z`` and on the groups before it (the channel-wise
context of Minnen and Singh 2020). The hyperprior is either trained with the networks
(``joint=True``) or fitted to the codes of networks trained under the factorised prior
(:meth:`HyperpriorBottleneck.fit_context`), which measured better (see
:class:`aekit.estimators.rate_distortion.RateDistortionAutoencoder`'s ``prior``).

For coding, each mean and scale is turned into a choice of one of a fixed set of integer tables
(CompressAI's approach): the scale to the nearest of :data:`SCALES`, the mean to its nearest integer
(the shift: the coder codes ``y - shift``) and its fractional part to the nearest of
:data:`MEAN_OFFSETS`. The tables are built once, stored with the model, and the coder never sees a
float: encoder and decoder choose the same tables from the same ``z`` and earlier groups.
"""

import numpy as np
import torch
from torch import nn

from .quantised import LIKELIHOOD_FLOOR, TABLE_MASS, EntropyBottleneck, LogisticMixturePrior

# Scales of the coding tables, in integers: geometric from CompressAI's lower bound 0.11 (a code
# that is nearly certain) to 64 (wider than any code range here); 64 of them, 11% apart, which
# costs under 0.01 bit per code against the exact scale.
SCALES = np.exp(np.linspace(np.log(0.11), np.log(64.0), 64))
# Fractional parts of the means the tables are centred on: eighths, so a mean is off by at most 1/16.
MEAN_OFFSETS = np.linspace(-0.5, 0.5, 9)
_SQRT_HALF = 0.5**0.5


def interval_mass(y: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Mass of [y - 1/2, y + 1/2] under N(mean, scale**2), elementwise, floored at 1e-9. Taken on
    the side of the mean where both CDF values are small, so that far tails keep their precision.

    Example
    -------
    >>> round(float(interval_mass(torch.tensor(0.0), torch.tensor(0.0), torch.tensor(1.0))), 4)
    0.3829
    """
    distance = (y - mean).abs()
    upper = torch.special.erfc((distance - 0.5) / scale * _SQRT_HALF)
    lower = torch.special.erfc((distance + 0.5) / scale * _SQRT_HALF)
    return (0.5 * (upper - lower)).clamp_min(LIKELIHOOD_FLOOR)


def residual_tables(radius: int) -> np.ndarray:
    """Integer frequencies (len(SCALES) * len(MEAN_OFFSETS), 2 * radius + 1) of the residuals
    -radius .. radius under N(offset, scale**2), one row per (scale, offset), row
    ``scale_index * len(MEAN_OFFSETS) + offset_index``; computed in float64.

    Example
    -------
    >>> residual_tables(2).shape
    (576, 5)
    """
    r = torch.arange(-radius, radius + 1, dtype=torch.float64)
    scale = torch.as_tensor(SCALES)[:, None, None]
    offset = torch.as_tensor(MEAN_OFFSETS)[None, :, None]
    mass = interval_mass(r, offset, scale).reshape(-1, len(r))
    return (np.floor(mass.numpy() * TABLE_MASS) + 1).astype(np.int64)


def table_choice(mean: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(table index, shift), both int64 and shaped as ``mean``: the row of :func:`residual_tables`
    and the integer the coder subtracts from a code whose Gaussian is N(mean, scale**2)."""
    shift = torch.round(mean)
    offset = torch.round((mean - shift + 0.5) * (len(MEAN_OFFSETS) - 1)).clamp(0, len(MEAN_OFFSETS) - 1)
    log_scales = torch.as_tensor(np.log(SCALES), dtype=scale.dtype)
    step = float(log_scales[1] - log_scales[0])
    index = torch.round((torch.log(scale) - log_scales[0]) / step).clamp(0, len(SCALES) - 1)
    return (index * len(MEAN_OFFSETS) + offset).long(), shift.long()


class HyperpriorBottleneck(EntropyBottleneck):
    """Integer codes under a mean-scale hyperprior (see the module's documentation).

    ``forward`` gives the rounded codes times ``step``, as :class:`~aekit.nn.quantised.EntropyBottleneck`
    does. With ``joint=True``, ``sample`` gives them too (straight-through gradients) and the terms
    ``"rate"`` (bits per row of ``y`` under its conditional Gaussians) and ``"side_rate"`` (bits per
    row of ``z`` under its factorised prior), both of the codes plus uniform noise in [-1/2, 1/2)
    (the relaxation of rounding), so that the networks are trained for the hyperprior's rate. With
    ``joint=False`` the networks are trained under the factorised prior (``sample`` is
    :class:`~aekit.nn.quantised.EntropyBottleneck`'s) and :meth:`fit_context` fits h_a, h_s and the
    side prior to the trained codes afterwards, for the same relaxed bits. The side codes are
    computed from the rounded codes, which is what the coder has.

    Parameters
    ----------
    latent : int
        Code dimensions.
    side : int
        Side code dimensions (``z``).
    groups : int
        Groups of code dimensions coded one after the other, each conditioned on those before.
    components : int
        Logistics in each side dimension's prior (and in the factorised prior).
    step : float
        Quantisation step of the codes in the encoder's units.
    joint : bool
        Whether the networks are trained for the hyperprior's rate (else for the factorised one's).

    Example
    -------
    >>> bottleneck = HyperpriorBottleneck(latent=4, side=2, step=0.5, joint=True)
    >>> code, terms = bottleneck.sample(torch.randn(8, 4))
    >>> code.shape, sorted(terms)
    (torch.Size([8, 4]), ['rate', 'side_rate'])
    """

    def __init__(self, latent: int, side: int = 16, groups: int = 1, components: int = 4, step: float = 1.0,
                 joint: bool = False):
        super().__init__(latent, components, step)
        self.side, self.joint = side, joint
        width = max(64, 2 * latent)
        bounds = np.linspace(0, latent, groups + 1).round().astype(int)
        self.group_slices = [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
        # drawn aside from the global stream: the networks built after this bottleneck start as they
        # would with the factorised one, so that under a seed the two priors code the same codes
        with torch.random.fork_rng(devices=[]):
            self.analysis = nn.Sequential(nn.Linear(latent, width), nn.ReLU(), nn.Linear(width, side))
            self.synthesis = nn.Sequential(nn.Linear(side, width), nn.ReLU())
            # one head per group: (the synthesis features, the groups before it) -> mean and log-scale
            self.heads = nn.ModuleList(nn.Sequential(nn.Linear(width + a, width), nn.ReLU(),
                                                     nn.Linear(width, 2 * (b - a))) for a, b in self.group_slices)
        self.side_prior = LogisticMixturePrior(side, components, unit=1 / step)
        self.register_buffer("side_started", torch.zeros((), dtype=torch.bool))
        # the coder's integer tables (:func:`residual_tables`), set once trained; sized by the codes'
        # range, so loading takes the saved size (CompressAI's way with its CDF tables)
        self.register_buffer("coding_tables", torch.zeros(0, 0, dtype=torch.int32))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        saved = state_dict.get(prefix + "coding_tables")
        if saved is not None:
            self.coding_tables = torch.zeros_like(saved, device=self.coding_tables.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def network_parameters(self) -> list[nn.Parameter]:
        """The parameters of h_a and h_s (not the gains or the priors)."""
        return [q for part in (self.analysis, self.synthesis, self.heads) for q in part.parameters()]

    def side_levels(self, codes: torch.Tensor) -> torch.Tensor:
        """The side codes before rounding (N, side), in integers, of integer codes (N, latent)."""
        return self.analysis(codes * self.step) / self.step

    def group_parameters(self, side: torch.Tensor, codes: torch.Tensor,
                         group: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, scale) in integers of the codes of ``group`` (N, its size), from the integer side
        codes (N, side) and the integer codes (N, latent), of which only the groups before it are read."""
        start, stop = self.group_slices[group]
        features = torch.cat([self.synthesis(side * self.step), codes[:, :start] * self.step], 1)
        mean, log_scale = self.heads[group](features).chunk(2, 1)
        return mean / self.step, (torch.exp(log_scale) / self.step).clamp_min(float(SCALES[0]))

    def conditional_bits(self, levels: torch.Tensor, codes: torch.Tensor,
                         noise_stream: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """``{"rate", "side_rate"}``: bits per row (batch means) of ``levels`` (N, latent) plus uniform
        noise under the hyperprior, and of the side codes of the rounded ``codes`` plus uniform noise."""
        side_levels = self.side_levels(codes)
        if self.training and not self.side_started and len(codes) > 1:
            self.side_prior.fit_to(side_levels.detach())
            self.side_started.fill_(True)
        side = side_levels + (torch.round(side_levels) - side_levels).detach()
        noise = torch.rand(levels.shape, generator=noise_stream, device=levels.device, dtype=levels.dtype)
        side_noise = torch.rand(side.shape, generator=noise_stream, device=levels.device, dtype=levels.dtype)
        side_bits = self.side_prior.bits(side_levels + side_noise - 0.5).sum(-1).mean()
        bits = 0.0
        for group, (start, stop) in enumerate(self.group_slices):
            mean, scale = self.group_parameters(side, codes, group)
            noisy = levels[:, start:stop] + noise[:, start:stop] - 0.5
            bits = bits - torch.log2(interval_mass(noisy, mean, scale)).sum(-1).mean()
        return {"rate": bits, "side_rate": side_bits}

    def sample(self, pre_code, noise_stream=None):
        if not self.joint:
            return super().sample(pre_code, noise_stream)
        levels = self._levels(pre_code)
        codes = levels + (torch.round(levels) - levels).detach()
        return codes * self.step, self.conditional_bits(levels, codes, noise_stream)

    def fit_context(self, codes: torch.Tensor, epochs: int, batch_size: int, lr: float,
                    noise_stream: torch.Generator) -> list[float]:
        """Fit h_a, h_s and the side prior to integer codes (N, latent) (the trained encoder's, on
        the training rows), the rest of the network fixed: Adam on the relaxed bits per row. Returns
        the bits per row of each epoch."""
        parts = self.network_parameters() + list(self.side_prior.parameters())
        optimiser = torch.optim.Adam(parts, lr)
        history = []
        self.train()
        for _ in range(epochs):
            order = torch.randperm(len(codes), generator=noise_stream).to(codes.device)
            total = 0.0
            for first in range(0, len(codes), batch_size):
                batch = codes[order[first:first + batch_size]]
                terms = self.conditional_bits(batch, batch, noise_stream)
                loss = terms["rate"] + terms["side_rate"]
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                total += float(loss.detach()) * len(batch)
            history.append(total / len(codes))
        self.eval()
        return history


__all__ = ["MEAN_OFFSETS", "SCALES", "HyperpriorBottleneck", "interval_mass", "residual_tables", "table_choice"]
