"""The generative adversarial network: the same estimator and training loop, two optimisers."""

import numbers

import numpy as np
import torch
from numpy.typing import ArrayLike

from .. import metrics
from ..nn.gan import LOSSES, GANNet, build_gan_conv, build_gan_mlp
from ..registry import register
from ..seeding import seeded
from ..training.optim import make_optimizer
from . import _params as p
from ._base import NeuralEstimator
from ._generative import CONDITIONAL_PARAMS, PriorSamplingMixin

_DEFAULT_HIDDEN = {"mlp": (256, 512, 1024), "conv": (128, 64)}
# Terms logged but not trained: the total ("loss") is d_loss + g_loss.
_MONITOR_ONLY = {"d_acc_real": 0.0, "d_acc_fake": 0.0, "wasserstein": 0.0, "d_class": 0.0, "g_class": 0.0}
_MONITOR_SEED = 20160607  # fixed noise for the class monitor: the same latent points every epoch


def _betas():
    def test(v):
        return (isinstance(v, tuple | list) and len(v) == 2
                and all(isinstance(b, numbers.Real) and not isinstance(b, bool) and 0 <= b < 1 for b in v))
    return p.Spec(test, "a pair of numbers in [0, 1)")


def _classifier_spec():
    return p.Spec(lambda v: v is None or isinstance(v, str) or callable(v) or hasattr(v, "predict"),
                  "None, a data set name, a callable rows -> labels or an object with predict")


class _AdversarialStep:
    """One discriminator step per batch and one generator step after every ``n_critic`` of them.

    The generator step reuses the batch's generated rows (one generator forward pass) against the
    just-updated discriminator. Each optimiser's gradients are cleared after its step, so that a
    gradient-clipping callback sees only the network being updated. The count restarts every
    epoch, so a run resumed at an epoch boundary takes exactly the steps of an uninterrupted one.
    Reported terms are measured at the discriminator step, before its update.
    """

    def __init__(self, n_critic):
        self.n_critic = n_critic
        self._epoch, self._count = None, 0

    def __call__(self, trainer, batch):
        batch, classes = batch  # real rows, and their classes for a conditional GAN (else None)
        net, optimizers = trainer.model, trainer.optimizers
        if trainer.epoch != self._epoch:
            self._epoch, self._count = trainer.epoch, 0
        self._count += 1
        generator_turn = self._count % self.n_critic == 0
        # at least two rows: the generator's batch normalisation needs them (a last batch of one)
        n_fake = max(len(batch), 2)
        fake_classes = None if classes is None else classes.repeat(2)[:n_fake]

        with trainer.autocast():
            with torch.set_grad_enabled(generator_turn):  # no graph through G on discriminator-only turns
                fake = net.decode(net.noise(n_fake, batch), fake_classes)
            terms = net.adversarial_terms(batch, fake.detach(), classes, fake_classes)
        optimizers["discriminator"].zero_grad(set_to_none=True)
        trainer.backward(terms["d_loss"], optimizers["discriminator"])
        trainer.optimizer_step(optimizers["discriminator"])
        optimizers["discriminator"].zero_grad(set_to_none=True)

        if generator_turn:
            with trainer.autocast():
                g_loss = net.generator_objective(fake, fake_classes)
            # gradients of the generator only: nothing is computed for the discriminator's weights
            trainer.backward(g_loss, optimizers["generator"],
                             parameters=[q for q in net.generator_parameters() if q.requires_grad])
            trainer.optimizer_step(optimizers["generator"])
            optimizers["generator"].zero_grad(set_to_none=True)
        terms["loss"] = terms["d_loss"] + terms["g_loss"]
        return {name: value.detach() for name, value in terms.items()}


