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

import importlib
import importlib.util

from ._version import __version__ as __version__  # the alias marks a re-export

# The public names, each imported on first use (PEP 562), so that `import aekit`, and the `aekit`
# command, whose package this is, do not import torch, scikit-learn, matplotlib or faiss before
# something needs them. Module -> the names it holds:
_NAMES_IN = {
    ".apps.anomaly": ("AnomalyDetector",),
    ".apps.classifier": ("AutoencoderClassifier",),
    ".apps.retrieval": ("CodeIndex",),
    ".estimators": ("GAN", "VQVAE", "Autoencoder", "ContractiveAutoencoder", "DenoisingAutoencoder",
                    "RateDistortionAutoencoder", "SemanticHashingAutoencoder", "SparseAutoencoder",
                    "StackedAutoencoder", "VariationalAutoencoder"),
    ".saving": ("load",),
    ".training": ("TrainingDivergedError",),
}
# and the modules that are public names themselves
_MODULES = {"codec": ".apps.codec", "metrics": ".metrics", "noise": ".noise"}
_HOME = {name: module for module, names in _NAMES_IN.items() for name in names}

__all__ = sorted(["__version__", *_HOME, *_MODULES])


def __getattr__(name):
    if name in _MODULES:
        value = importlib.import_module(_MODULES[name], __name__)
    elif name in _HOME:
        value = getattr(importlib.import_module(_HOME[name], __name__), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # a subpackage (aekit.datasets, aekit.plots), as once when `import aekit` imported them all
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next lookup is an ordinary attribute
    return value


def __dir__():
    return sorted({*globals(), *__all__})
