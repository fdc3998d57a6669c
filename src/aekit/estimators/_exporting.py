"""``to_onnx`` for the estimators: which graph each part of a fitted model is, and what is refused.

The graphs come from :mod:`aekit.export`; this module picks them for a model and says in a sentence
why a part cannot be exported (a part the model does not have, a random one)."""

import os

import numpy as np
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..datasets.scaling import Scaler
from ..export import check_part, decoder_graph, encoder_graph, reconstruction_score_graph, write_onnx
from ..seeding import seeded

# the output's name in the exported graph, by part (the input is always "rows")
OUTPUT_NAMES = {"encoder": "codes", "decoder": "rows_out", "scorer": "scores"}
_EXAMPLE_ROWS = 16


def network_copy(estimator) -> nn.Module:
    """A CPU copy of ``estimator.model_`` in eval mode, rebuilt from its configuration and weights
    (modules with parametrisations, such as spectral norm, cannot be deep-copied): exporting never
    moves or changes the fitted model."""
    net = seeded(0, lambda: estimator._build_net(estimator.n_features_in_, estimator.image_shape_))
    net.load_state_dict({k: v.detach().cpu() for k, v in estimator.model_.state_dict().items()})
    return net.cpu().eval()


def example_rows(scaler: Scaler, n: int = _EXAMPLE_ROWS) -> np.ndarray:
    """``n`` rows spread over the span of the scaler's training data (what the export is checked on)."""
    draws = np.random.RandomState(0).rand(n, scaler.n_features_in_).astype(np.float32)
    return scaler.offset_ + draws * scaler.scale_


def example_codes(latent: int, n: int = _EXAMPLE_ROWS) -> np.ndarray:
    """``n`` codes drawn from N(0, I)."""
    return np.random.RandomState(0).randn(n, latent).astype(np.float32)


class OnnxExportMixin:
    """``to_onnx(path, part)`` for a fitted model; a family refines ``_onnx_graph``."""

    def to_onnx(self, path: str | os.PathLike, part: str = "encoder") -> None:
        """Write one part of the fitted model to ``path`` as an ONNX graph that takes raw rows.

        Parameters
        ----------
        path : str or path
            The ``.onnx`` file, written atomically (a temporary name, then a rename).
        part : {"encoder", "decoder", "scorer"}
            ``"encoder"``: rows (N, n_features) in the original units -> codes (N, latent), as
            ``transform`` (a VAE's posterior means); ``"decoder"``: codes -> rows in the original
            units, as ``inverse_transform``; ``"scorer"``: rows -> ``score_samples``.

        The scaler is folded into the graph; the batch size is free. The written graph is checked
        with onnxruntime against the model (outputs within 1e-5, relative to 1 + |output|).

        Raises
        ------
        ValueError
            For a part the model has not, or cannot give as one deterministic graph.
        ModuleNotFoundError
            Without the optional packages (``pip install 'aekit[onnx]'``).

        Example
        -------
        >>> ae.to_onnx("encoder.onnx")  # doctest: +SKIP
        """
        check_is_fitted(self, "model_")
        check_part(part, type(self).__name__)
        module, example = self._onnx_graph(part)
        write_onnx(module, path, example, output_name=OUTPUT_NAMES[part])

    def _refuse_onnx(self, part: str, reason: str):
        raise ValueError(f"{type(self).__name__} cannot export part={part!r}: {reason}")

    def _onnx_graph(self, part: str) -> tuple[nn.Module, np.ndarray]:
        """The module of ``part`` (raw input -> output) and an input to check it on, or a refusal."""
        if getattr(self, "conditional", False) and part != "encoder":
            self._refuse_onnx(part, "a conditional model decodes with a class besides its input, and to_onnx "
                                    "writes graphs of one input; its encoder (part='encoder') exports")
        net = network_copy(self)
        if part == "decoder" and hasattr(net, "decode"):
            return decoder_graph(net, self.scaler_), example_codes(self.latent)
        if part in ("encoder", "scorer") and hasattr(net, "encode") and hasattr(net, "per_row_loss"):
            graph = encoder_graph if part == "encoder" else reconstruction_score_graph
            return graph(net, self.scaler_), example_rows(self.scaler_)
        self._refuse_onnx(part, f"it has no {part}")


__all__ = ["OUTPUT_NAMES", "OnnxExportMixin", "example_codes", "example_rows", "network_copy"]
