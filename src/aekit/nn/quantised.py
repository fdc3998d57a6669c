"""Bottlenecks with discrete codes, for learned compression.

- :class:`EntropyBottleneck`: integer codes (the encoder's outputs rounded) under a learned
  factorised prior, trained through the uniform-noise relaxation of rounding with the rate in bits
  as its loss term (Balle, Laparra and Simoncelli 2017).
- :class:`VectorQuantiser`: each row's code is ``positions`` vectors, each replaced by its nearest
  codebook entry, trained with a commitment term, EMA codebook updates and restarts of dead entries
  (van den Oord, Vinyals and Kavukcuoglu 2017; Razavi et al. 2019; Dhariwal et al. 2020).

Both plug into :class:`aekit.nn.AutoencoderNet` as any :class:`~aekit.nn.bottlenecks.Bottleneck` does.
"""

import math

import numpy as np
import torch
from torch import nn

from .bottlenecks import Bottleneck

# Likelihoods are floored here (CompressAI's bound): a code far in a tail costs at most ~30 bits
# and its gradient stays finite.
LIKELIHOOD_FLOOR = 1e-9
# Integer frequencies of a coding table: p * TABLE_MASS, floored, plus 1 so every code stays codable.
TABLE_MASS = 2.0**20


class LogisticMixturePrior(nn.Module):
    """A learned density per code dimension: a mixture of ``components`` logistics.

    The probability of an integer ``y`` (or of ``y`` + uniform noise, in training) is the mass of
    the density on [y - 1/2, y + 1/2], which the logistic CDF (a sigmoid) gives in closed form. A few
    logistics fit the skewed and multimodal code histograms that one Gaussian or Laplace cannot;
    Balle et al.'s non-parametric density (a monotone MLP per dimension) is more flexible still, at
    several times the parameters and code, for a gain that is small for factorised codes.

    Example
    -------
    >>> prior = LogisticMixturePrior(latent=3, components=2)
    >>> prior.bits(torch.zeros(5, 3)).shape
    torch.Size([5, 3])
    """

    def __init__(self, latent: int, components: int = 4, unit: float = 1.0):
        super().__init__()
        # The parameters are in units of ``unit`` integers (the encoder's own units when the codes
        # are its outputs / step): the optimiser moves them at the pace it moves the encoder. They
        # start spread over [-2, 2] with unit scale: a broad prior that training narrows.
        spread = torch.linspace(-2.0, 2.0, components) if components > 1 else torch.zeros(1)
        self.unit = unit
        self.location = nn.Parameter(spread.repeat(latent, 1))
        self.log_scales = nn.Parameter(torch.zeros(latent, components))
        self.logits = nn.Parameter(torch.zeros(latent, components))

    @property
    def means(self) -> torch.Tensor:
        """Component means (latent, components), in integers."""
        return self.location * self.unit

    def _inverse_scales(self):
        return torch.exp(-self.log_scales) / self.unit

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        """The prior's CDF at ``x`` (N, latent), elementwise per dimension."""
        z = (x.unsqueeze(-1) - self.means) * self._inverse_scales()
        return (torch.softmax(self.logits, -1) * torch.sigmoid(z)).sum(-1)

    def likelihood(self, y: torch.Tensor) -> torch.Tensor:
        """Mass of [y - 1/2, y + 1/2] per element of ``y`` (N, latent), floored at 1e-9.

        The difference is taken on the side of the median where both CDF values are small (the
        sign trick of Balle's implementation), so that far tails keep their precision."""
        flip = -torch.sign(y - self.median().detach())
        flip = torch.where(flip == 0, torch.ones_like(flip), flip)
        upper = self._flipped_cdf(flip * (y + 0.5), flip)
        lower = self._flipped_cdf(flip * (y - 0.5), flip)
        return (upper - lower).abs().clamp_min(LIKELIHOOD_FLOOR)

    def _flipped_cdf(self, x, flip):
        # the CDF of the mirrored density at x: 1 - CDF(-x) for flip = -1, without the cancellation
        z = (x.unsqueeze(-1) - flip.unsqueeze(-1) * self.means) * self._inverse_scales()
        return (torch.softmax(self.logits, -1) * torch.sigmoid(z)).sum(-1)

    @torch.no_grad()
    def fit_to(self, y: torch.Tensor) -> None:
        """Start from the codes ``y`` (N, latent): components at evenly spaced quantiles of each
        dimension, each as wide as the spread between neighbouring quantiles, equally weighted. The
        first batch's codes are where training begins; a prior far from them would spend hundreds
        of steps getting there."""
        components = self.location.shape[1]
        levels = torch.linspace(0.5 / components, 1 - 0.5 / components, components, device=y.device)
        quantiles = torch.quantile(y.float(), levels.float(), dim=0).T  # (latent, components)
        width = (y.std(0) / components).clamp_min(0.5)[:, None].expand_as(quantiles)
        self.location.copy_(quantiles / self.unit)
        self.log_scales.copy_(torch.log(width / self.unit))
        self.logits.zero_()

    def bits(self, y: torch.Tensor) -> torch.Tensor:
        """-log2 of :meth:`likelihood`, per element (N, latent)."""
        return -torch.log2(self.likelihood(y))

    def median(self) -> torch.Tensor:
        """The mixture's weighted mean of component means (latent,): the side of the sign trick."""
        return (torch.softmax(self.logits, -1) * self.means).sum(-1)

    @torch.no_grad()
    def tables(self, low: np.ndarray, high: np.ndarray) -> list[np.ndarray]:
        """Integer frequencies of the integers ``low[j] .. high[j]`` of each dimension j, the mass
        beyond either end added to the end's (codes are clipped to the range): what the entropy
        coder codes with. Computed once, in float64, and stored with the model."""
        out = []
        for j, (a, b) in enumerate(zip(np.asarray(low, np.int64), np.asarray(high, np.int64))):
            edges = torch.arange(a, b + 2, dtype=torch.float64) - 0.5
            weights = torch.softmax(self.logits[j].double(), -1)
            z = (edges[:, None] - self.means[j].double()) * self._inverse_scales()[j].double()
            cdf = (weights * torch.sigmoid(z)).sum(-1)
            cdf[0], cdf[-1] = 0.0, 1.0
            mass = (cdf[1:] - cdf[:-1]).clamp_min(0).numpy()
            out.append((np.floor(mass * TABLE_MASS) + 1).astype(np.int64))
        return out


