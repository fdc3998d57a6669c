"""scikit-learn-style estimators, one small module per family."""

from ._base import BaseAutoencoder
from .autoencoder import Autoencoder

__all__ = ["Autoencoder", "BaseAutoencoder"]
