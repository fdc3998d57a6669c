"""The rate-distortion autoencoder: a learned lossy codec, trained for bits and distortion together."""

import numpy as np

from ..nn import AutoencoderNet
from ..nn.quantised import EntropyBottleneck
from ..registry import register
from ..training.optim import make_optimizer
from . import _params as p
from ._base import BaseAutoencoder
from .discrete import DiscreteCodeMixin

# The quantisation step of the codes, in the encoder's units: a power of 2, so that codes are exact
# multiples of it in float32. An encoder starts with outputs of order 1, which this cuts into a few
# levels each (see EntropyBottleneck).
CODE_STEP = 0.125
# The bottleneck (prior, gains) learns this many times faster than the networks: its log-scales and
# log-gains move by ln 2 for each bit per dimension, which at the networks' rate (1e-3 per Adam step)
# would take some 700 steps.
BOTTLENECK_LR_FACTOR = 10.0


@register("rdae")
class RateDistortionAutoencoder(DiscreteCodeMixin, BaseAutoencoder):
    """A learned lossy codec: integer codes under a learned prior, trained on rate and distortion together.

    The loss is ``rate_weight`` x bits + distortion (Balle, Laparra and Simoncelli 2017).

    The encoder's outputs are rounded to integers (``transform`` gives them); each code dimension
    has a learned density, a mixture of ``components`` logistics
    (:class:`aekit.nn.quantised.LogisticMixturePrior`). For the rate, training replaces rounding by
    uniform noise in [-1/2, 1/2), under which the prior's mass of each unit interval is the
    probability of the rounded code, so the term ``"rate"`` (bits per row) is what coding costs;
    ``"recon"`` is the squared error summed over the features (scaled units) of the decoded rounded
    codes (straight-through gradients). One model is one point of the
    rate-distortion curve: a larger ``rate_weight`` gives fewer bits and more distortion.

    At the end of ``fit`` the prior is turned into integer coding tables over each dimension's
    training range of codes (``symbol_tables_``); ``aekit.codec.compress`` codes the integer codes
    under them through ``constriction`` (codes beyond the range are clipped to it).

    Parameters
    ----------
    hidden : tuple of int, optional
        Encoder widths (channels for ``arch="conv"``); the decoder mirrors them. Default (512, 256)
        for MLPs, (32, 64) for conv.
    latent : int, default=32
        Code dimensions; the rate decides how many of them carry information.
    rate_weight : float, default=0.005
        Weight of the rate in bits per row against the squared error summed over the features:
        0.005 trades one bit for 0.005 of squared error. Must be >= 0 (0: no pressure on the rate).
        The default is the largest weight of the sweep 0.005, 0.01, 0.02, 0.04 whose PSNR on a
        validation split reaches the fixed-bit codec's at its default 8 bits (the fewest bytes at
        no loss against ``codec.compress`` of an :class:`aekit.Autoencoder`) on both the MNIST
        digits and Fashion-MNIST (a held-out fifth of the training rows, conv models of 60
        epochs; ``python bench/compression_rd.py --validation`` prints each set's pick). The digits
        alone allow 0.01 (24.44 dB at 30.6 bytes per digit against 24.15 dB at 58.8); on
        Fashion-MNIST 0.01 falls short (21.38 dB against 21.52) and 0.005 reaches it (21.69 dB at
        37.3 bytes against 59.0).
    components : int, default=4
        Logistics in each dimension's prior.
    activation, arch, image_shape, scale, noise, noise_level, noise_range, epochs, batch_size, lr,
    lr_schedule, optimizer, weight_decay, clip_grad_norm, validation_fraction, early_stopping,
    checkpoint_dir, checkpoint_every, log_dir, log_every, random_state, device, precision, compile, verbose
        As for :class:`aekit.Autoencoder`.

    Attributes
    ----------
    symbol_tables_ : list of ndarray
        Integer frequencies of each dimension's codes, from its lowest training code up.
    code_range_ : ndarray (2, latent)
        Lowest and highest integer code of each dimension on the training rows.
    model_, history_, scaler_, n_parameters_, n_features_in_
        As for :class:`aekit.Autoencoder`; ``history_`` has ``rate`` (bits per row) and ``recon``.

    Example
    -------
    >>> from aekit import codec
    >>> from aekit.datasets import load
    >>> X = load("digits").data
    >>> rd = RateDistortionAutoencoder(hidden=(64,), latent=8, epochs=3, random_state=0).fit(X)
    >>> X_hat = codec.decompress(rd, codec.compress(rd, X[:10]))
    >>> X_hat.shape
    (10, 64)
    """

    def __init__(self, hidden=None, latent=32, *, rate_weight=0.005, components=4, activation="relu", arch="mlp",
                 image_shape=None, scale="minmax", noise=None, noise_level=0.3, noise_range=None, epochs=20,
                 batch_size=128, lr=1e-3, lr_schedule=None, optimizer="adam", weight_decay=0.0, clip_grad_norm=None,
                 validation_fraction=0.1, early_stopping=None, checkpoint_dir=None, checkpoint_every=1, log_dir=None,
                 log_every=5, random_state=None, device="auto", precision="32", compile=False, verbose=False):
        p.store(self, locals())

    _param_table = {
        **BaseAutoencoder._param_table,
        "rate_weight": p.real(0),
        "components": p.integer(1),
    }

    def _build_net(self, n_features, image_shape):
        bottleneck = EntropyBottleneck(self.latent, self.components, CODE_STEP)
        encoder, decoder = self._encoder_decoder(n_features, image_shape, bottleneck)
        return AutoencoderNet(encoder, bottleneck, decoder, loss="mse", output_activation="sigmoid",
                              corruption=self._corruption(n_features))

    def _loss_weights(self):
        return {"rate": self.rate_weight}

    def _optimizers(self, model):
        fast = list(model.bottleneck.parameters())
        networks = [q for q in model.parameters() if all(q is not r for r in fast)]
        groups = [{"params": networks}, {"params": fast, "lr": BOTTLENECK_LR_FACTOR * self.lr}]
        return {"main": make_optimizer(self.optimizer, groups, self.lr, self.weight_decay)}

    def _score_meaning(self):
        return "reconstruction_loss (mse, per example, of the rounded codes)"

    def _range(self):
        low, high = np.round(self.code_range_ / CODE_STEP).astype(np.int64)
        return low, high

    def _tables(self, X):
        return self.model_.bottleneck.prior.tables(*self._range())

    def _symbols_of_codes(self, codes):
        low, high = self._range()
        return np.clip(np.round(codes / CODE_STEP).astype(np.int64), low, high) - low

    def _codes_of_symbols(self, symbols):
        return ((symbols + self._range()[0]) * CODE_STEP).astype(np.float32)