class _ClassMonitor:
    """After every epoch, classify generated rows (the same latent points each time) and add the
    fraction of each class (``class_<label>``) and the fraction of classes present
    (``class_coverage``) to the epoch's record: mode collapse shows as classes going to 0."""

    def __init__(self, estimator, classifier, n_samples):
        self.estimator = estimator
        self.classifier = classifier
        self.n_samples = n_samples

    @torch.no_grad()
    def on_epoch_end(self, trainer, record):
        net = trainer.model
        device = next(net.parameters()).device
        z = torch.randn((self.n_samples, net.latent), generator=torch.Generator().manual_seed(_MONITOR_SEED))
        was_training = net.training
        net.eval()
        # a conditional generator is asked for each class in turn
        classes = torch.arange(len(z)) % net.n_classes if net.n_classes else None
        rows = torch.cat([net.decode(z[i:i + 4096].to(device), None if classes is None else
                                     classes[i:i + 4096].to(device)).cpu() for i in range(0, len(z), 4096)])
        net.train(was_training)
        rows = self.estimator.scaler_.inverse_transform(rows.numpy())
        coverage = metrics.class_coverage(rows, self.classifier)
        record.update({f"class_{c}": float(f) for c, f in zip(coverage.classes, coverage.fractions)})
        record["class_coverage"] = float(coverage.coverage)
        if classes is not None:  # how often the classifier sees the class the generator was asked for
            asked = self.estimator.classes_[classes.numpy()]
            predict = getattr(self.classifier, "predict", self.classifier)
            record["class_match"] = float(np.mean(np.asarray(predict(rows)) == asked))


