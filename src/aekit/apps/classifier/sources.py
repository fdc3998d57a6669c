"""Where a classifier's encoder comes from, and how its layout is described.

A classifier starts from one of four kinds of object: an aekit autoencoder (its code; a VAE gives the
mean of its posterior), a saved model folder (loaded), another fitted classifier (its features: its
encoder and the hidden layers of its head), or any torch module mapping rows to features. Whatever
the kind, the classifier records a *layout* ``(base, blocks)``: the unfitted aekit estimator whose
encoder starts the features (or the module itself), and the ``(widths, activation)`` of the dense
blocks that earlier classifiers stacked on it. A layout is JSON (but for a module), so a saved
classifier rebuilds its network from it; the weights are copied from the fitted source.
"""

import copy
import os

from sklearn.base import clone
from torch import nn

from ... import saving
from ...estimators import _params as p
from ...estimators._base import BaseAutoencoder
from ...nn import AutoencoderNet, GaussianBottleneck

Blocks = list[tuple[tuple[int, ...], str]]
Layout = tuple[BaseAutoencoder | nn.Module, Blocks]


class FeatureSource:
    """A fitted model whose features a classifier can start from, besides an autoencoder: an
    :class:`~aekit.AutoencoderClassifier` (a base class of it, so that this module does not import it)."""

    def feature_layout(self) -> Layout:
        """The layout of the features: the base and every dense block up to the last hidden one."""
        raise NotImplementedError

    def feature_modules(self) -> nn.Module:
        """The fitted modules that compute the features, in the order of :meth:`feature_layout`."""
        raise NotImplementedError


class PosteriorMean(nn.Module):
    """A VAE's encoder, which ends with its Gaussian bottleneck: the mean of q(z | x), what its
    ``transform`` gives. Wrapped so that the weights keep the names saved classifiers give them."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, x):
        return self.encoder(x)


def encoder_part(net: nn.Module) -> nn.Module:
    """The modules of a fitted aekit network that compute its ``encode`` (no decoder)."""
    if isinstance(net, AutoencoderNet):
        return PosteriorMean(net.encoder) if isinstance(net.bottleneck, GaussianBottleneck) else net.encoder
    raise ValueError(f"encoder: {type(net).__name__} has no encoder a classifier can use")


def is_fitted(estimator) -> bool:
    return hasattr(estimator, "model_")


def encoder_spec() -> p.Spec:
    """The values the ``encoder`` parameter allows."""
    def test(v):
        return v is None or isinstance(v, str | os.PathLike | nn.Module | BaseAutoencoder | FeatureSource)
    return p.Spec(test, "None, a saved model folder, a fitted aekit autoencoder or AutoencoderClassifier, "
                        "or a torch.nn.Module")


def given_encoder(encoder, device: str):
    """The fitted estimator or module that ``encoder`` (a saved folder, a fitted estimator, a module)
    gives; a folder is loaded onto ``device``."""
    if isinstance(encoder, str | os.PathLike):
        return saving.load(encoder, device=device)
    if not isinstance(encoder, nn.Module) and not is_fitted(encoder):
        raise ValueError(f"encoder={type(encoder).__name__}(...) is not fitted; give a fitted model or "
                         "its saved folder (or autoencoder= to pre-train it on X)")
    return encoder


def layout_of(source) -> Layout:
    """The layout of the features of ``source`` (a fitted estimator or a module)."""
    if isinstance(source, nn.Module):
        return source, []
    if isinstance(source, FeatureSource):
        return source.feature_layout()
    if not isinstance(source, BaseAutoencoder):
        raise ValueError(f"encoder: {type(source).__name__} has no encoder a classifier can use")
    return clone(source), []


def features_of(source) -> nn.Module:
    """The fitted modules of ``source`` that its layout describes, for copying their weights."""
    if isinstance(source, nn.Module):
        return nn.Sequential(source)
    if isinstance(source, FeatureSource):
        return source.feature_modules()
    return nn.Sequential(encoder_part(source.model_))


def fresh_encoder(base: BaseAutoencoder | nn.Module, n_features: int, image_shape) -> nn.Module:
    """The encoder that starts a layout of ``base``, with fresh weights (a module is copied)."""
    if isinstance(base, nn.Module):
        return copy.deepcopy(base)
    return encoder_part(base._build_net(n_features, image_shape))


__all__ = ["Blocks", "FeatureSource", "Layout", "PosteriorMean", "encoder_part", "encoder_spec", "features_of",
           "fresh_encoder", "given_encoder", "is_fitted", "layout_of"]
