"""The rate-distortion autoencoder: a learned lossy codec, trained for bits and distortion together."""

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..nn import ACTIVATIONS, AutoencoderNet
from ..nn.gdn import CHANNEL_ACTIVATIONS
from ..nn.hyperprior import HyperpriorBottleneck, residual_tables, table_choice
from ..nn.quantised import EntropyBottleneck
from ..registry import register
from ..training.augment import shifting_step
from ..training.optim import make_optimizer
from . import _params as p
from ._base import BaseAutoencoder
from .discrete import DiscreteCodeMixin, table_bits

# The quantisation step of the codes, in the encoder's units: a power of 2, so that codes are exact
# multiples of it in float32. An encoder starts with outputs of order 1, which this cuts into a few
# levels each (see EntropyBottleneck).
CODE_STEP = 0.125
# The bottleneck (prior, gains) learns this many times faster than the networks: its log-scales and
# log-gains move by ln 2 for each bit per dimension, which at the networks' rate (1e-3 per Adam step)
# would take some 700 steps.
BOTTLENECK_LR_FACTOR = 10.0
# Epochs of fitting the hyperprior to the trained codes (prior="hyperprior"), per epoch of the
# networks' training: 150 after 60 (some 3,700 Adam steps on 3,200 rows) saved 9% of the bits of
# the digits' codes (conv, latent 64, groups 4) in a first measurement.
CONTEXT_EPOCHS_PER_EPOCH = 2.5


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
    under them through ``constriction`` (codes beyond the range are clipped to it). By default
    (``prior="hyperprior"``) a mean-scale hyperprior is then fitted to the trained codes, and the
    codes are coded under it instead: each row's under Gaussians drawn from a few side codes,
    which catch what the dimensions share (see ``prior``).

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
        Logistics in each dimension's prior (each side code dimension's, with the hyperprior).
    prior : {"hyperprior", "factorised", "hyperprior-joint"}, default="hyperprior"
        The entropy model of the codes. ``"factorised"``: one learned density per dimension, the
        same for every row. ``"hyperprior"``: each row's codes under Gaussians whose means and
        scales a small network draws from ``side`` side codes, themselves coded first under a
        factorised prior (:class:`aekit.nn.hyperprior.HyperpriorBottleneck`; Balle et al. 2018,
        Minnen et al. 2018); the networks are trained as with ``"factorised"`` (under a seed, to
        the same codes) and the hyperprior is then fitted to the training rows' codes, for
        ``2.5 * epochs`` epochs. It is the default because it coded the same codes in fewer bytes
        on both validation splits (``bench/compression_rd.py --validation --no-vq --epochs 60
        --rd-param prior=hyperprior groups=4``, conv, latent 64, weights 0.005 / 0.01 / 0.02 /
        0.04): MNIST digits 36.9 / 27.5 / 19.5 / 13.3 bytes per digit against the factorised
        prior's 43.2 / 30.6 / 21.0 / 14.4 (15%, 10%, 7%, 8% fewer, PSNR unchanged), Fashion-MNIST
        30.7 / 22.3 / 15.8 / 10.5 against 37.3 / 26.3 / 17.6 / 11.7 (18%, 15%, 10%, 10% fewer).
        ``"hyperprior-joint"``: the networks are trained for the hyperprior's rate from the start
        (the loss is ``rate_weight`` x (bits of the codes + bits of the side codes) + distortion);
        on the digits' validation split (groups 1 and 4) it gave a worse curve than the factorised
        prior (lower PSNR at every weight; 24.55 / 24.38 / 22.64 / 20.01 dB at 42.8 / 30.9 / 19.6
        / 12.5 bytes with groups 1). With either hyperprior ``aekit.codec.compress`` writes
        container format 3.
    side : int, default=16
        Side code dimensions of the hyperprior (not used by the factorised prior).
    groups : int, default=4
        With the hyperprior: the code dimensions are coded in this many groups, each conditioned
        on the side codes and on the groups before it (channel-wise context, Minnen and Singh 2020).
    augment_shift : int, default=0
        Train on shifted images: each training image of each mini-batch moved by a random offset of
        up to this many pixels each way (the uncovered pixels black, i.e. 0 in the data's units),
        drawn from the model's seeded noise stream (:func:`aekit.training.augment.shift_images`).
        More views of few training images. 0: none. Needs image-shaped rows (``arch="conv"`` or
        ``image_shape``). At 1, conv, latent 64, 120 epochs on 3,200 rows it gave 0.7-1.1 dB more
        PSNR on the MNIST digits' validation split at about the same bytes, and fewer bytes at a
        higher PSNR on Fashion-MNIST's (at 60 epochs no gain there); ``bench/compression_rd.py
        --validation --rd-param augment_shift=1``.
    decoder_blocks : int, default=0
        With ``arch="conv"``: residual blocks (two 3x3 convolutions and a skip,
        :class:`aekit.nn.conv.ResidualBlock`) after each of the decoder's nonlinearities, at each
        size of maps: a deeper decoder at the same code. 0: none. At 1 (conv, latent 64,
        ``augment_shift=1``, 120 epochs, MNIST digits' validation split) training collapsed to a
        constant output at two of the weights 0.005 / 0.01 / 0.02 / 0.04; see BENCHMARKS.md.
    activation : str, default="relu"
        As for :class:`aekit.Autoencoder`, or ``"gdn"`` with ``arch="conv"``: generalised divisive
        normalisation after each convolution and its inverse in the decoder
        (:class:`aekit.nn.gdn.GDN`; Balle et al. 2017), the learned codecs' nonlinearity. With
        the default two 3x3 layers it did not help on the MNIST digits' validation split (conv,
        latent 64, ``augment_shift=1``, 120 epochs): a lower PSNR ceiling (25.79 dB against 26.16)
        and more bytes below 24.5 dB.
    arch, image_shape, scale, noise, noise_level, noise_range, epochs, batch_size, lr,
    lr_schedule, optimizer, weight_decay, clip_grad_norm, validation_fraction, early_stopping,
    checkpoint_dir, checkpoint_every, log_dir, log_every, random_state, device, precision, compile, verbose
        As for :class:`aekit.Autoencoder`.

    Attributes
    ----------
    symbol_tables_ : list of ndarray
        Integer frequencies of each dimension's codes, from its lowest training code up (with the
        hyperprior: of each side code dimension's).
    residual_tables_ : ndarray (576, 2 * radius + 1) or None
        With the hyperprior: the integer tables the codes are coded under, one per (scale, eighth
        of the mean) (:func:`aekit.nn.hyperprior.residual_tables`); None with the factorised prior.
    side_range_ : ndarray (2, side) or None
        With the hyperprior: lowest and highest side code of each dimension on the training rows.
    code_range_ : ndarray (2, latent)
        Lowest and highest integer code of each dimension on the training rows.
    model_, history_, scaler_, n_parameters_, n_features_in_
        As for :class:`aekit.Autoencoder`; ``history_`` has ``rate`` (bits per row of the codes),
        ``recon``; with ``"hyperprior-joint"`` also ``side_rate`` (bits per row of the side codes);
        with ``"hyperprior"`` the last epoch's record also has ``context_rate``: the relaxed bits per
        row (codes and side codes) of the training rows under the fitted hyperprior, in its last epoch.

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

    def __init__(self, hidden=None, latent=32, *, rate_weight=0.005, components=4, prior="hyperprior", side=16,
                 groups=4, augment_shift=0, decoder_blocks=0, activation="relu", arch="mlp",
                 image_shape=None, scale="minmax", noise=None, noise_level=0.3, noise_range=None, epochs=20,
                 batch_size=128, lr=1e-3, lr_schedule=None, optimizer="adam", weight_decay=0.0, clip_grad_norm=None,
                 validation_fraction=0.1, early_stopping=None, checkpoint_dir=None, checkpoint_every=1, log_dir=None,
                 log_every=5, random_state=None, device="auto", precision="32", compile=False, verbose=False):
        p.store(self, locals())

    _param_table = {
        **BaseAutoencoder._param_table,
        "rate_weight": p.real(0),
        "components": p.integer(1),
        "prior": p.one_of("factorised", "hyperprior", "hyperprior-joint"),
        "side": p.integer(1),
        "groups": p.integer(1),
        "augment_shift": p.integer(0),
        "decoder_blocks": p.integer(0),
        "activation": p.one_of(*ACTIVATIONS, *CHANNEL_ACTIVATIONS),
    }

    def _build_net(self, n_features, image_shape):
        if self.prior != "factorised":
            if self.groups > self.latent:
                raise ValueError(f"{type(self).__name__}: groups={self.groups} is more than latent={self.latent}")
            bottleneck = HyperpriorBottleneck(self.latent, self.side, self.groups, self.components, CODE_STEP,
                                              joint=self.prior == "hyperprior-joint")
        else:
            bottleneck = EntropyBottleneck(self.latent, self.components, CODE_STEP)
        # blocks only when asked: conv-pool's builder has none (and refuses them at the parameter check)
        blocks = {"decoder_blocks": self.decoder_blocks} if self.decoder_blocks else {}
        encoder, decoder = self._encoder_decoder(n_features, image_shape, bottleneck, **blocks)
        return AutoencoderNet(encoder, bottleneck, decoder, loss="mse", output_activation="sigmoid",
                              corruption=self._corruption(n_features))

    def _loss_weights(self):
        return {"rate": self.rate_weight, "side_rate": self.rate_weight}

    def _validate_params(self):
        super()._validate_params()
        # known before the data: a conv arch makes any row an image, an MLP needs image_shape
        if self.augment_shift and self.arch == "mlp" and self.image_shape is None:
            raise ValueError(f"{type(self).__name__}: augment_shift={self.augment_shift} needs image-shaped rows "
                             "(arch='conv' or image_shape=(C, H, W))")
        if self.decoder_blocks and self.arch != "conv":
            raise ValueError(f"{type(self).__name__}: decoder_blocks={self.decoder_blocks} adds convolutions to a "
                             f"conv decoder; it needs arch='conv' (got arch={self.arch!r})")
        if self.activation in CHANNEL_ACTIVATIONS and self.arch != "conv":
            raise ValueError(f"{type(self).__name__}: activation={self.activation!r} normalises channels; it needs "
                             f"arch='conv' (got arch={self.arch!r})")

    def _step(self):
        if not self.augment_shift:
            return None
        offset, scale = (torch.as_tensor(a, device=self._device()) for a in (self.scaler_.offset_, self.scaler_.scale_))
        return shifting_step(self.image_shape_, self.augment_shift, offset, scale)

    def _optimizers(self, model):
        # the hyperprior's networks learn at the networks' pace (at the fast one they diverge)
        hyper = model.bottleneck.network_parameters() if self.prior != "factorised" else []
        fast = [q for q in model.bottleneck.parameters() if all(q is not r for r in hyper)]
        networks = [q for q in model.parameters() if all(q is not r for r in fast)]
        groups = [{"params": networks}, {"params": fast, "lr": BOTTLENECK_LR_FACTOR * self.lr}]
        return {"main": make_optimizer(self.optimizer, groups, self.lr, self.weight_decay)}

    def _score_meaning(self):
        return "reconstruction_loss (mse, per example, of the rounded codes)"

    def _range(self):
        low, high = np.round(self.code_range_ / CODE_STEP).astype(np.int64)
        return low, high

    def _tables(self, X):
        if self.prior == "factorised":
            self.side_range_ = None
            return self.model_.bottleneck.prior.tables(*self._range())
        low, high = self._range()
        symbols = self.code_symbols(X)
        codes = self._tensor(symbols + low)
        if self.prior == "hyperprior":
            # fitted to the trained codes (the training rows'), the networks fixed
            seed = int(check_random_state(self.random_state).randint(2**31))
            stream = torch.Generator(codes.device).manual_seed(seed)
            bits = self.model_.bottleneck.fit_context(codes, self._context_epochs(), self.batch_size, self.lr, stream)
            if bits and self.history_:
                self.history_[-1]["context_rate"] = round(bits[-1], 6)
        side = self._side_levels(symbols)
        self.side_range_ = np.stack([side.min(0), side.max(0)]) if len(side) else np.zeros((2, self.side), np.int64)
        tables = residual_tables(int((high - low).max()))
        self.model_.bottleneck.coding_tables = torch.as_tensor(tables, dtype=torch.int32, device=codes.device)
        return self.model_.bottleneck.side_prior.tables(*self.side_range_)

    def _context_epochs(self):
        return max(1, round(CONTEXT_EPOCHS_PER_EPOCH * self.epochs))

    def _side_levels(self, symbols):
        """The integer side codes of code symbols (n, latent), before clipping to their training range."""
        with torch.no_grad():
            codes = self._tensor(symbols + self._range()[0])
            return torch.round(self.model_.bottleneck.side_levels(codes)).cpu().numpy().astype(np.int64)

    def _tensor(self, integers):
        return torch.as_tensor(np.asarray(integers, np.float32), device=next(self.model_.parameters()).device)

    def symbol_sizes(self) -> list[int] | np.ndarray:
        if self.prior == "factorised":
            return super().symbol_sizes()
        low, high = self._range()
        return high - low + 1

    # ---- coding under the hyperprior (aekit.apps.codec.conditional codes with these) ----
    def side_symbols(self, symbols: np.ndarray) -> np.ndarray:
        """The side symbols (n, side), int64, each in [0, its table's size), of code symbols (n,
        latent) (``code_symbols``), for a model with ``prior="hyperprior"``: what the codec codes first."""
        check_is_fitted(self, "side_range_")
        side = self._side_levels(symbols) if len(symbols) else np.empty((0, self.side), np.int64)
        return np.clip(side, *self.side_range_) - self.side_range_[0]

    def table_choice(self, side: np.ndarray, symbols: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray]:
        """(row of ``residual_tables_``, shift) of each code of ``group`` (n, its size), int64: the
        coder codes ``symbol - shift`` under that row (centred). Reads only the side symbols and the
        code symbols of the groups before ``group``."""
        low, high = self._range()
        start, stop = self.coding_groups()[group]
        with torch.no_grad():
            mean, scale = self.model_.bottleneck.group_parameters(
                self._tensor(side + self.side_range_[0]), self._tensor(symbols + low), group)
            index, shift = (t.cpu().numpy() for t in table_choice(mean, scale))
        return index, np.clip(shift, low[start:stop], high[start:stop]) - low[start:stop]

    def coding_groups(self) -> list[tuple[int, int]]:
        """(first, past-last) code dimension of each group, in coding order."""
        return list(self.model_.bottleneck.group_slices) if self.prior != "factorised" else [(0, self.latent)]

    def bits_per_row(self, X) -> np.ndarray:
        if self.prior == "factorised":
            return super().bits_per_row(X)
        symbols = self.code_symbols(X)
        side = self.side_symbols(symbols)
        bits = table_bits(side, self.symbol_tables_)
        radius = self.residual_tables_.shape[1] // 2
        logp = np.log2(self.residual_tables_ / self.residual_tables_.sum(1, keepdims=True))
        for group, (start, stop) in enumerate(self.coding_groups()):
            index, shift = self.table_choice(side, symbols, group)
            bits -= logp[index, symbols[:, start:stop] - shift + radius].sum(1)
        return bits

    def sample(self, n: int, random_state=None) -> np.ndarray:
        if self.prior == "factorised":
            return super().sample(n, random_state)
        check_is_fitted(self, "side_range_")
        rng = check_random_state(random_state)
        n = self._check_n(n)
        side = np.stack([rng.choice(len(t), size=n, p=t / t.sum()) for t in self.symbol_tables_], 1)
        symbols = np.zeros((n, self.latent), np.int64)
        radius, sizes = self.residual_tables_.shape[1] // 2, self.symbol_sizes()
        cumulative = np.cumsum(self.residual_tables_, 1) / self.residual_tables_.sum(1, keepdims=True)
        for group, (start, stop) in enumerate(self.coding_groups()):
            index, shift = self.table_choice(side, symbols, group)
            drawn = (cumulative[index] < rng.random_sample(index.shape + (1,))).sum(-1)
            symbols[:, start:stop] = np.clip(drawn + shift - radius, 0, sizes[start:stop] - 1)
        return self.decode_symbols(symbols)

    def _extra_state(self):
        state = super()._extra_state()
        if getattr(self, "side_range_", None) is not None:
            state["side_range"] = self.side_range_.tolist()
        return state

    def _set_extra_state(self, state):
        super()._set_extra_state(state)
        side_range = state.get("side_range")
        self.side_range_ = None if side_range is None else np.asarray(side_range, np.int64)

    @property
    def residual_tables_(self) -> np.ndarray | None:
        """With the hyperprior: the integer tables (576, 2 * radius + 1) the codes are coded under
        (kept with the weights, as the bottleneck's buffer ``coding_tables``); else None."""
        tables = getattr(getattr(getattr(self, "model_", None), "bottleneck", None), "coding_tables", None)
        return None if tables is None or tables.numel() == 0 else tables.cpu().numpy().astype(np.int64)

    def _symbols_of_codes(self, codes):
        low, high = self._range()
        return np.clip(np.round(codes / CODE_STEP).astype(np.int64), low, high) - low

    def _codes_of_symbols(self, symbols):
        return ((symbols + self._range()[0]) * CODE_STEP).astype(np.float32)
