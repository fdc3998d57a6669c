"""The scikit-learn estimators shared by every model of the toolkit.

A family only changes what ``_build_net`` builds and which defaults its class has; fitting,
encoding, decoding, scoring, checkpoints and saving are written once, here. ``NeuralEstimator``
fits (validation, scaling, seeds, device, checkpoints, history) and decodes; ``BaseAutoencoder``
adds encoding and scoring. A family that is no transformer (the GAN) derives from the first.
"""

import os
import warnings
from typing import Self

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import saving
from ..datasets.scaling import Moments, Scaler
from ..datasets.stream import RowStream, as_stream, row_blocks
from ..devices import cpu_has_fast, fast_units, resolve_device
from ..nn import ACTIVATIONS, build_conv, build_conv_pool, build_mlp
from ..nn.inference import INFERENCE_BATCH, batched
from ..noise import NOISE_KINDS, Corruption, is_range
from ..seeding import seeded
from ..training import LR_SCHEDULES, Trainer, distributed
from ..training.optim import OPTIMIZERS, make_optimizer
from . import _params as p
from ._exporting import OnnxExportMixin
from ._fitting import (
    in_phase,
    resolve_image_shape,
    split_labels,
    split_rows,
    split_stream,
    standard_callbacks,
    watch,
)
from ._generative import decode_classes
from ._stacking import pretrain_layers

_DEFAULT_HIDDEN = {"mlp": (512, 256), "conv": (32, 64), "conv-pool": (32, 64)}
_CONV_BUILDERS = {"conv": build_conv, "conv-pool": build_conv_pool}
# What the rows of ``fit``, ``transform`` and the like may be: an array, or rows that stay on disk.
Rows = ArrayLike | RowStream


