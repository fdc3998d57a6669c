"""aekit: autoencoders made practical.

Example
-------
>>> import aekit
>>> from aekit.datasets import load
>>> X = load("digits").data
>>> ae = aekit.Autoencoder(hidden=(64,), latent=8, epochs=3, random_state=0).fit(X)
>>> ae.transform(X).shape
(1797, 8)
"""

from ._version import __version__
from . import metrics, noise
from .estimators import (
    GAN, Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder, StackedAutoencoder,
    VariationalAutoencoder,
    SemanticHashingAutoencoder,
)
from .saving import load
from .training import TrainingDivergedError
from .apps.anomaly import AnomalyDetector
from .apps.retrieval import CodeIndex
from .apps import codec
from .apps.classifier import AutoencoderClassifier

__all__ = [
    "GAN",
    "AnomalyDetector",
    "Autoencoder",
    "AutoencoderClassifier",
    "CodeIndex",
    "ContractiveAutoencoder",
    "DenoisingAutoencoder",
    "SemanticHashingAutoencoder",
    "SparseAutoencoder",
    "StackedAutoencoder",
    "TrainingDivergedError",
    "VariationalAutoencoder",
    "__version__",
    "codec",
    "load",
    "metrics",
    "noise",
]
