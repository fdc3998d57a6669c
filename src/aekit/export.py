"""ONNX export: a fitted model's encoder, decoder or score as one graph that takes raw rows.

Every graph folds the model's :class:`aekit.datasets.Scaler` in (``ScalingLayer`` before an encoder,
:class:`Unscaling` after a decoder), so that a serving stack hands it rows in the units the model was
trained on and gets codes, rows or scores in the units ``transform``, ``inverse_transform`` and
``score_samples`` give. The batch size is free (a dynamic axis). :func:`write_onnx` writes the file
atomically and checks it with onnxruntime against the torch module it came from.

The estimators build the module (``to_onnx`` on every aekit model, which refuses in a sentence what
has no deterministic graph); this module knows no estimator.

Example
-------
>>> ae.to_onnx("encoder.onnx")  # doctest: +SKIP
>>> import onnxruntime  # doctest: +SKIP
>>> session = onnxruntime.InferenceSession("encoder.onnx")  # doctest: +SKIP
>>> codes = session.run(None, {"rows": X.astype("float32")})[0]  # doctest: +SKIP
"""

import math
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .datasets.scaling import Scaler, ScalingLayer

PARTS = ("encoder", "decoder", "scorer")
# ONNX operator set of the exported graphs: every operator aekit's networks use, supported by
# onnxruntime 1.17 and later.
OPSET = 17
# How close onnxruntime's outputs must come to torch's: |a - b| <= TOLERANCE * (1 + |b|).
TOLERANCE = 1e-5
_ROWS_CHECKED = 16


