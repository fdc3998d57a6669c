"""scikit-learn-style estimators, one small module per family."""

from ._base import BaseAutoencoder
from .autoencoder import Autoencoder
from .vae import VariationalAutoencoder
from .presets import ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder, StackedAutoencoder

__all__ = ["Autoencoder", "BaseAutoencoder", "ContractiveAutoencoder", "DenoisingAutoencoder", "SparseAutoencoder",
           "StackedAutoencoder", "VariationalAutoencoder"]