class EntropyBottleneck(Bottleneck):
    """Integer codes under a learned factorised prior: ``forward`` rounds the encoder's outputs
    times a learned gain per dimension divided by ``step`` (and gives the integers times ``step``);
    ``sample`` returns the term ``"rate"``: bits per row under the prior of the levels plus uniform
    noise in [-1/2, 1/2) (the relaxation of rounding that keeps gradients), summed over the code
    dimensions; with noise, those bits are what coding the rounded codes costs on average. The
    decoder gets the rounded codes themselves, the gradient passed straight through the rounding
    (the "mixed" quantisation of Minnen and Singh 2020): it learns from what it will decode, which
    gave 5% fewer bytes at equal PSNR than decoding the noisy codes on the MNIST digits.

    A ``step`` below 1 gives a freshly initialised encoder, whose outputs are of order 1, many
    levels from the start instead of having to grow its weights until rounding stops erasing them.

    Example
    -------
    >>> bottleneck = EntropyBottleneck(latent=4, step=0.5)
    >>> code, terms = bottleneck.sample(torch.randn(8, 4))
    >>> bottleneck(torch.tensor([[0.2, 0.8, -1.25, 1.5]])).tolist(), sorted(terms)
    ([[0.0, 1.0, -1.0, 1.5]], ['rate'])
    """

    def __init__(self, latent: int, components: int = 4, step: float = 1.0):
        super().__init__(latent)
        self.prior = LogisticMixturePrior(latent, components, unit=1 / step)
        self.step = step
        self.log_gain = nn.Parameter(torch.zeros(latent))
        self.register_buffer("started", torch.zeros((), dtype=torch.bool))

    def _levels(self, pre_code):
        """The encoder's outputs in integer units: times a learned gain per dimension (a log, so that
        an optimiser halves a dimension's spread, and saves a bit, in as many steps as it doubles it)."""
        return pre_code * torch.exp(self.log_gain) / self.step

    def forward(self, pre_code: torch.Tensor) -> torch.Tensor:
        return torch.round(self._levels(pre_code)) * self.step

    def sample(self, pre_code, noise_stream=None):
        if self.training and not self.started and len(pre_code) > 1:
            self.prior.fit_to(self._levels(pre_code.detach()))
            self.started.fill_(True)
        levels = self._levels(pre_code)
        noise = torch.rand(pre_code.shape, generator=noise_stream, device=pre_code.device, dtype=pre_code.dtype)
        noisy = levels + noise - 0.5
        # value: the rounded levels the decoder will get; gradient: the identity's
        rounded = levels + (torch.round(levels) - levels).detach()
        return rounded * self.step, {"rate": self.prior.bits(noisy).sum(-1).mean()}