class Unscaling(nn.Module):
    """The inverse of a fitted :class:`Scaler` as a layer: ``x * scale + offset`` per feature."""

    def __init__(self, scaler: Scaler):
        super().__init__()
        self.register_buffer("offset", torch.from_numpy(np.asarray(scaler.offset_, np.float32)))
        self.register_buffer("scale", torch.from_numpy(np.asarray(scaler.scale_, np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.offset


class Graph(nn.Module):
    """``after(body(before(x)))``: a function of a network between optional input and output layers.

    ``body`` is a callable of a (registered) ``network``, such as ``lambda x: network.encode(x)``."""

    def __init__(self, network: nn.Module, body: Callable[[torch.Tensor], torch.Tensor],
                 before: nn.Module | None = None, after: nn.Module | None = None):
        super().__init__()
        self.network = network
        self.body = body
        self.before = before or nn.Identity()
        self.after = after or nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.after(self.body(self.before(x)))


def encoder_graph(network: nn.Module, scaler: Scaler) -> Graph:
    """Raw rows (N, D) -> codes (N, latent) through ``network.encode``."""
    return Graph(network, network.encode, before=ScalingLayer.from_scaler(scaler))


def decoder_graph(network: nn.Module, scaler: Scaler) -> Graph:
    """Codes (N, latent) -> rows (N, D) in the original units through ``network.decode``."""
    return Graph(network, network.decode, after=Unscaling(scaler))


def reconstruction_score_graph(network: nn.Module, scaler: Scaler) -> Graph:
    """Raw rows -> minus the reconstruction loss per row (N,), in scaled units (``score_samples``)."""
    return Graph(network, lambda x: -network.per_row_loss(x), before=ScalingLayer.from_scaler(scaler))


class MixtureLogDensity(nn.Module):
    """log p(z) per row under a full-covariance Gaussian mixture, in float64, as scikit-learn's
    ``GaussianMixture.score_samples`` computes it (from ``weights_``, ``means_`` and
    ``precisions_cholesky_``)."""

    def __init__(self, weights: np.ndarray, means: np.ndarray, precisions_cholesky: np.ndarray):
        super().__init__()
        if np.ndim(precisions_cholesky) != 3:
            raise ValueError("only a full-covariance Gaussian mixture can be exported")
        self.register_buffer("log_weights", torch.from_numpy(np.log(np.asarray(weights, np.float64))))
        self.register_buffer("means", torch.from_numpy(np.asarray(means, np.float64)))
        self.register_buffer("precisions", torch.from_numpy(np.asarray(precisions_cholesky, np.float64)))
        log_det = np.log(np.diagonal(precisions_cholesky, axis1=1, axis2=2)).sum(1)
        self.register_buffer("log_det", torch.from_numpy(log_det))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z.double()
        # (N, K, d): each row whitened by each component's precision
        y = torch.einsum("nd,kde->nke", z, self.precisions) - torch.einsum("kd,kde->ke", self.means,
                                                                            self.precisions)
        n_dims = self.means.shape[1]
        log_prob = -0.5 * (n_dims * math.log(2 * math.pi) + y.pow(2).sum(2)) + self.log_det + self.log_weights
        # log-sum-exp written out: the same operators in every onnxruntime
        top = log_prob.max(1, keepdim=True).values
        return (top + (log_prob - top).exp().sum(1, keepdim=True).log()).squeeze(1)


class StandardisedScores(nn.Module):
    """An anomaly detector's ``score_samples`` of raw rows, in float64: each score of ``names`` per row
    (``"reconstruction"``: minus the reconstruction loss; ``"relative"``: that over the row's squared
    norm in scaled units, plus ``tiny``; ``"density"``: ``mixture``'s log-density of the code), each
    minus its ``center`` over its ``scale``, summed."""

    def __init__(self, network: nn.Module, scaler: Scaler, names: tuple[str, ...], center: np.ndarray,
                 scale: np.ndarray, mixture: MixtureLogDensity | None = None, tiny: float = 0.0):
        super().__init__()
        self.network = network
        self.scaling = ScalingLayer.from_scaler(scaler)
        self.names = tuple(names)
        self.mixture = mixture
        self.tiny = tiny
        self.register_buffer("center", torch.from_numpy(np.asarray(center, np.float64)))
        self.register_buffer("scale", torch.from_numpy(np.asarray(scale, np.float64)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scaled = self.scaling(x)
        columns = []
        for name in self.names:
            if name == "density":
                columns.append(self.mixture(self.network.encode(scaled)))
                continue
            column = -self.network.per_row_loss(scaled).double()
            if name == "relative":
                column = column / (scaled.double().pow(2).sum(1) + self.tiny)
            columns.append(column)
        return ((torch.stack(columns, 1) - self.center) / self.scale).sum(1)


def write_onnx(module: nn.Module, path: str | os.PathLike, example: np.ndarray,
               output_name: str = "output") -> None:
    """Export ``module`` (one float32 input ``rows`` with a free batch size) to ``path`` atomically,
    then check that onnxruntime gives its outputs on ``example`` within ``TOLERANCE``.

    Raises
    ------
    ModuleNotFoundError
        Without onnx or onnxruntime, naming the extra to install (``aekit[onnx]``).
    ValueError
        When the exported graph gives other outputs than the module.
    """
    # onnx and onnxruntime are heavy optional dependencies (aekit[onnx]): imported only to export
    try:
        import onnx  # noqa: F401  (torch's exporter writes through it)
        import onnxruntime
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(f"ONNX export needs the optional packages onnx and onnxruntime "
                                  f"({exc.name} is missing): pip install 'aekit[onnx]'") from None
    module = module.cpu().eval()
    example = np.ascontiguousarray(example[:_ROWS_CHECKED], dtype=np.float32)
    inputs = torch.from_numpy(example)
    with torch.no_grad():
        expected = module(inputs).numpy()
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(handle)
    try:
        with warnings.catch_warnings():
            # torch announces that its TorchScript exporter is legacy; it is the one that writes these
            # graphs with a free batch size from plain modules, without torch.export's constraints
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(module, (inputs,), temporary, input_names=["rows"], output_names=[output_name],
                              dynamic_axes={"rows": {0: "batch"}, output_name: {0: "batch"}},
                              opset_version=OPSET, dynamo=False)
        session = onnxruntime.InferenceSession(temporary, providers=["CPUExecutionProvider"])
        got = session.run(None, {"rows": example})[0]
        gap = np.abs(got.astype(np.float64) - expected) / (1 + np.abs(expected))
        if got.shape != expected.shape or (gap.size and gap.max() > TOLERANCE):
            raise ValueError(f"{path}: the exported graph differs from the model (relative gap "
                             f"{gap.max() if gap.size else 'in shape'}); nothing was written")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def check_part(part: str, owner: str) -> None:
    """Raise ValueError unless ``part`` is one of ``PARTS`` (``owner`` names the model in the message)."""
    if part not in PARTS:
        raise ValueError(f"{owner}.to_onnx: part must be one of {', '.join(map(repr, PARTS))}, got {part!r}")


__all__ = ["OPSET", "PARTS", "TOLERANCE", "Graph", "MixtureLogDensity", "StandardisedScores", "Unscaling", "check_part",
           "decoder_graph", "encoder_graph", "reconstruction_score_graph", "write_onnx"]
