"""k-sparse bottlenecks: codes with a fixed or learned number of active units per row.

Three kinds, as sparse dictionary learning uses them (an L1 penalty shrinks the activations it keeps
and leaves dead units; these do not):

- ``"topk"``: the k largest pre-activations of each row, through a ReLU, the others 0 (Makhzani and
  Frey 2013; Gao et al. 2024).
- ``"batchtopk"``: in training the ``k x N`` largest over a batch of N rows (so rows may use more or
  fewer than k units); at inference every unit above one threshold, the running mean of the
  smallest value kept in training (Bussmann et al. 2024), so a row's code does not depend on the
  other rows.
- ``"jumprelu"``: each unit passes its pre-activation when above a threshold of its own, learned
  through a straight-through estimator with a rectangle kernel (Rajamanoharan et al. 2024); the
  bottleneck's term ``"sparsity"`` = (L0 / k - 1)^2 trains the thresholds towards a mean of ``k``
  active units per row (the target-L0 form of the dictionary_learning library).
"""

import torch

from .bottlenecks import Bottleneck

K_SPARSE_KINDS = ("topk", "batchtopk", "jumprelu")
# the running threshold of BatchTopK: an exponential mean of each batch's smallest kept value, over
# about the last 100 steps (dictionary_learning's threshold_beta is 0.999, for runs of 10^5 steps
# that also wait 1,000 steps before following; aekit's runs may be a few hundred steps)
THRESHOLD_MOMENTUM = 0.99


def top_k(pre_code: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(values, units), each (N, k): the k largest entries of each row of ``pre_code`` (N, units) through
    a ReLU, and where they are."""
    values, units = pre_code.topk(k, dim=-1, sorted=False)
    return values.relu(), units


def topk_code(pre_code: torch.Tensor, k: int) -> torch.Tensor:
    """The k largest entries of each row of ``pre_code`` (N, units), through a ReLU; the rest 0."""
    values, units = top_k(pre_code, k)
    return torch.zeros_like(pre_code).scatter(-1, units, values)


def batch_topk_code(pre_code: torch.Tensor, k: int) -> torch.Tensor:
    """The ``k x N`` largest entries of the batch ``pre_code`` (N, units), through a ReLU; the rest 0."""
    flat = pre_code.flatten()
    values, indices = flat.topk(min(k * pre_code.shape[0], flat.numel()), sorted=False)
    return torch.zeros_like(flat).scatter(0, indices, values.relu()).view_as(pre_code)


class _JumpReLU(torch.autograd.Function):
    """pre * [pre > threshold]: the gradient to ``pre`` where it passes; to the threshold the
    rectangle-kernel estimate -(threshold / bandwidth) K((pre - threshold) / bandwidth)."""

    @staticmethod
    def forward(ctx, pre, threshold, bandwidth):
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return pre * (pre > threshold)

    @staticmethod
    def backward(ctx, grad):
        pre, threshold = ctx.saved_tensors
        near = ((pre - threshold).abs() < ctx.bandwidth / 2).to(pre.dtype)
        grad_threshold = -(threshold / ctx.bandwidth) * near * grad
        return grad * (pre > threshold), grad_threshold.sum(0), None


class _Step(torch.autograd.Function):
    """[pre > threshold]: no gradient to ``pre``; to the threshold -(1 / bandwidth) K((pre - threshold) /
    bandwidth), so that the count of active units (L0) can be trained."""

    @staticmethod
    def forward(ctx, pre, threshold, bandwidth):
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return (pre > threshold).to(pre.dtype)

    @staticmethod
    def backward(ctx, grad):
        pre, threshold = ctx.saved_tensors
        near = ((pre - threshold).abs() < ctx.bandwidth / 2).to(pre.dtype)
        return None, (-(1.0 / ctx.bandwidth) * near * grad).sum(0), None


class KSparseBottleneck(Bottleneck):
    """A code with about ``k`` active units per row (see the module's docstring for the kinds).

    Parameters
    ----------
    kind : {"topk", "batchtopk", "jumprelu"}
    latent : int
        Code units (the dictionary's width).
    k : int
        Active units per row: exactly (topk), on average over a batch (batchtopk), or the target of
        the L0 term (jumprelu).
    bandwidth : float, default=0.001
        JumpReLU's straight-through kernel width, in units of pre-activation.
    threshold_init : float, default=0.001
        JumpReLU's starting threshold of every unit.

    Example
    -------
    >>> code = KSparseBottleneck("topk", latent=6, k=2)(torch.randn(3, 6))
    >>> (code > 0).sum(1).le(2).all().item()
    True
    """

    def __init__(self, kind: str, latent: int, k: int, bandwidth: float = 0.001, threshold_init: float = 0.001):
        super().__init__(latent)
        if kind not in K_SPARSE_KINDS:
            raise ValueError(f"kind must be one of {K_SPARSE_KINDS}, got {kind!r}")
        self.kind = kind
        self.k = k
        # the threshold's straight-through gradient reads the code's gradient below the threshold too
        self.dense_code_gradient = kind == "jumprelu"
        self.bandwidth = bandwidth
        if kind == "jumprelu":
            # on its own scale, not a log: Adam's steps of about lr then move it by lr, so that a threshold
            # can rise from 0.001 to the data's scale in a few hundred steps
            self.jump_threshold = torch.nn.Parameter(torch.full((latent,), float(threshold_init)))
        # BatchTopK's inference threshold; negative until the first training batch has set it
        self.register_buffer("threshold", torch.tensor(-1.0))

    def forward(self, pre_code: torch.Tensor) -> torch.Tensor:
        if self.kind == "topk":
            return topk_code(pre_code, self.k)
        if self.kind == "batchtopk":
            if self.training:
                return batch_topk_code(pre_code, self.k)
            return pre_code * (pre_code > self.threshold.clamp(min=0))
        if not (self.training and torch.is_grad_enabled()):  # plain operations: what an export traces
            return pre_code.relu() * (pre_code > self.jump_threshold)
        return _JumpReLU.apply(pre_code.relu(), self.jump_threshold, self.bandwidth)

    def sample(self, pre_code, noise_stream=None):
        code = self(pre_code)
        terms = {}
        if self.kind == "jumprelu":
            l0 = _Step.apply(pre_code.relu(), self.jump_threshold, self.bandwidth).sum(1).mean()
            terms["sparsity"] = (l0 / self.k - 1).square()
        if self.training and self.kind == "batchtopk":
            self.follow_threshold(code)
        return code, terms

    @torch.no_grad()
    def follow_threshold(self, kept: torch.Tensor) -> None:
        """Move BatchTopK's inference threshold towards the smallest positive value a training batch
        kept (``kept``: its code, or the kept values), without a host synchronisation: a batch that
        kept nothing leaves it."""
        smallest = kept.masked_fill(kept <= 0, float("inf")).min()
        moved = torch.where(self.threshold < 0, smallest, torch.lerp(smallest, self.threshold, THRESHOLD_MOMENTUM))
        self.threshold.copy_(torch.where(torch.isfinite(smallest), moved, self.threshold))
