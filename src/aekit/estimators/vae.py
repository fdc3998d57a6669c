"""The variational autoencoder: a generative model with honest likelihoods in nats."""

import math
import numbers

import numpy as np
import torch
from numpy.typing import ArrayLike

from ..nn import AutoencoderNet, GaussianBottleneck
from ..nn.net import log_sigma_of
from ..registry import register
from ..seeding import torch_generator
from ..training import LossWeightRamp
from . import _params as p
from ._base import BaseAutoencoder
from ._generative import CONDITIONAL_PARAMS, PriorSamplingMixin
from ._penalized import PENALTY_PARAMS, PenalizedMixin

# Importance samples decoded at once: rows x samples per chunk when estimating likelihoods.
_DRAWS_PER_CHUNK = 65536


@register("vae")
class VariationalAutoencoder(PriorSamplingMixin, PenalizedMixin, BaseAutoencoder):
    """A variational autoencoder (Kingma and Welling 2014): Gaussian posterior, reparameterised
    codes, Bernoulli or Gaussian likelihood; trained on the negative ELBO in nats per example.

    Parameters
    ----------
    hidden : tuple of int, optional
        Encoder widths (channels for conv); the decoder mirrors them. Default (512, 256) for MLPs.
    latent : int, default=16
    activation : str, default="relu"
    likelihood : {"auto", "bernoulli", "gaussian"}, default="auto"
        Bernoulli (decoder logits; data in [0, 1]) or Gaussian with mean given by the decoder.
        "auto": Bernoulli when the (scaled) training data lies in [0, 1] (images, say), else Gaussian,
        so that any numeric table fits; the choice is ``likelihood_``.
    sigma : float or "learned", default=1.0
        Standard deviation of the Gaussian likelihood: fixed, or learned per feature.
    beta : float, default=1.0
        Weight of the KL term (beta-VAE); 1 gives the ELBO.
    kl_warmup_epochs : int, default=0
        Raise the KL weight linearly to ``beta`` over these first epochs.
    scale : {"minmax", "standard", None}, default=None
        None: the likelihood is of the data as given (a Bernoulli needs values in [0, 1]).
    sparsity : {None, "l1"}, default=None
        L1 penalty on the codes the decoder gets (the posterior samples), weighted by
        ``sparsity_weight`` (default 0.02). The target-rate kinds of :class:`aekit.Autoencoder` need
        code units in (0, 1), which Gaussian codes are not.
    contractive_weight : float, default=0.0
        Weight of ||d mu / d x||_F^2, the Jacobian of the posterior mean (a contractive VAE).
    conditional : bool, default=False
        A conditional VAE (Sohn et al. 2015): ``fit(X, y)`` with a label per row, the decoder
        p(x | z, y) gets the class (one-hot, as a vector per class added to its first layer), and
        ``sample(n, y=c)`` / ``inverse_transform(Z, y=...)`` draw rows of chosen classes. The
        encoder stays q(z | x): when the label is a function of the row (a digit of its image), that
        is as good as q(z | x, y), and ``transform`` needs no labels. What decodes a row's own code
        (``reconstruct``, ``score_samples``, ``elbo``) needs its class, and refuses without.
    log_dir : str, optional
        Write TensorBoard event files there (see :class:`aekit.Autoencoder`); with samples of the
        prior (of each class in turn, when conditional) every ``log_every`` epochs.
    log_every : int, default=5
        Epochs between the pictures of ``log_dir``.
    sparsity_weight, sparsity_target, contractive_estimator, contractive_projections, arch, image_shape,
    noise, noise_level, noise_range, epochs, batch_size, lr, lr_schedule, optimizer, weight_decay,
    clip_grad_norm, validation_fraction, early_stopping, checkpoint_dir, checkpoint_every,
    random_state, device, verbose
        As for :class:`aekit.Autoencoder`.

    Attributes
    ----------
    likelihood_ : {"bernoulli", "gaussian"}
        The likelihood trained (``likelihood``, or what "auto" chose).
    classes_ : ndarray
        The labels of a conditional model, sorted.
    model_, history_, scaler_, n_parameters_, n_features_in_
        As for :class:`aekit.Autoencoder`.

    Example
    -------
    >>> from aekit import VariationalAutoencoder
    >>> from aekit.datasets import load
    >>> X = load("digits").data
    >>> vae = VariationalAutoencoder(hidden=(64,), latent=4, epochs=3, random_state=0).fit(X)
    >>> vae.sample(5, random_state=0).shape
    (5, 64)
    """

    def __init__(self, hidden=None, latent=16, *, activation="relu", likelihood="auto", sigma=1.0,
                 beta=1.0, kl_warmup_epochs=0, arch="mlp", image_shape=None, scale=None, noise=None,
                 noise_level=0.3, noise_range=None, sparsity=None, sparsity_weight=None, sparsity_target=0.05,
                 contractive_weight=0.0,
                 contractive_estimator="exact", contractive_projections=8, epochs=20, batch_size=128, lr=1e-3,
                 lr_schedule=None, optimizer="adam", weight_decay=0.0, clip_grad_norm=None, validation_fraction=0.1,
                 early_stopping=None, checkpoint_dir=None, checkpoint_every=1, log_dir=None, log_every=5,
                 conditional=False, random_state=None, device="auto", precision="32", compile=False, verbose=False):
        p.store(self, locals())

    _param_table = {
        **BaseAutoencoder._param_table,
        "likelihood": p.one_of("auto", "bernoulli", "gaussian"),
        "sigma": p.real(0, low_open=True) | p.Spec(lambda v: v == "learned", "'learned'"),
        "beta": p.real(0),
        "kl_warmup_epochs": p.integer(0),
        **PENALTY_PARAMS,
        **CONDITIONAL_PARAMS,
    }

    def _check_family(self):
        if self.sparsity not in (None, "l1"):
            raise ValueError(f"{type(self).__name__}: sparsity={self.sparsity!r} needs code units in (0, 1); "
                             "a VAE's codes are Gaussian: use sparsity='l1' or None")

    def _adapt_to_range(self, low, high):
        self.likelihood_ = self.likelihood
        if self.likelihood == "auto":
            self.likelihood_ = "bernoulli" if 0 <= low and high <= 1 else "gaussian"

    def _unit_interval_reason(self):
        return "likelihood='bernoulli'" if self.likelihood_ == "bernoulli" else None

    def _extra_state(self):
        return {**super()._extra_state(), "likelihood": self.likelihood_, **self._conditional_state()}

    def _set_extra_state(self, state):
        super()._set_extra_state(state)
        self._set_conditional_state(state)
        # folders saved before likelihood="auto" existed name the likelihood in their parameters
        self.likelihood_ = state.get("likelihood", self.likelihood)

    def _build_net(self, n_features, image_shape):
        """An autoencoder network with a Gaussian bottleneck and the likelihood as its reconstruction loss."""
        bottleneck = GaussianBottleneck(self.latent)
        encoder, decoder = self._encoder_decoder(n_features, image_shape, bottleneck)
        # an encoder rebuilt from its parameters alone (a classifier's layout) has seen no data: both
        # likelihoods give the same modules and weights, so either serves it
        bernoulli = getattr(self, "likelihood_", self.likelihood) in ("bernoulli", "auto")
        return AutoencoderNet(encoder, bottleneck, decoder, loss="bce" if bernoulli else "gaussian",
                              output_activation="sigmoid" if bernoulli else "linear",
                              corruption=self._corruption(n_features), penalties=self._penalties(),
                              log_sigma=log_sigma_of(self.sigma, n_features), output_bias_at_mean=True,
                              n_classes=self._n_classes())

    def _loss_weights(self):
        return {"kl": self.beta, **self._penalty_weights()}

    def _onnx_graph(self, part):
        if part == "scorer":
            self._refuse_onnx(part, "a VAE's score_samples is an importance-sampled likelihood, random at every "
                                    "call; export part='encoder' (the posterior means) or part='decoder'")
        return super()._onnx_graph(part)

    def _score_meaning(self):
        return "negative_log_likelihood (nats per example, importance-weighted, k=100)"

    def _callbacks(self, resume, checkpoint=True):
        callbacks = super()._callbacks(resume, checkpoint)
        if self.kl_warmup_epochs:
            callbacks.append(LossWeightRamp("kl", self.beta, self.kl_warmup_epochs))
        return callbacks

    # ---- generative use -------------------------------------------------------------------------
    def attribute_vector(self, X: ArrayLike, mask: ArrayLike) -> np.ndarray:
        """Mean code of the rows where ``mask`` holds minus the mean code of the others: added to a
        code, it adds the attribute (e.g. thickness, a smile)."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (len(X),) or mask.all() or not mask.any():
            raise ValueError("mask must be a boolean per row of X with both groups non-empty")
        codes = self.transform(X)
        return codes[mask].mean(0) - codes[~mask].mean(0)

    # ---- likelihoods ----------------------------------------------------------------------------
    def _log_weights_mean(self, X, n_samples, reduce, random_state, argument):
        """Per-row ``reduce(log importance weights (n_samples, rows))`` in chunks; ``argument`` is the
        caller's name for ``n_samples``."""
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"{argument} must be a positive integer (posterior draws per row), got {n_samples!r}")
        generator = torch_generator(self.random_state if random_state is None else random_state, self._device())
        return self._per_row(lambda x: reduce(self.model_.log_weights(x, n_samples, generator)), X,
                             batch_size=max(1, _DRAWS_PER_CHUNK // n_samples)).astype(np.float64)

    def score_samples(self, X: ArrayLike, n_importance: int = 100,
                      random_state: int | np.random.RandomState | None = None) -> np.ndarray:
        """Importance-weighted estimate of log p(x) per row, in nats (Burda et al. 2016): a lower
        bound that tightens as ``n_importance`` grows; ``n_importance=1`` gives the ELBO."""
        def iwae(log_w):
            return torch.logsumexp(log_w, 0) - math.log(log_w.shape[0])
        return self._log_weights_mean(X, n_importance, iwae, random_state, "n_importance")

    def elbo(self, X: ArrayLike, n_samples: int = 1,
             random_state: int | np.random.RandomState | None = None) -> np.ndarray:
        """The evidence lower bound per row in nats (mean over ``n_samples`` posterior draws)."""
        return self._log_weights_mean(X, n_samples, lambda log_w: log_w.mean(0), random_state, "n_samples")
