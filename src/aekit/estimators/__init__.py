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
from .rate_distortion import RateDistortionAutoencoder
from .sparse import SparseAutoencoder
from .vae import VariationalAutoencoder
from .vqvae import VQVAE

__all__ = ["GAN", "VQVAE", "Autoencoder", "BaseAutoencoder", "ContractiveAutoencoder", "DenoisingAutoencoder",
           "NeuralEstimator", "RateDistortionAutoencoder", "SemanticHashingAutoencoder", "SparseAutoencoder",
           "StackedAutoencoder", "VariationalAutoencoder"]
