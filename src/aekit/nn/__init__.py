"""Network parts: encoders and decoders that map flat (N, D) rows to codes and back, the bottlenecks
and penalties between them, and the autoencoder network that composes them."""

from .activations import ACTIVATIONS, make_activation
from .bottlenecks import BinaryBottleneck, Bottleneck, DeterministicBottleneck, GaussianBottleneck
from .conv import build_conv, build_conv_pool
from .inference import batched
from .mlp import build_mlp
from .net import AutoencoderNet
from .penalties import ContractivePenalty, Encoding, SparsityPenalty

__all__ = ["ACTIVATIONS", "AutoencoderNet", "BinaryBottleneck", "Bottleneck", "ContractivePenalty",
           "DeterministicBottleneck", "Encoding", "GaussianBottleneck", "SparsityPenalty", "batched", "build_conv",
           "build_conv_pool", "build_mlp", "make_activation"]
