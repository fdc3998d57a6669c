"""A sparse dictionary: one encoder layer, any code (k-sparse, ReLU + L1, ...), one linear decoder whose
weight rows are the dictionary's directions, trained by the recipe of sparse autoencoders at scale.

The recipe (Gao et al. 2024, "Scaling and evaluating sparse autoencoders"; Bricken et al. 2023):

- a pre-encoder bias b, subtracted from the rows before encoding and added back by the decoder (it
  is the decoder's bias), started at the geometric median of a sample of rows;
- unit-norm directions (the decoder's rows here: (units, D), scikit-learn's layout), kept so after
  every step, with each direction's gradient component along it removed before the step
  (:meth:`DictionaryNet.project_gradients`, :meth:`DictionaryNet.normalize_decoder`);
- the encoder started as the decoder's directions (the transpose of the usual decoder matrix);
- the reconstruction term divided by the data's variance (sum over features, taken on a sample), so
  that it is the fraction of variance unexplained and reads the same on any data;
- AuxK: units that fired on none of the last ``dead_after`` rows reconstruct the residual with
  their ``aux_k`` largest pre-activations, as the term ``"aux"`` (normalised by the residual's
  energy), which brings dead units back. The count of rows since each unit last fired is a buffer
  (``rows_since_fired``), advanced by :meth:`DictionaryNet.count_firing`.

A top-k code (TopK; BatchTopK in training) is computed with the encoder in one autograd step
(:class:`_CentredTopK`) and decoded from its kept values and units (``embedding_bag``); other sparse
codes are decoded from their non-zeros (:class:`DictionaryDecoder`). Both take N x k x D
multiply-adds instead of N x units x D, in the forward pass and in the gradients, which leaves the
encoder's forward product as the floor of a training step.
"""

import torch
from torch import nn

from .bottlenecks import Bottleneck
from .net import AutoencoderNet

# Weiszfeld iterations for the geometric median, on at most this many rows
_MEDIAN_STEPS = 100
_MEDIAN_ROWS = 8192
# A code with at most this fraction of non-zeros is decoded from them (gather and index_add) rather
# than by a dense product; where the two cost alike on a CPU
SPARSE_DECODE_DENSITY = 0.05


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


def _exporting() -> bool:
    return torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.onnx.is_in_onnx_export()


