"""Named autoencoders for people who look for them. Each is :class:`Autoencoder` with other
defaults; any parameter can still be set, and any combination works."""

import inspect

from ..registry import register
from .autoencoder import Autoencoder


def _preset(registry_name, class_name, summary, **defaults):
    """A subclass of Autoencoder whose ``__init__`` has other defaults (and says so in its signature,
    which scikit-learn reads for ``get_params``)."""
    signature = inspect.signature(Autoencoder.__init__)
    unknown = set(defaults) - set(signature.parameters)
    if unknown:
        raise TypeError(f"{class_name}: unknown parameters {sorted(unknown)}")
    signature = signature.replace(parameters=[
        p.replace(default=defaults.get(p.name, p.default)) for p in signature.parameters.values()])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        Autoencoder.__init__(**bound.arguments)

    __init__.__signature__ = signature
    changed = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
    doc = f"{summary}\n\n    :class:`Autoencoder` with {changed}; see it for every parameter.\n"
    cls = type(class_name, (Autoencoder,), {"__init__": __init__, "__doc__": doc, "__module__": __name__,
                                            "__qualname__": class_name})
    return register(registry_name)(cls)


DenoisingAutoencoder = _preset(
    "dae", "DenoisingAutoencoder", "Learns to undo corruption of its input (Vincent et al. 2008).",
    noise="masking", noise_level=0.3)
SparseAutoencoder = _preset(
    "sparse", "SparseAutoencoder", "Penalises code activity so that few units are active per input.",
    sparsity="kl", latent=400, hidden=())
ContractiveAutoencoder = _preset(
    "cae", "ContractiveAutoencoder", "Penalises the encoder's Jacobian so codes vary little around the data "
    "(Rifai et al. 2011).", contractive_weight=0.1, latent=256, hidden=())
StackedAutoencoder = _preset(
    "stacked", "StackedAutoencoder", "A deep autoencoder with tied weights, pre-trained greedily layer by "
    "layer and then fine-tuned (Hinton and Salakhutdinov 2006; Vincent et al. 2010).",
    hidden=(1000, 500, 250), latent=30, tied=True, pretrain="greedy")
