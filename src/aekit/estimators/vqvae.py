"""The vector-quantised autoencoder (VQ-VAE): codes that are indices into a learned codebook."""

import numpy as np

from ..nn import AutoencoderNet
from ..nn.quantised import VectorQuantiser
from ..registry import register
from . import _params as p
from ._base import BaseAutoencoder
from .discrete import CodebookMonitor, DiscreteCodeMixin


@register("vqvae")
class VQVAE(DiscreteCodeMixin, BaseAutoencoder):
    """A vector-quantised autoencoder (van den Oord, Vinyals and Kavukcuoglu 2017).

    The encoder's ``latent`` outputs are ``latent // code_dim`` vectors of ``code_dim`` values; each
    is replaced by its nearest entry of a codebook of ``codebook_size`` vectors, and the decoder sees
    only those entries. The decoder's gradient passes straight through the choice to the encoder; a
    commitment term (``commitment_weight`` x the squared distance of each vector to its entry)
    keeps the encoder near the codebook; the codebook follows an exponential moving average of the
    vectors assigned to each entry (Razavi et al. 2019), and an entry that falls out of use is
    restarted at a vector of the current batch (Dhariwal et al. 2020), so that the whole codebook
    serves. ``history_`` records each epoch's ``codebook_usage`` (fraction of entries chosen in
    training) and ``perplexity`` (exp of the entropy of the choices).

    ``transform`` gives the chosen entries, concatenated (n_samples, latent), which
    ``inverse_transform`` decodes; :meth:`code_symbols` gives the indices (n_samples, latent //
    code_dim). The codec codes the indices under the frequencies measured on the training rows
    (``symbol_tables_``), and :meth:`sample` draws indices from them.

    Parameters
    ----------
    hidden : tuple of int, optional
        Encoder widths (channels for ``arch="conv"``); the decoder mirrors them.
    latent : int, default=32
        Encoder outputs per row, a multiple of ``code_dim``.
    code_dim : int, default=4
        Values per codebook vector.
    codebook_size : int, default=256
    commitment_weight : float, default=0.25
    decay : float, default=0.99
        Of the codebook's moving averages, in (0, 1).
    restarts : bool, default=True
        Restart an entry that no vector chose in 20 training steps at a vector of the batch.
    activation, arch, image_shape, scale, noise*, and the training, checkpoint and device parameters
        As for :class:`aekit.Autoencoder` (the same names and defaults).

    Attributes
    ----------
    symbol_tables_ : list of ndarray
        Per index position, how often each entry was chosen on the training rows, plus one.
    model_, history_, scaler_, n_parameters_, n_features_in_
        As for :class:`aekit.Autoencoder`.

    Example
    -------
    >>> from aekit.datasets import load
    >>> X = load("digits").data
    >>> vq = VQVAE(hidden=(64,), latent=8, code_dim=2, codebook_size=16, epochs=3, random_state=0).fit(X)
    >>> vq.code_symbols(X[:2]).shape, vq.sample(3, random_state=0).shape
    ((2, 4), (3, 64))
    """

    def __init__(self, hidden=None, latent=32, *, code_dim=4, codebook_size=256, commitment_weight=0.25,
                 decay=0.99, restarts=True, activation="relu", arch="mlp", image_shape=None, scale="minmax",
                 noise=None, noise_level=0.3, noise_range=None, epochs=20, batch_size=128, lr=1e-3, lr_schedule=None,
                 optimizer="adam", weight_decay=0.0, clip_grad_norm=None, validation_fraction=0.1,
                 early_stopping=None, checkpoint_dir=None, checkpoint_every=1, log_dir=None, log_every=5,
                 random_state=None, device="auto", precision="32", compile=False, verbose=False):
        p.store(self, locals())

    _param_table = {
        **BaseAutoencoder._param_table,
        "code_dim": p.integer(1),
        "codebook_size": p.integer(2),
        "commitment_weight": p.real(0),
        "decay": p.real(0, 1, low_open=True),
        "restarts": p.one_of(True, False),
    }

    def _check_family(self):
        if self.latent % self.code_dim:
            raise ValueError(f"{type(self).__name__}: latent={self.latent} must be a multiple of "
                             f"code_dim={self.code_dim}")
        if self.decay == 1:
            raise ValueError(f"{type(self).__name__}: decay=1 would never move the codebook; expected a number "
                             "in (0, 1)")

    def _build_net(self, n_features, image_shape):
        bottleneck = VectorQuantiser(self.latent // self.code_dim, self.code_dim, self.codebook_size, self.decay,
                                     self.restarts)
        encoder, decoder = self._encoder_decoder(n_features, image_shape, bottleneck)
        return AutoencoderNet(encoder, bottleneck, decoder, loss="mse", output_activation="sigmoid",
                              corruption=self._corruption(n_features))

    def _loss_weights(self):
        return {"commitment": self.commitment_weight}

    def _callbacks(self, resume, checkpoint=True):
        return [*super()._callbacks(resume, checkpoint), CodebookMonitor(self.model_.bottleneck)]

    def _score_meaning(self):
        return "reconstruction_loss (mse, per example, from the codebook entries)"

    def _indices(self, codes):
        """The entry index of each code vector of ``codes`` (n, latent), by exact match."""
        bottleneck = self.model_.bottleneck
        codebook = bottleneck.codebook.detach().cpu().numpy()
        vectors = np.asarray(codes, np.float32).reshape(-1, self.code_dim)
        distances = (np.square(vectors).sum(1, keepdims=True) - 2 * vectors @ codebook.T
                     + np.square(codebook).sum(1))
        return distances.argmin(1).reshape(len(codes), -1)

    def _tables(self, X):
        counts = np.ones((self.latent // self.code_dim, self.codebook_size), np.int64)
        symbols = self.code_symbols(X)
        for j, column in enumerate(symbols.T):
            counts[j] += np.bincount(column, minlength=self.codebook_size)
        return list(counts)

    def _symbols_of_codes(self, codes):
        return self._indices(codes).astype(np.int64)

    def _codes_of_symbols(self, symbols):
        codebook = self.model_.bottleneck.codebook.detach().cpu().numpy()
        return codebook[symbols].reshape(len(symbols), -1).astype(np.float32)