@register("gan")
class GAN(PriorSamplingMixin, NeuralEstimator):
    """A generative adversarial network (Goodfellow et al. 2014), MLP or DCGAN-style convolutional.

    The discriminator learns to tell training rows from generated ones (binary cross-entropy); the
    generator learns to make it fail (softplus(-D(G(z)))). Both are trained by aekit's one training
    loop with two optimisers; checkpoints, resuming, seeds and saving work as for every model.

    Parameters
    ----------
    hidden : tuple of int, optional
        Generator widths from the noise to the data (channels for ``arch="conv"``); the
        discriminator mirrors them. Default (256, 512, 1024) for MLPs (on the MNIST digits it covers
        the classes more evenly than (256, 512), at about 2.5 times the time: bench/gan.py),
        (128, 64) for conv.
    latent : int, default=100
        Size of the noise vector z ~ N(0, I) (100 as in DCGAN).
    activation : str, default="leaky_relu"
        The generator's hidden activation (after batch normalisation); leaky_relu has slope 0.2
        here, as in DCGAN. The discriminator uses LeakyReLU(0.2).
    output_activation : {"sigmoid", "linear"}, default="sigmoid"
        Sigmoid needs data in [0, 1] after scaling (the default ``scale="minmax"`` gives that).
    arch : {"mlp", "conv"}, default="mlp"
        Conv: a dense layer then 4x4 stride-2 transposed convolutions with batch normalisation in
        the generator; 4x4 stride-2 convolutions with LeakyReLU in the discriminator.
    image_shape : tuple (C, H, W), optional
        As for :class:`aekit.Autoencoder`.
    scale : {"minmax", "standard", None}, default="minmax"
        Per-feature scaling of the data; generated rows are returned in the original units.
    n_critic : int, default=1
        Discriminator steps (each on its own batch) per generator step, counted within each epoch:
        an epoch of B batches takes B discriminator and floor(B / n_critic) generator steps.
    label_smoothing : float, default=0.0
        One-sided label smoothing: the discriminator's target for real rows is 1 - label_smoothing.
    spectral_norm : bool, default=False
        Spectral normalisation of every discriminator layer (Miyato et al. 2018).
    r1_penalty : float, default=10.0
        Weight gamma of the R1 gradient penalty (Mescheder et al. 2018): the discriminator's loss
        gets ``gamma / 2 * E ||grad_x D(x)||^2`` over the real rows of each batch, which keeps it
        from turning steep around the data; ``history_`` then records ``r1``, the mean squared
        gradient. It costs a second backward pass through the discriminator per step (about a
        quarter more time). On the MNIST digits (bench/gan.py, ten seeds) it draws clearly better
        digits than spectral normalisation and covers the classes more evenly; with neither, one
        class all but vanishes. 0 turns it off.
    loss : {"non-saturating", "wgan-gp"}, default="non-saturating"
        The adversarial loss: the discriminator's binary cross-entropy against the generator's
        softplus(-D(G(z))) (Goodfellow et al. 2014, with ``r1_penalty``); or WGAN-GP (Gulrajani et al.
        2017), a critic's Wasserstein estimate with a gradient penalty of weight 10 on points between
        real and generated rows (``history_`` then records ``wasserstein`` and ``gp``;
        ``r1_penalty`` and ``label_smoothing`` are not used). The paper trains WGAN-GP with
        ``n_critic=5`` and ``betas=(0.5, 0.9)``; bench/gan.py compares both losses.
    conditional : bool, default=False
        A conditional GAN: ``fit(X, y)`` with a label per row; the generator gets the class (a
        vector per class added after each of its batch normalisations: conditional batch norm's
        biases), the discriminator judges rows with theirs (a projection discriminator, Miyato and
        Koyama 2018) and names it (``auxiliary_weight``); ``sample(n, y=c)`` draws rows of class c.
        On the MNIST digits it takes more epochs than the default 20 (bench/conditional.py, 3 seeds:
        at 120 epochs 98.5-99.2% of the samples asked for a class are classified as it, every class
        at least 95%; at 80 epochs the worst class gets 92-96%, and 63-87% without the auxiliary
        classifier).
    auxiliary_weight : float, default=0.3
        For a conditional GAN: the discriminator also names the class of a row from its last
        features (an auxiliary classifier, AC-GAN, Odena et al. 2017), learnt on the real rows, and
        the generator is rewarded for rows it names as the class asked for; both cross-entropies
        (``d_class``, ``g_class`` in ``history_``) weigh ``auxiliary_weight`` beside the adversarial
        losses. 0 leaves the class to the projection alone. Ignored when unconditional. With
        ``loss="wgan-gp"`` the worst class stayed at 78-90% for weights 0.3-3 (BENCHMARKS.md): the
        default loss is the one for class-conditional generation.
    log_dir : str, optional
        Write TensorBoard event files there (see :class:`aekit.Autoencoder`): losses, accuracies,
        learning rates and, for image rows, samples every ``log_every`` epochs.
    log_every : int, default=5
        Epochs between the pictures of ``log_dir``.
    betas : (float, float), default=(0.5, 0.999)
        Adam's (and AdamW's) betas, for both networks (DCGAN's choice).
    lr : float, default=2e-4
        Learning rate of the generator, and of the discriminator unless ``lr_discriminator``.
    lr_discriminator : float, optional
        A separate learning rate for the discriminator (two time-scale update rule).
    lr_schedule : {None, "cosine", "linear"}, default=None
        As for :class:`aekit.Autoencoder`, for both networks.
    monitor_classifier : None, str, callable or classifier, default=None
        Something that labels rows in the original units: a callable ``rows -> labels``, an object
        with ``predict`` (and ideally ``classes_``), or a data set name, for which
        :func:`aekit.metrics.reference_classifier` is trained (once, then cached). Then every epoch
        ``monitor_samples`` generated rows are classified and ``history_`` gets ``class_<label>``
        (fraction of rows per class) and ``class_coverage``; for a conditional GAN, asked for each
        class in turn, also ``class_match`` (the fraction classified as the class asked for). Only a
        name is saved with the model.
    monitor_samples : int, default=1000
    epochs : int, default=20
    batch_size : int, default=128
    validation_fraction : float, default=0.0
        Rows held out to report ``val_*`` terms against fresh generated rows; a discriminator whose
        ``val_d_acc_real`` falls far below ``d_acc_real`` is memorising the training rows.
    optimizer, weight_decay, clip_grad_norm, early_stopping, checkpoint_dir, checkpoint_every,
    random_state, device, verbose
        As for :class:`aekit.Autoencoder` (early stopping watches ``d_loss + g_loss``, which says
        little about a GAN's samples).

    Attributes
    ----------
    model_ : GANNet
        ``model_.decoder`` is the generator, ``model_.discriminator`` the discriminator.
    history_ : list of dict
        Per epoch, means over the batches (measured at each discriminator step): ``d_loss``,
        ``g_loss``, ``loss`` (their sum), ``d_acc_real``, ``d_acc_fake``; ``r1`` with the penalty
        (``wasserstein`` and ``gp`` for WGAN-GP); with a monitor ``class_<label>``,
        ``class_coverage`` (and ``class_match`` when conditional); ``time``.
    classes_ : ndarray
        The labels of a conditional GAN, sorted.
    scaler_, n_parameters_, n_features_in_, image_shape_
        As for :class:`aekit.Autoencoder`.

    Notes
    -----
    A GAN has no encoder: there is no ``transform``, ``reconstruct`` or ``score_samples``.
    ``inverse_transform(Z)`` generates from given noise; :meth:`discriminate` gives the
    discriminator's logit, which is no likelihood. A discriminator accuracy stuck near 1 on both
    real and fake rows means the generator has lost; near 0.5 throughout is the equilibrium.

    Example
    -------
    >>> from aekit import GAN
    >>> from aekit.datasets import load
    >>> X = load("digits").data
    >>> gan = GAN(hidden=(64, 64), latent=8, epochs=2, random_state=0).fit(X)
    >>> gan.sample(5, random_state=0).shape
    (5, 64)
    """

    def __init__(self, hidden=None, latent=100, *, activation="leaky_relu", output_activation="sigmoid", arch="mlp",
                 image_shape=None, scale="minmax", n_critic=1, label_smoothing=0.0, spectral_norm=False,
                 r1_penalty=10.0, loss="non-saturating", conditional=False, auxiliary_weight=0.3, betas=(0.5, 0.999),
                 lr=2e-4, lr_discriminator=None, lr_schedule=None, monitor_classifier=None, monitor_samples=1000,
                 epochs=20, batch_size=128, optimizer="adam", weight_decay=0.0, clip_grad_norm=None,
                 validation_fraction=0.0, early_stopping=None, checkpoint_dir=None, checkpoint_every=1, log_dir=None,
                 log_every=5, random_state=None, device="auto", precision="32", compile=False, verbose=False):
        p.store(self, locals())

    _param_table = {
        **NeuralEstimator._param_table,
        "arch": p.one_of("mlp", "conv"),  # the GAN has no max-pool networks
        "output_activation": p.one_of("sigmoid", "linear"),
        "n_critic": p.integer(1),
        "label_smoothing": p.real(0, 0.5),
        "spectral_norm": p.one_of(True, False),
        "r1_penalty": p.real(0),
        "loss": p.one_of(*LOSSES),
        **CONDITIONAL_PARAMS,
        "auxiliary_weight": p.real(0),
        "betas": _betas(),
        "lr_discriminator": p.real(0, low_open=True) | p.NONE,
        "monitor_classifier": _classifier_spec(),
        "monitor_samples": p.integer(1),
    }

    # ---- the family's parts ---------------------------------------------------------------------
    def _check_family(self):
        if self.arch == "conv" and self.hidden is not None and len(self.hidden) == 0:
            raise ValueError(f"{type(self).__name__}: hidden=() leaves arch='conv' without a convolution; "
                             "give at least one channel count")

    def _hidden(self):
        return tuple(self.hidden) if self.hidden is not None else _DEFAULT_HIDDEN[self.arch]

    def _unit_interval_reason(self):
        return "output_activation='sigmoid'" if self.output_activation == "sigmoid" else None

    def _build_net(self, n_features, image_shape):
        args = (self._hidden(), self.latent, self.activation, self.spectral_norm)
        if self.arch == "conv":
            decoder, discriminator = build_gan_conv(image_shape, *args)
        else:
            decoder, discriminator = build_gan_mlp(n_features, *args)
        return GANNet(decoder, discriminator, self.latent, self.output_activation, self.label_smoothing,
                      self.r1_penalty, self.loss, self._n_classes(), self.auxiliary_weight)

    def _extra_state(self):
        state = self._conditional_state()
        return {**state, "auxiliary_classifier": True} if state else state

    def _set_extra_state(self, state):
        self._set_conditional_state(state)
        if self.conditional and "auxiliary_classifier" not in state:
            # written before the auxiliary classifier existed: trained without one, as weight 0 trains
            self.auxiliary_weight = 0.0

    def _onnx_graph(self, part):
        if part != "decoder":
            self._refuse_onnx(part, "a GAN has only a generator to export (part='decoder'); its discriminator's "
                                    "logit is no score of the rows")
        return super()._onnx_graph(part)

    def _optimizers(self, model):
        options = {"betas": tuple(self.betas)} if self.optimizer in ("adam", "adamw") else {}
        lr_d = self.lr if self.lr_discriminator is None else self.lr_discriminator
        return {
            "generator": make_optimizer(self.optimizer, model.generator_parameters(), self.lr, self.weight_decay,
                                         **options),
            "discriminator": make_optimizer(self.optimizer, model.discriminator_parameters(), lr_d,
                                             self.weight_decay, **options),
        }

    def _step(self):
        return _AdversarialStep(self.n_critic)

    def _loss_weights(self):
        return dict(_MONITOR_ONLY)

    def _monitor(self):
        """The monitor's classifier: the parameter as given, or the reference classifier it names."""
        if isinstance(self.monitor_classifier, str):
            return metrics.reference_classifier(self.monitor_classifier, device=self.device)
        return self.monitor_classifier

    def _callbacks(self, resume, checkpoint=True):
        callbacks = super()._callbacks(resume, checkpoint)
        if self.monitor_classifier is not None:
            # first: the checkpoint written at the end of the epoch holds the record it completes
            callbacks.insert(0, _ClassMonitor(self, self._monitor(), self.monitor_samples))
        return callbacks

    # ---- pickling -------------------------------------------------------------------------------
    # torch refuses to pickle modules with parametrizations (spectral norm): the fitted network
    # travels as its state dict and is rebuilt, as aekit.load does.
    def __getstate__(self):
        state = super().__getstate__()
        if "model_" in state:
            state = dict(state)
            model = state.pop("model_")
            state["_model_state"] = ({k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                                     str(next(model.parameters()).device))
        return state

    def __setstate__(self, state):
        model_state = state.pop("_model_state", None)
        super().__setstate__(state)
        if model_state is not None:
            weights, device = model_state
            # building draws spectral norm's start vectors: keep the caller's random stream untouched
            net = seeded(0, lambda: self._build_net(self.n_features_in_, self.image_shape_))
            net.load_state_dict(weights)
            self.model_ = net.to(device).eval()

    # ---- generative use -------------------------------------------------------------------------
    def inverse_transform(self, Z: ArrayLike, y: ArrayLike | None = None) -> np.ndarray:
        """Generated rows (original units) for noise vectors ``Z`` (n_samples, latent), of the classes
        ``y`` for a conditional GAN."""
        return super().inverse_transform(Z, y)

    def discriminate(self, X: ArrayLike) -> np.ndarray:
        """The discriminator's logit per row of ``X`` (original units): log-odds of "real" under the
        discriminator's current belief. Not a likelihood, and not calibrated."""
        return self._per_row(lambda x: self.model_.discriminate(x), X)
