"""Named autoencoders for people who look for them. Each is :class:`Autoencoder` with other
defaults; any parameter can still be set, and any combination works."""

import inspect

from ..registry import register
from .autoencoder import Autoencoder


def _alias(name):
    """A property that reads and writes the attribute ``name`` (Autoencoder's code then sees a renamed
    parameter under its own name)."""
    return property(lambda self: getattr(self, name), lambda self, value: setattr(self, name, value))


def _preset(registry_name, class_name, summary, renamed=None, **defaults):
    """A subclass of Autoencoder whose ``__init__`` has other defaults (and says so in its signature,
    which scikit-learn reads for ``get_params``). ``renamed`` gives some of Autoencoder's parameters
    the preset's own names (``{"latent": "bits"}``); ``defaults`` use Autoencoder's names."""
    renamed = renamed or {}
    signature = inspect.signature(Autoencoder.__init__)
    unknown = (set(defaults) | set(renamed)) - set(signature.parameters)
    if unknown:
        raise TypeError(f"{class_name}: unknown parameters {sorted(unknown)}")
    original = list(signature.parameters)
    signature = signature.replace(parameters=[
        p.replace(name=renamed.get(p.name, p.name), default=defaults.get(p.name, p.default))
        for p in signature.parameters.values()])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        Autoencoder.__init__(**{name: bound.arguments[renamed.get(name, name)] for name in original})

    __init__.__signature__ = signature
    changed = ", ".join(f"{renamed.get(k, k)}={v!r}" for k, v in defaults.items())
    changed += "".join(f", ``{new}`` for ``{old}``" for old, new in renamed.items())
    doc = f"{summary}\n\n    :class:`Autoencoder` with {changed}; see it for every parameter.\n"
    namespace = {"__init__": __init__, "__doc__": doc, "__module__": __name__, "__qualname__": class_name,
                 "_param_table": {**Autoencoder._param_table,
                                  **{new: Autoencoder._param_table[old] for old, new in renamed.items()}},
                 **{old: _alias(new) for old, new in renamed.items()}}
    return register(registry_name)(type(class_name, (Autoencoder,), namespace))


# Measured on MNIST digits and Fashion-MNIST against noise made outside aekit (bench/denoising.py):
# one wide hidden layer and a 128-unit code; scale="auto" leaves [0, 1] intensities alone, since
# per-feature min-max would blow noise on nearly blank pixels up to huge inputs.
DenoisingAutoencoder = _preset(
    "dae", "DenoisingAutoencoder", "Learns to undo corruption of its input (Vincent et al. 2008).",
    noise="masking", noise_level=0.3, hidden=(512,), latent=128, scale="auto", epochs=30)
ContractiveAutoencoder = _preset(
    "cae", "ContractiveAutoencoder", "Penalises the encoder's Jacobian so codes vary little around the data "
    "(Rifai et al. 2011).", contractive_weight=0.1, latent=256, hidden=())
StackedAutoencoder = _preset(
    "stacked", "StackedAutoencoder", "A deep autoencoder with tied weights, pre-trained greedily layer by "
    "layer and then fine-tuned (Hinton and Salakhutdinov 2006; Vincent et al. 2010).",
    hidden=(1000, 500, 250), latent=30, tied=True, pretrain="greedy")
SemanticHashingAutoencoder = _preset(
    "semhash", "SemanticHashingAutoencoder", "Binary codes whose Hamming neighbours are similar inputs "
    "(semantic hashing, Salakhutdinov and Hinton 2009): each code unit is a bit, trained through the "
    "straight-through estimator on masked inputs; index them with ``CodeIndex(model, metric='hamming')``.",
    renamed={"latent": "bits"}, latent=64, code_activation="binary", loss="bce", noise="masking", noise_level=0.5,
    lr=5e-4, epochs=60)
