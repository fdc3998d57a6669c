"""scikit-learn-style estimators, one small module per family."""

from ._base import BaseAutoencoder, NeuralEstimator
from .autoencoder import Autoencoder
from .vae import VariationalAutoencoder
from .gan import GAN
from .presets import ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder, StackedAutoencoder
from .presets import SemanticHashingAutoencoder

__all__ = ["GAN", "Autoencoder", "BaseAutoencoder", "ContractiveAutoencoder", "DenoisingAutoencoder", "NeuralEstimator",
           "SemanticHashingAutoencoder", "SparseAutoencoder", "StackedAutoencoder", "VariationalAutoencoder"]