def _nonzeros(matrix: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(rows, columns) of the non-zeros of ``matrix``, or None when more than ``SPARSE_DECODE_DENSITY``
    of it is non-zero (a dense product is then as fast)."""
    rows, columns = matrix.nonzero(as_tuple=True)
    return None if len(rows) > SPARSE_DECODE_DENSITY * matrix.numel() else (rows, columns)


def sum_of_products(values: torch.Tensor, source: torch.Tensor, take: torch.Tensor, put: torch.Tensor,
                    n_out: int) -> torch.Tensor:
    """out[put[i]] += values[i] * source[take[i]] for every i: a product with a sparse matrix, (n_out, D)."""
    return source.new_zeros(n_out, source.shape[1]).index_add_(0, put, values.unsqueeze(1) * source[take])


class DictionaryDecoder(nn.Module):
    """code (N, units) -> code @ weight + bias, with ``weight`` (units, D) holding one direction per row.

    A code with few non-zeros (at most ``SPARSE_DECODE_DENSITY``) is decoded from them, the same sum
    to rounding; its gradient then reaches only the code's non-zeros, which is all a top-k or a ReLU
    passes on (``sparse=False`` for a code that needs the rest: JumpReLU's threshold estimator).
    Traced for export, it is the dense product."""

    def __init__(self, units: int, n_features: int, sparse: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(units, n_features))
        self.bias = nn.Parameter(torch.zeros(n_features))
        self.sparse = sparse
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)

    def decode_active(self, values: torch.Tensor, rows: torch.Tensor, units: torch.Tensor, n_rows: int
                      ) -> torch.Tensor:
        """``n_rows`` rows from their active ``units`` and ``values`` (each (M,), sorted by ``rows``): one
        fused gather-and-sum per row (``embedding_bag``), M x D multiply-adds, in both directions."""
        counts = torch.bincount(rows, minlength=n_rows)
        offsets = counts.cumsum(0) - counts
        return self.bias + nn.functional.embedding_bag(units, self.weight, offsets, mode="sum",
                                                       per_sample_weights=values)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        found = None if _exporting() or not self.sparse else _nonzeros(code)
        if found is None:
            return torch.addmm(self.bias, code, self.weight)
        rows, units = found
        return self.bias + sum_of_products(code[rows, units], self.weight, units, rows, code.shape[0])


def _weight_and_bias_gradients(grad, centred, units):
    """Gradients of the encoder's weight (units, D) and bias from the gradient of its outputs ``grad``
    (N, units), from its non-zeros where it is sparse."""
    found = _nonzeros(grad)
    if found is None:
        return grad.t() @ centred, grad.sum(0)
    rows, columns = found
    return sum_of_products(grad[rows, columns], centred, rows, columns, units), grad.sum(0)


class _CentredProduct(torch.autograd.Function):
    """(x - centre) @ weight.T + bias, whose backward pass uses the sparsity of its output's gradient
    (a k-sparse code passes gradient to k units per row) and never forms the gradient of ``x - centre``
    to reach ``centre``: -(sum of the output gradients) @ weight is a vector, not a product of matrices."""

    @staticmethod
    def forward(ctx, x, centre, weight, bias):
        centred = x - centre
        ctx.save_for_backward(centred, weight)
        return torch.addmm(bias, centred, weight.t())

    @staticmethod
    def backward(ctx, grad):
        centred, weight = ctx.saved_tensors
        grad_weight, grad_bias = _weight_and_bias_gradients(grad, centred, weight.shape[0])
        grad_x = grad @ weight if ctx.needs_input_grad[0] else None
        return grad_x, -(grad_bias @ weight), grad_weight, grad_bias


class _CentredTopK(torch.autograd.Function):
    """The encoder and a top-k code in one step: ``(values, rows, units, pre_code)``, the kept
    pre-activations through a ReLU (M,) and where they are (M,), in row order, and all the outputs
    (N, units). It keeps each row's k largest, or with ``per_batch`` the k x N largest of the batch
    (BatchTopK). The backward pass takes the code's gradient as the (M,) gradient of ``values``: the
    encoder's gradients are M x D multiply-adds, and no (N, units) gradient is formed unless
    ``pre_code`` itself gets one (AuxK)."""

    @staticmethod
    def forward(ctx, x, centre, weight, bias, k, per_batch):
        centred = x - centre
        pre_code = torch.addmm(bias, centred, weight.t())
        n, width = pre_code.shape
        if per_batch:
            values, flat = pre_code.flatten().topk(min(k * n, pre_code.numel()), sorted=False)
            flat, order = flat.sort()
            values, rows, units = values[order], flat // width, flat % width
        else:
            values, units = pre_code.topk(k, dim=-1, sorted=False)
            values, units = values.flatten(), units.flatten()
            rows = torch.arange(n, device=units.device).repeat_interleave(k)
        values = values.relu()
        ctx.save_for_backward(centred, weight, rows, units, values)
        ctx.mark_non_differentiable(rows, units)
        ctx.set_materialize_grads(False)
        return values, rows, units, pre_code

    @staticmethod
    def backward(ctx, grad_values, _rows, _units, grad_pre):
        centred, weight, rows, units, values = ctx.saved_tensors
        grad = grad_values * (values > 0) if grad_values is not None else torch.zeros_like(values)
        grad_weight = sum_of_products(grad, centred, rows, units, weight.shape[0])
        grad_bias = weight.new_zeros(weight.shape[0]).index_add_(0, units, grad)
        grad_x = sum_of_products(grad, weight, units, rows, len(centred)) if ctx.needs_input_grad[0] else None
        if grad_pre is not None:
            dense_weight, dense_bias = _weight_and_bias_gradients(grad_pre, centred, weight.shape[0])
            grad_weight, grad_bias = grad_weight + dense_weight, grad_bias + dense_bias
            grad_x = None if grad_x is None else grad_x + grad_pre @ weight
        return grad_x, -(grad_bias @ weight), grad_weight, grad_bias, None, None


class CentredLinear(nn.Linear):
    """The encoder's layer: (x - b) @ weight.T + bias, where b is the bias of ``decoder`` (held outside
    the module tree: one shared Parameter, the pre-encoder bias)."""

    def __init__(self, n_features: int, units: int, decoder: DictionaryDecoder):
        super().__init__(n_features, units)
        self._decoder = (decoder,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centre = self._decoder[0].bias
        if _exporting():
            return nn.functional.linear(x - centre, self.weight, self.bias)
        return _CentredProduct.apply(x, centre, self.weight, self.bias)

    def top_k(self, x: torch.Tensor, k: int, per_batch: bool = False
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(values, rows, units, pre_code)``: the kept outputs through a ReLU and where they are (each
        (M,), in row order), and all the outputs (N, units); see :class:`_CentredTopK`."""
        return _CentredTopK.apply(x, self._decoder[0].bias, self.weight, self.bias, k, per_batch)


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
        Keep the directions (decoder rows) at unit norm (and project their gradients).
    aux_k : int
        Dead units that reconstruct the residual per row in the AuxK term (0: no term).
    dead_after : int
        Rows without firing after which a unit counts as dead.
    """

    def __init__(self, n_features: int, bottleneck: Bottleneck, corruption: nn.Module | None = None, penalties=(),
                 encoder_init: str = "transpose", pre_bias: str = "median", unit_norm_decoder: bool = True,
                 aux_k: int = 0, dead_after: int = 10_000_000):
        latent = bottleneck.latent
        # JumpReLU's threshold gradient reads the code's gradient off its non-zeros too
        decoder = DictionaryDecoder(latent, n_features, sparse=not getattr(bottleneck, "dense_code_gradient", False))
        encoder_layer = CentredLinear(n_features, latent, decoder)
        super().__init__(nn.Sequential(encoder_layer), bottleneck, nn.Sequential(decoder), "mse",
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
                encoder_layer.weight.copy_(decoder.weight)

    @property
    def dictionary(self) -> DictionaryDecoder:
        """The decoder: its weight (units, D) holds the dictionary's directions as rows."""
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
        """Scale every direction to unit norm."""
        weight = self.dictionary.weight
        weight.div_(weight.norm(dim=1, keepdim=True).clamp(min=1e-12))

    @torch.no_grad()
    def project_gradients(self) -> None:
        """Remove from each direction's gradient its component along the direction, which would only
        change its norm (undone by :meth:`normalize_decoder`)."""
        weight, grad = self.dictionary.weight, self.dictionary.weight.grad
        if grad is not None and self.unit_norm_decoder:
            grad.sub_(weight * (grad * weight).sum(1, keepdim=True))

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
        kind = getattr(self.bottleneck, "kind", None)
        # BatchTopK keeps the batch's k x N largest in training only (a threshold at inference)
        fused = kind == "topk" or (kind == "batchtopk" and self.training)
        if self.penalties or not (self.dictionary.sparse and fused):
            encoding, terms = self.run_encoder(x)
            pre_code, logits = encoding.pre_code, self.decoder(encoding.code)
            self._record_firing(encoding.code > 0)
            terms.update({penalty.name: penalty(encoding) for penalty in self.penalties})
        else:
            # the code decoded from its kept values and units: no (N, units) code is formed
            corrupted = self.corruption(x, self.noise_stream) if self.training and self.corruption is not None else x
            values, rows, units, pre_code = self.encoder[0].top_k(corrupted, self.bottleneck.k, kind == "batchtopk")
            logits = self.dictionary.decode_active(values, rows, units, len(x))
            if kind == "batchtopk":
                self.bottleneck.follow_threshold(values)
            self._record_firing(values > 0, units, len(x))
            terms = {}
        terms = {"recon": self.reconstruction_loss(logits, x).mean() / self.variance, **terms}
        if self.aux_k > 0:
            terms["aux"] = self.aux_loss(pre_code, (x - logits).detach())
        return terms

    @torch.no_grad()
    def _record_firing(self, active: torch.Tensor, units: torch.Tensor | None = None, n_rows: int = 0) -> None:
        """What the dead-unit counter and the history read after a training batch: the units active on
        some row (``active`` (N, units), or flags (M,) of the kept ``units`` of ``n_rows`` rows) and the
        mean count of active units per row."""
        if not self.training:
            return
        if units is None:
            fired, l0, n_rows = active.any(0), active.sum(1).float().mean(), len(active)
        else:
            fired = torch.zeros(self.bottleneck.latent, dtype=torch.bool, device=active.device)
            fired[units[active]] = True
            l0 = active.sum().float() / n_rows
        self.fired, self.l0, self.batch_rows = fired, l0, n_rows

    def aux_loss(self, pre_code: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """AuxK: how much of ``residual`` (N, D) the dead units' ``aux_k`` largest pre-activations per row
        fail to reconstruct, over the residual's energy; 0 without dead units."""
        dead = self.dead_units()
        n_dead = int(dead.sum())  # one synchronisation saves a top-k and a product over every unit
        if n_dead == 0:
            return pre_code.new_zeros(())
        values, units = pre_code.masked_fill(~dead, float("-inf")).topk(min(self.aux_k, n_dead), dim=-1,
                                                                         sorted=False)
        estimate = nn.functional.embedding_bag(units, self.dictionary.weight, per_sample_weights=values.relu(),
                                               mode="sum")
        return (estimate - residual).square().sum() / residual.square().sum().clamp(min=1e-12)
