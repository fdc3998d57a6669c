"""scikit-learn-style estimators, one small module per family."""

from ._base import BaseAutoencoder, NeuralEstimator
from .autoencoder import Autoencoder
from .gan import GAN
from .presets import (
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    SemanticHashingAutoencoder,
    StackedAutoencoder,
)
from .sparse import SparseAutoencoder
from .vae import VariationalAutoencoder

__all__ = ["GAN", "Autoencoder", "BaseAutoencoder", "ContractiveAutoencoder", "DenoisingAutoencoder", "NeuralEstimator",
           "SemanticHashingAutoencoder", "SparseAutoencoder", "StackedAutoencoder", "VariationalAutoencoder"]