class NeuralEstimator(OnnxExportMixin, BaseEstimator):
    """Shared fit / decode / save logic of every model; see :class:`aekit.Autoencoder` for parameters.

    A family supplies its network (``_build_net``) and, where the defaults do not fit, its
    optimisers (``_optimizers``), training step (``_step``), loss weights and callbacks.
    """

    _param_table = {
        "hidden": p.widths() | p.NONE,
        "latent": p.integer(1),
        "activation": p.one_of(*ACTIVATIONS),
        "arch": p.one_of("mlp", "conv", "conv-pool"),
        "image_shape": p.widths() | p.NONE,
        "scale": p.one_of("auto", "minmax", "standard", None),
        "epochs": p.integer(0),
        "batch_size": p.integer(1),
        "lr": p.real(0, low_open=True),
        "lr_schedule": p.one_of(None, *LR_SCHEDULES),
        "optimizer": p.one_of(*OPTIMIZERS),
        "weight_decay": p.real(0),
        "clip_grad_norm": p.real(0, low_open=True) | p.NONE,
        "validation_fraction": p.real(0, 0.9),
        "early_stopping": p.integer(1) | p.NONE,
        "checkpoint_dir": p.Spec(lambda v: v is None or isinstance(v, str), "a folder path or None"),
        "checkpoint_every": p.integer(1),
        "log_dir": p.Spec(lambda v: v is None or isinstance(v, str), "a folder path or None"),
        "log_every": p.integer(1),
        "random_state": p.integer(0) | p.NONE | p.Spec(lambda v: isinstance(v, np.random.RandomState),
                                                      "a RandomState"),
        "device": p.device(),
        "precision": p.one_of("32", "bf16-mixed", "16-mixed"),
        "compile": p.one_of(True, False),
        "verbose": p.integer(0) | p.one_of(True, False),
    }

    # ---- building -------------------------------------------------------------------------------
    def _validate_params(self):
        p.check_params(self, self._param_table)
        self._check_family()
        if self.arch != "mlp" and self.image_shape is not None and len(self.image_shape) != 3:
            raise ValueError(f"{type(self).__name__}: image_shape must be (channels, height, width), "
                             f"got {self.image_shape!r}")

    def _resolve_image_shape(self, n_features):
        return resolve_image_shape(self.image_shape, self.arch, n_features)

    def _hidden(self):
        return tuple(self.hidden) if self.hidden is not None else _DEFAULT_HIDDEN[self.arch]

    # Hooks for the families: what they build, how their terms are weighted, what they require.
    def _check_family(self):
        """Raise ValueError for parameter combinations the family cannot train."""

    def _build_net(self, n_features, image_shape):
        """The network for ``n_features`` inputs (a module with ``loss_terms``, ``encode``, ``decode``)."""
        raise NotImplementedError

    def _loss_weights(self):
        """Weights of the named loss terms (a term without a weight counts once)."""
        return None

    def _solve(self, X_train, X_val):
        """Train ``model_`` by a solver of its own instead of the Trainer's gradient steps, returning
        the history; or None (the default) for the Trainer."""
        return None

    def _adapt_to_range(self, low, high):
        """Settle what depends on the scaled training data's range (a VAE's ``likelihood="auto"``)."""

    def _unit_interval_reason(self):
        """Why the (scaled) data must lie in [0, 1], or None."""
        return None

    def _pretrain_mode(self):
        return None

    def _fit_targets(self, y, n_rows, streamed):
        """What the network trains on besides the rows (a conditional model's class indices), or None:
        ``y`` is ignored."""
        return None

    def _class_indices(self, y, n):
        if y is not None:
            raise ValueError(f"{type(self).__name__}: y chooses classes of a conditional model; this one has none")
        return None

    def _optimizers(self, model):
        """The optimisers that train ``model``, by name (the default step uses the single one)."""
        return {"main": make_optimizer(self.optimizer, model.parameters(), self.lr, self.weight_decay)}

    def _step(self):
        """A training step ``step(trainer, batch) -> dict of terms incl. "loss"`` (see
        :class:`aekit.training.Trainer`), or None: one step of the single optimiser on the weighted
        sum of the model's loss terms."""
        return None

    def _callbacks(self, resume, checkpoint=True):
        """The training loop's callbacks (see :func:`standard_callbacks`); a family adds its own."""
        return standard_callbacks(self, resume, checkpoint)

    # ---- fitting --------------------------------------------------------------------------------
    def _check_resume(self, resume):
        if resume and (self.checkpoint_dir is None or self.random_state is None):
            # the seed fixes the validation split, which must be the one the checkpoint was trained on
            raise ValueError(f"{type(self).__name__}: resume=True needs checkpoint_dir and an integer random_state")

    def _join_processes(self):
        """Train together with the other processes that ``torchrun`` started, if any."""
        distributed.setup(self.device)
        if distributed.world_size() > 1 and self.random_state is None:
            # each process would draw its own split, weights and batches
            raise ValueError(f"{type(self).__name__}: random_state=None cannot train on several processes; "
                             "give an integer random_state (the same in every process)")

    def fit(self, X: Rows, y: None = None, *, resume: bool = False) -> Self:
        """Train on the rows of ``X`` (n_samples, n_features); ``y`` is ignored, but for a conditional
        model (its classes) and to label the codes of TensorBoard's projector (``log_dir``).

        ``X`` may stay on disk: a :class:`aekit.datasets.RowStream` (``aekit.datasets.open_rows``),
        or ``np.load(path, mmap_mode="r")`` of a whole ``.npy`` file over 1 GiB, is read in shuffled
        blocks every epoch, with up to 10,000 rows held out for validation (see
        :mod:`aekit.datasets.stream`).

        With ``resume=True`` and a ``checkpoint_dir`` holding a checkpoint of the same
        configuration, training continues from it and ends with the same weights as an
        uninterrupted run. Started by ``torchrun`` as several processes, the processes train together
        (see :mod:`aekit.training.distributed`), each on ``batch_size`` rows of every global batch.
        """
        self._validate_params()
        self._join_processes()
        self._check_resume(resume)
        stream = as_stream(X)
        if stream is None:
            X = validate_data(self, X, dtype=[np.float32, np.float64]).astype(np.float32, copy=False)
        else:
            self._check_stream(stream)
        targets = self._fit_targets(y, len(X) if stream is None else len(stream), stream is not None)
        self.scaler_ = Scaler(self.scale).fit(X if stream is None else stream)
        # the scaled data's range, exactly: scaling is monotone in every feature
        low, high = self.scaler_.transform(np.stack([self.scaler_.data_min_, self.scaler_.data_max_]))
        self._adapt_to_range(float(low.min()), float(high.max()))
        reason = self._unit_interval_reason()
        if reason and (low.min() < 0 or high.max() > 1):
            raise ValueError(f"{reason} needs data in [0, 1] after scaling, got values in "
                             f"[{low.min():.3g}, {high.max():.3g}]; use scale='minmax'")
        n_features = self.scaler_.n_features_in_
        self.image_shape_ = self._resolve_image_shape(n_features)

        rng = check_random_state(self.random_state)
        init_seed, shuffle_seed, split_seed, noise_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=4))
        device = resolve_device(self.device)
        if self.precision != "32" and device.type == "cpu" and not cpu_has_fast(self.precision):
            warnings.warn(f"{type(self).__name__}: precision={self.precision!r} on a CPU without matrix units for "
                          f"it ({fast_units(self.precision)}) trains many times slower than precision='32'",
                          RuntimeWarning,
                          stacklevel=3 if type(self).fit is not NeuralEstimator.fit else 2)
        if stream is None:
            X_train, X_val = split_rows(self.scaler_.transform(X), self.validation_fraction, split_seed, device)
            init_rows = X_train
            if targets is not None:  # the Trainer's batches are (rows, classes)
                t_train, t_val = split_labels(targets, self.validation_fraction, split_seed, device)
                X_train, X_val = (X_train, t_train), None if X_val is None else (X_val, t_val)
        else:
            X_train, X_val, init_rows = split_stream(stream.transformed(self.scaler_.transform),
                                                     self.validation_fraction, split_seed, device)

        self.model_ = seeded(init_seed, lambda: self._build_net(n_features, self.image_shape_)).to(device)
        self.model_.init_from_data(init_rows)
        if getattr(self.model_, "corruption", None) is not None:  # noise bounded by the valid range, not per feature
            self.model_.corruption.set_range(*self.scaler_.range_in_scaled_units(self.noise_range))
        self.model_.noise_stream = torch.Generator(device).manual_seed(noise_seed)
        self.n_parameters_ = sum(p.numel() for p in self.model_.parameters())
        generators = {"shuffle": torch.Generator().manual_seed(shuffle_seed), "noise": self.model_.noise_stream}

        def make_trainer(model, epochs, callbacks):
            return Trainer(model, self._optimizers(model), epochs=epochs, batch_size=self.batch_size,
                           generators=generators, callbacks=callbacks, loss_weights=self._loss_weights(),
                           step=self._step(), precision=self.precision, compile=self.compile)

        trainer = make_trainer(self.model_, self.epochs, self._callbacks(resume))
        watch(trainer.callbacks, X_train, X_val, y, self.validation_fraction, split_seed)
        pretrain_history = []
        try:
            if self._pretrain_mode() is not None:
                pretrain_history = pretrain_layers(
                    self, self.model_, X_train, X_val,
                    lambda model, epochs, phase: make_trainer(
                        model, epochs, in_phase(self._callbacks(False, checkpoint=False), phase)))
            solved = self._solve(X_train, X_val)
            if solved is None:
                trainer.fit(X_train, X_val)
            else:
                trainer.history = solved
        finally:
            tag = [{"phase": "fine-tune"}] if self._pretrain_mode() is not None else [{}]
            self.history_ = pretrain_history + [{**tag[0], **record} for record in trainer.history]
            self.model_.noise_stream = None
            self.model_.eval()
        return self

    def _check_stream(self, stream):
        """What ``validate_data`` does for arrays, for rows that stay on disk."""
        if self._pretrain_mode() is not None:
            raise ValueError(f"{type(self).__name__}: pretrain={self._pretrain_mode()!r} trains on every "
                             f"layer's codes held in memory; it cannot train on {stream}")
        self.n_features_in_ = stream.n_features
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    # ---- using a fitted model -------------------------------------------------------------------
    def _device(self):
        check_is_fitted(self, "model_")
        return next(self.model_.parameters()).device

    def _scaled(self, X):
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=[np.float32, np.float64], reset=False).astype(np.float32, copy=False)
        return np.ascontiguousarray(self.scaler_.transform(X), dtype=np.float32)

    def _per_row(self, fn, X, batch_size=INFERENCE_BATCH):
        """``fn`` over the scaled rows of ``X`` in batches: numpy float32 out, a row per row of ``X``.
        Rows on disk (a :class:`aekit.datasets.RowStream`, a big ``.npy`` memory map) are read block
        by block, so that only the outputs are held in memory. ``fn`` reaches ``model_`` only when
        called (a lambda), so that an unfitted estimator is told so by ``_scaled``."""
        outputs = [batched(fn, self._scaled(block), self._device(), batch_size) for _, block in row_blocks(X)]
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def inverse_transform(self, Z: ArrayLike, y: ArrayLike | None = None) -> np.ndarray:
        """Decode codes ``Z`` (n_samples, latent) back to data in the original units; ``y``: the
        classes to decode as, for a conditional model (one label, one per row, or
        None for each class in turn)."""
        check_is_fitted(self, "model_")
        Z = np.asarray(Z, dtype=np.float32)
        if Z.ndim != 2 or Z.shape[1] != self.latent:
            raise ValueError(f"codes must have shape (n_samples, {self.latent}), got {Z.shape}")
        classes = self._class_indices(y, len(Z))
        if len(Z) == 0:
            return np.empty((0, self.n_features_in_), np.float32)
        Z = np.ascontiguousarray(Z)
        decoded = (batched(self.model_.decode, Z, self._device()) if classes is None
                   else decode_classes(self.model_.decode, Z, classes, self._device()))
        return self.scaler_.inverse_transform(decoded)

    def save(self, path: str | os.PathLike) -> None:
        """Write ``config.json`` and ``model.safetensors`` into the folder ``path``."""
        saving.save(self, path)


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, NeuralEstimator):
    """Shared fit / transform / score / save logic; see :class:`aekit.Autoencoder` for parameters."""

    _param_table = {
        **NeuralEstimator._param_table,
        "noise": p.one_of(None, *NOISE_KINDS),
        "noise_level": p.real(0),
        "noise_range": p.NONE | p.Spec(is_range, "a pair (low, high) with low < high"),
    }

    def _validate_params(self):
        super()._validate_params()
        if self.noise in ("masking", "salt_and_pepper") and self.noise_level > 1:
            raise ValueError(f"{type(self).__name__}: noise_level={self.noise_level} is a fraction of "
                             f"components for noise={self.noise!r}; it must be at most 1")

    def _corruption(self, n_features):
        """The corruption of the training inputs that ``noise`` asks for, or None."""
        return Corruption(self.noise, self.noise_level, n_features) if self.noise else None

    def _encoder_decoder(self, n_features, image_shape, bottleneck, tied=False, **conv_options):
        """Encoder to ``bottleneck``'s inputs, decoder from its code: MLP, or conv (``conv_options`` to its builder).

        A bottleneck that takes more inputs than it gives code units (a Gaussian's means and
        log-variances) gets its encoder and its decoder from two pairs built in turn, as aekit always
        built them, so that a seed gives the weights it gave before."""
        def pair(width):
            args = (self._hidden(), width, self.activation, tied)
            if self.arch == "mlp":
                return build_mlp(n_features, *args)
            return _CONV_BUILDERS[self.arch](image_shape, *args, **conv_options)

        if bottleneck.in_features == bottleneck.latent:
            return pair(bottleneck.latent)
        encoder, _ = pair(bottleneck.in_features)
        _, decoder = pair(bottleneck.latent)
        return encoder, decoder

    def fit(self, X: Rows, y: None = None, *, resume: bool = False) -> Self:
        super().fit(X, y, resume=resume)
        # per-dimension code range on the training rows: what a codec quantises over
        codes = Moments(with_variance=False)
        for _, block in row_blocks(X):
            codes.add(self.transform(block))
        self.code_range_ = np.stack([codes.low, codes.high]) if codes.n else None
        return self

    fit.__doc__ = NeuralEstimator.fit.__doc__

    def _extra_state(self):
        code_range = getattr(self, "code_range_", None)
        return {"code_range": None if code_range is None else code_range.tolist()}

    def _set_extra_state(self, state):
        code_range = state.get("code_range")
        self.code_range_ = None if code_range is None else np.asarray(code_range, np.float32)

    @property
    def _n_features_out(self):
        return self.latent

    def transform(self, X: Rows) -> np.ndarray:
        """Codes of the rows of ``X``, shape (n_samples, latent)."""
        return self._per_row(lambda x: self.model_.encode(x), X)

    def reconstruct(self, X: Rows) -> np.ndarray:
        """Encode then decode ``X``; returned in the original units."""
        decoded = self._per_row(lambda x: self.model_.decode(self.model_.encode(x)), X)
        return self.scaler_.inverse_transform(decoded)

    def interpolate(self, x_a: ArrayLike, x_b: ArrayLike, steps: int = 8) -> np.ndarray:
        """Decoded points on the straight line between the codes of ``x_a`` and ``x_b`` (for a VAE, the
        posterior means), in ``steps`` equal steps."""
        check_is_fitted(self, "model_")
        ends = [np.ravel(x) for x in (x_a, x_b)]
        for name, end in zip(("x_a", "x_b"), ends):
            if end.size != self.n_features_in_:
                raise ValueError(f"{name} has {end.size} values; expected one row of {self.n_features_in_} features")
        codes = self.transform(np.stack(ends))
        weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        return self.inverse_transform((1 - weights) * codes[0] + weights * codes[1])

    def traverse(self, x: ArrayLike, dim: int, values: ArrayLike) -> np.ndarray:
        """Decode the code of ``x`` with latent dimension ``dim`` set to each of ``values``."""
        if not 0 <= dim < self.latent:
            raise ValueError(f"dim={dim} is not a latent dimension (0 to {self.latent - 1})")
        codes = np.repeat(self.transform(np.ravel(x)[None]), len(values), axis=0)
        codes[:, dim] = values
        return self.inverse_transform(codes)

    def score_samples(self, X: Rows) -> np.ndarray:
        """Per-sample negative reconstruction loss (summed over features, in scaled units)."""
        return -self._per_row(lambda x: self.model_.per_row_loss(x), X)

    def score(self, X: Rows, y: None = None) -> float:
        """Negative mean reconstruction loss: higher is better, as scikit-learn expects."""
        return float(np.mean(self.score_samples(X)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