class VectorQuantiser(Bottleneck):
    """Each row's ``positions * dim`` encoder outputs as ``positions`` vectors, each replaced by its
    nearest of ``codebook_size`` codebook entries (``forward``; :meth:`indices` gives which).

    ``sample`` passes the decoder's gradient straight through to the encoder and returns the term
    ``"commitment"``: the squared distance of each encoder vector to its entry, summed per row. In
    training it also moves every entry to an exponential moving average (``decay``) of the vectors
    assigned to it, and restarts an entry that no vector chose in the last ``IDLE_STEPS`` steps at
    a random vector of the batch, so that every entry is used. ``counts`` adds up how often each
    entry was chosen in training since it was last zeroed (codebook usage and perplexity).

    Example
    -------
    >>> vq = VectorQuantiser(positions=2, dim=3, codebook_size=8)
    >>> vq(torch.randn(5, 6)).shape, vq.indices(torch.randn(5, 6)).shape
    (torch.Size([5, 6]), torch.Size([5, 2]))
    """

    # An entry unused this long is dead: long enough that an entry used once in a few thousand
    # vectors is seen (20 batches of 128 rows with 8 vectors each are 20,480 vectors), short enough to
    # restart several times in a short training.
    IDLE_STEPS = 20

    def __init__(self, positions: int, dim: int, codebook_size: int, decay: float = 0.99, restarts: bool = True):
        super().__init__(positions * dim)
        self.positions, self.dim, self.decay, self.restarts = positions, dim, decay, restarts
        self.register_buffer("codebook", torch.randn(codebook_size, dim))
        self.register_buffer("ema_count", torch.zeros(codebook_size))
        self.register_buffer("ema_sum", torch.zeros(codebook_size, dim))
        self.register_buffer("started", torch.zeros((), dtype=torch.bool))
        self.register_buffer("idle", torch.zeros(codebook_size, dtype=torch.long))
        self.register_buffer("counts", torch.zeros(codebook_size), persistent=False)

    def _vectors(self, pre_code):
        return pre_code.reshape(-1, self.dim)

    def indices(self, pre_code: torch.Tensor) -> torch.Tensor:
        """The entry of each vector (N, positions), int64."""
        vectors = self._vectors(pre_code)
        distances = (vectors.square().sum(1, keepdim=True) - 2 * vectors @ self.codebook.T
                     + self.codebook.square().sum(1))
        return distances.argmin(1).view(-1, self.positions)

    def forward(self, pre_code: torch.Tensor) -> torch.Tensor:
        return self.codebook[self.indices(pre_code)].flatten(1)

    def sample(self, pre_code, noise_stream=None):
        if self.training:
            self._update(self._vectors(pre_code.detach()), noise_stream)
        quantised = self(pre_code)
        commitment = (pre_code - quantised.detach()).square().sum(1).mean()
        return pre_code + (quantised - pre_code).detach(), {"commitment": commitment}

    @torch.no_grad()
    def _update(self, vectors, noise_stream):
        size = len(self.codebook)
        if not self.started:
            self._restart(torch.ones(size, dtype=torch.bool, device=vectors.device), vectors, noise_stream)
            self.started.fill_(True)
        chosen = self.indices(vectors.view(-1, self.positions * self.dim)).flatten()
        count = torch.bincount(chosen, minlength=size).to(vectors.dtype)
        self.counts += count
        self.ema_count.mul_(self.decay).add_(count, alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).index_add_(0, chosen, vectors, alpha=1 - self.decay)
        # Laplace smoothing keeps an entry that nobody chose from dividing by zero
        n = self.ema_count.sum()
        smoothed = (self.ema_count + 1e-5) / (n + size * 1e-5) * n
        self.codebook.copy_(self.ema_sum / smoothed.unsqueeze(1))
        self.idle.add_(1).masked_fill_(count > 0, 0)
        if self.restarts:
            self._restart(self.idle >= self.IDLE_STEPS, vectors, noise_stream)

    def _restart(self, dead, vectors, noise_stream):
        n_dead = int(dead.sum())
        if n_dead == 0:
            return
        picks = torch.randint(len(vectors), (n_dead,), generator=noise_stream, device=vectors.device)
        self.codebook[dead] = vectors[picks]
        # an entry restarted counts as chosen once: it is not dead again before it is tried
        self.ema_count[dead] = 1.0
        self.ema_sum[dead] = vectors[picks]
        self.idle[dead] = 0


def usage_and_perplexity(counts: torch.Tensor) -> tuple[float, float]:
    """The fraction of codebook entries chosen at least once, and the perplexity exp(H) of the
    choices (the number of equally used entries that would give their entropy).

    Example
    -------
    >>> usage_and_perplexity(torch.tensor([2.0, 2.0, 0.0, 0.0]))
    (0.5, 2.0)
    """
    total = float(counts.sum())
    if total == 0:
        return 0.0, 0.0
    p = counts[counts > 0] / total
    return float((counts > 0).float().mean()), round(math.exp(float(-(p * p.log()).sum())), 6)


__all__ = ["LIKELIHOOD_FLOOR", "TABLE_MASS", "EntropyBottleneck", "LogisticMixturePrior", "VectorQuantiser",
           "usage_and_perplexity"]
