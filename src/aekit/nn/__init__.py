"""Network builders: encoders and decoders that map flat (N, D) rows to codes and back."""

from .activations import ACTIVATIONS, make_activation
from .conv import build_conv
from .inference import batched
from .mlp import build_mlp
from .net import AutoencoderNet

__all__ = ["ACTIVATIONS", "AutoencoderNet", "batched", "build_conv", "build_mlp", "make_activation"]
