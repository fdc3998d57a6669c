"""The sparse autoencoder: a penalty on code activity (L1, KL to a target rate), or a k-sparse code
(TopK, BatchTopK, JumpReLU) on a one-layer dictionary trained by the recipe of sparse dictionary
learning at scale (see :mod:`aekit.nn.dictionary` and :mod:`aekit.nn.ksparse`)."""

import math

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..losses import OUTPUT_ACTIVATIONS, SPARSITY_KINDS
from ..nn.dictionary import DictionaryNet
from ..nn.ksparse import K_SPARSE_KINDS, KSparseBottleneck
from ..registry import register
from ..training.dictionary import DictionaryUpkeep, dictionary_step
from . import _params as p
from .autoencoder import Autoencoder

# The L0 term's weight of JumpReLU (dictionary_learning's sparsity_penalty for a target L0)
JUMPRELU_SPARSITY_WEIGHT = 1.0
# What a dictionary cannot be, with the value it needs
_DICTIONARY_NEEDS = {"hidden": ((), "()"), "arch": ("mlp", "'mlp'"), "tied": (False, "False"),
                     "pretrain": (None, "None"), "loss": ("mse", "'mse'"), "contractive_weight": (0.0, "0")}


@register("sparse")
class SparseAutoencoder(Autoencoder):
    """Penalises code activity, or keeps only k active code units, so that few units describe each input.

    :class:`Autoencoder` with ``sparsity="kl"``, ``latent=400``, ``hidden=()``; see it for every
    parameter it shares. The k-sparse kinds train a one-layer dictionary (rows -> units -> rows, the
    decoder's unit-norm columns are its directions, ``components_``) by the recipe of sparse
    dictionary learning (Gao et al. 2024; Bussmann et al. 2024; Rajamanoharan et al. 2024), the way
    SAELens and dictionary_learning train on the activations of other networks.

    Parameters
    ----------
    sparsity : {"kl", "l1", "squared", "topk", "batchtopk", "jumprelu", None}, default="kl"
        Penalties (see :class:`Autoencoder`) or k-sparse codes: ``"topk"`` keeps each row's k largest
        pre-activations (through a ReLU); ``"batchtopk"`` the ``k x batch`` largest of a batch, and at
        inference every unit above a learned threshold; ``"jumprelu"`` a learned threshold per unit
        (straight-through), trained towards a mean of ``k`` active units per row.
    k : int, default=32
        Active units per row (topk), on average (batchtopk), or the target L0 (jumprelu); at most
        ``latent``.
    output_activation : {"auto", "sigmoid", "linear"}, default="auto"
        "auto": linear for a dictionary, else sigmoid.
    dictionary : {"auto", True, False}, default="auto"
        Train the one-layer dictionary with the recipe below; "auto": for the k-sparse kinds only
        (True also serves ``sparsity="l1"``, the L1 baseline of the literature).
    encoder_init : {"transpose", "random"}, default="transpose"
        The encoder starts as the decoder's transpose (Gao et al.).
    pre_bias : {"median", "mean", "zero"}, default="median"
        The pre-encoder bias (subtracted before encoding, the decoder's bias) starts at the geometric
        median of a sample of training rows.
    unit_norm_decoder : bool, default=True
        Decoder columns kept at unit norm after every step; the gradient along each column is removed.
    aux_k : int, optional
        AuxK: dead units that reconstruct the residual per row; default the power of two nearest
        half the number of features; 0 turns the term off.
    aux_weight : float, default=1/32
        Weight of the AuxK term.
    dead_after : int, default=10_000_000
        A unit that fired on none of the last ``dead_after`` training rows is dead (for AuxK).
    jump_bandwidth : float, default=0.001
        JumpReLU's straight-through kernel width (pre-activation units).
    jump_threshold_init : float, default=0.001
        JumpReLU's starting threshold.

    ``log_dir`` writes TensorBoard event files as for ``Autoencoder`` (``fvu``, ``l0`` and
    ``dead_fraction`` among the scalars), pictures every ``log_every`` epochs.

    ``sparsity_weight`` weighs the JumpReLU L0 term (default 1). A dictionary's reconstruction term
    is its squared error over the data's variance: its ``history_`` ``recon`` (and ``fvu``) is the
    fraction of variance unexplained; ``l0`` the mean active units per row; ``dead_fraction`` the
    units that fired on no training row of the epoch.

    Attributes
    ----------
    components_ : ndarray (latent, n_features)
        Unit-norm decoder directions, in scaled units (scikit-learn's ``DictionaryLearning`` layout);
        for a network whose decoder is one dense layer.

    Example
    -------
    >>> from aekit.datasets import make_superposition
    >>> X, _, _ = make_superposition(2000, n_features=64, n_dims=16, l0=3, random_state=0)
    >>> sae = SparseAutoencoder(sparsity="topk", k=3, latent=64, scale=None, epochs=2, random_state=0).fit(X)
    >>> (sae.transform(X[:5]) > 0).sum(1).max() <= 3
    True
    """

    def __init__(self, hidden=(), latent=400, *, activation="relu", code_activation="auto",
                 output_activation="auto", loss="mse", tied=False, arch="mlp", image_shape=None,
                 scale="minmax", noise=None, noise_level=0.3, noise_range=None, sparsity="kl", sparsity_weight=None,
                 sparsity_target=0.05, k=32, dictionary="auto", encoder_init="transpose", pre_bias="median",
                 unit_norm_decoder=True, aux_k=None, aux_weight=1 / 32, dead_after=10_000_000,
                 jump_bandwidth=0.001, jump_threshold_init=0.001, contractive_weight=0.0,
                 contractive_estimator="exact", contractive_projections=8, pretrain=None, pretrain_epochs=10,
                 epochs=20, batch_size=128, lr=1e-3, lr_schedule=None, optimizer="adam", weight_decay=0.0,
                 clip_grad_norm=None, validation_fraction=0.1, early_stopping=None, checkpoint_dir=None,
                 checkpoint_every=1, log_dir=None, log_every=5, random_state=None, device="auto", precision="32",
                 compile=False, verbose=False):
        p.store(self, locals())

    _param_table = {
        **Autoencoder._param_table,
        "output_activation": p.one_of("auto", *OUTPUT_ACTIVATIONS),
        "sparsity": p.one_of(None, *SPARSITY_KINDS, *K_SPARSE_KINDS),
        "k": p.integer(1),
        "dictionary": p.one_of("auto", True, False),
        "encoder_init": p.one_of("transpose", "random"),
        "pre_bias": p.one_of("median", "mean", "zero"),
        "unit_norm_decoder": p.one_of(True, False),
        "aux_k": p.integer(0) | p.NONE,
        "aux_weight": p.real(0),
        "dead_after": p.integer(1),
        "jump_bandwidth": p.real(0, low_open=True),
        "jump_threshold_init": p.real(0, low_open=True),
    }

    def _uses_dictionary(self) -> bool:
        return self.sparsity in K_SPARSE_KINDS if self.dictionary == "auto" else bool(self.dictionary)

    def _output_activation(self):
        if self.output_activation == "auto":
            return "linear" if self._uses_dictionary() else "sigmoid"
        return self.output_activation

    def _check_family(self):
        name = type(self).__name__
        if self.sparsity in K_SPARSE_KINDS:
            if not self._uses_dictionary():
                raise ValueError(f"{name}: sparsity={self.sparsity!r} trains a dictionary; use dictionary='auto'")
            if self.k > self.latent:
                what = "the target L0" if self.sparsity == "jumprelu" else "the number of active units"
                raise ValueError(f"{name}: k={self.k} ({what}) exceeds latent={self.latent}, the number of code "
                                 "units; use a k of at most latent")
            if self.code_activation != "auto":
                raise ValueError(f"{name}: sparsity={self.sparsity!r} makes its own code; use code_activation='auto'")
        if self._uses_dictionary():
            self._check_dictionary()
        super()._check_family()

    def _check_dictionary(self):
        for param, (needed, shown) in _DICTIONARY_NEEDS.items():
            value = getattr(self, param)
            if (tuple(value) if param == "hidden" else value) != needed:
                raise ValueError(f"{type(self).__name__}: a dictionary (sparsity={self.sparsity!r}) is one dense "
                                 f"layer each way with a squared error; it needs {param}={shown}, got {value!r}")
        if self._output_activation() != "linear":
            raise ValueError(f"{type(self).__name__}: a dictionary decodes linearly; it needs output_activation="
                             f"'auto' or 'linear', got {self.output_activation!r}")

    def _aux_k(self, n_features):
        if self.aux_k is not None:
            return self.aux_k
        return 2 ** round(math.log2(max(n_features / 2, 1)))

    def _bottleneck(self):
        if self.sparsity in K_SPARSE_KINDS:
            return KSparseBottleneck(self.sparsity, self.latent, self.k, self.jump_bandwidth,
                                     self.jump_threshold_init)
        return super()._bottleneck()

    def _build_net(self, n_features, image_shape):
        if not self._uses_dictionary():
            return super()._build_net(n_features, image_shape)
        return DictionaryNet(n_features, self._bottleneck(), self._corruption(n_features), self._penalties(),
                             encoder_init=self.encoder_init, pre_bias=self.pre_bias,
                             unit_norm_decoder=self.unit_norm_decoder, aux_k=self._aux_k(n_features),
                             dead_after=self.dead_after)

    def _penalties(self, one_layer=False):
        return [] if self.sparsity in K_SPARSE_KINDS else super()._penalties(one_layer)

    def _loss_weights(self):
        if self.sparsity in K_SPARSE_KINDS:
            weight = self.sparsity_weight if self.sparsity_weight is not None else JUMPRELU_SPARSITY_WEIGHT
            weights = {"sparsity": weight}
        else:
            weights = dict(self._penalty_weights())
        return {**weights, "aux": self.aux_weight} if self._uses_dictionary() else weights

    def _step(self):
        return dictionary_step if self._uses_dictionary() else None

    def _callbacks(self, resume, checkpoint=True):
        # first: the dead fraction joins each record before a checkpoint writes it
        upkeep = [DictionaryUpkeep()] if self._uses_dictionary() else []
        return upkeep + super()._callbacks(resume, checkpoint)

    @property
    def components_(self) -> np.ndarray:
        check_is_fitted(self, "model_")
        if isinstance(self.model_, DictionaryNet):
            directions = self.model_.dictionary.weight.detach().cpu().double().numpy()
        elif self.arch == "mlp" and not self._hidden() and not self.tied:
            directions = self.model_.decoder[0].weight.detach().cpu().double().numpy().T
        else:
            raise AttributeError("components_: the decoder is not one dense layer (hidden=(), arch='mlp', untied)")
        norms = np.linalg.norm(directions, axis=1, keepdims=True)
        return (directions / np.where(norms > 0, norms, 1.0)).astype(np.float32)
