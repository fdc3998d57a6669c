"""The GAN's networks: a generator (noise -> data, the ``decoder``) and a discriminator (data -> one
logit), as MLPs or DCGAN-style convolutions (Radford et al. 2016), and the adversarial loss terms.

The generator is called ``decoder`` because that is what it is: a map from a latent vector to a
row, used by ``inverse_transform`` exactly like an autoencoder's decoder (and the name its weights
are saved under).
"""

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from ..losses import output_transform
from .activations import make_activation
from .conditioning import ClassProjection, ClassShift, output_width
from .net import start_output_at_mean

# DCGAN geometry: a 4x4 kernel with stride 2 and padding 1 halves a size exactly (floor for odd
# sizes) and its transpose doubles it (output_padding 1 restores an odd size); no checkerboard
# from kernels that the stride does not divide.
_KERNEL, _STRIDE, _PADDING = 4, 2, 1
_LEAK = 0.2  # the discriminator's LeakyReLU slope (DCGAN)
LOSSES = ("non-saturating", "wgan-gp")
# Weight of WGAN-GP's gradient penalty (Gulrajani et al. 2017, lambda = 10 in every experiment there).
GRADIENT_PENALTY = 10.0
# Standard deviation of the generator's class vectors at the start, beside features of unit variance
GENERATOR_CLASS_STD = 1.0


def _discriminator_layer(layer, spectral_norm):
    return _spectral_norm(layer) if spectral_norm else layer


def _activation(name):
    # GANs use a leak of 0.2 (DCGAN), not the 0.01 of torch's default
    return nn.LeakyReLU(_LEAK) if name == "leaky_relu" else make_activation(name)


def build_gan_mlp(n_features: int, hidden: Sequence[int], latent: int, activation: str,
                  spectral_norm: bool = False) -> tuple[nn.Sequential, nn.Sequential]:
    """Generator latent -> hidden... -> n_features (logits), with batch normalisation before each
    hidden activation; discriminator n_features -> reversed(hidden)... -> 1 logit with
    LeakyReLU(0.2), spectrally normalised if asked.

    Batch normalisation in the generator is what keeps it from collapsing onto one or two classes
    (mnist5k, 10 epochs: all 10 classes instead of 1; see ``aekit.metrics.class_coverage``).

    Example
    -------
    >>> generator, discriminator = build_gan_mlp(784, (256, 512), 64, "leaky_relu")
    """
    widths = [latent, *hidden]
    generator = nn.Sequential()
    for a, b in zip(widths[:-1], widths[1:]):
        generator.extend([nn.Linear(a, b), nn.BatchNorm1d(b), _activation(activation)])
    generator.append(nn.Linear(widths[-1], n_features))

    widths = [n_features, *reversed(hidden)]
    discriminator = nn.Sequential()
    for a, b in zip(widths[:-1], widths[1:]):
        discriminator.extend([_discriminator_layer(nn.Linear(a, b), spectral_norm), nn.LeakyReLU(_LEAK)])
    discriminator.append(_discriminator_layer(nn.Linear(widths[-1], 1), spectral_norm))
    return generator, discriminator


def build_gan_conv(image_shape: tuple[int, int, int], channels: Sequence[int], latent: int, activation: str,
                   spectral_norm: bool = False) -> tuple[nn.Sequential, nn.Sequential]:
    """DCGAN pair for flat rows of ``image_shape`` (C, H, W).

    Generator: a dense layer to ``channels[0]`` maps of size (H, W) / 2^k (k = len(channels)), then
    transposed convolutions that double the size through ``channels[1:]`` to C channels (logits),
    with batch normalisation and ``activation`` between. Discriminator: the mirror, strided
    convolutions C -> reversed(channels) with LeakyReLU(0.2) and no batch normalisation (so that
    spectral normalisation, when asked, bounds every layer), then a dense layer to one logit.

    Example
    -------
    >>> generator, discriminator = build_gan_conv((1, 28, 28), (128, 64), 64, "relu")
    """
    c_in, height, width = image_shape
    sizes = [(height, width)]
    for _ in channels:
        sizes.append(tuple((s + 2 * _PADDING - _KERNEL) // _STRIDE + 1 for s in sizes[-1]))
    if min(sizes[-1]) < 1:
        raise ValueError(f"hidden={tuple(channels)}: {len(channels)} stride-2 layers need images of at least "
                         f"{2 ** len(channels)} pixels a side, got {height}x{width}")
    smallest = (channels[0], *sizes[-1])

    generator = nn.Sequential(nn.Linear(latent, math.prod(smallest)), nn.Unflatten(1, smallest),
                              nn.BatchNorm2d(channels[0]), _activation(activation))
    outs = [*channels[1:], c_in]
    for i, (a, b) in enumerate(zip(channels, outs)):
        given, target = sizes[-1 - i], sizes[-2 - i]
        output_padding = tuple(t - _STRIDE * g for t, g in zip(target, given))
        generator.append(nn.ConvTranspose2d(a, b, _KERNEL, _STRIDE, _PADDING, output_padding))
        if i < len(channels) - 1:
            generator.extend([nn.BatchNorm2d(b), _activation(activation)])
    generator.append(nn.Flatten())

    discriminator = nn.Sequential(nn.Unflatten(1, tuple(image_shape)))
    for a, b in zip([c_in, *reversed(channels)], reversed(channels)):
        discriminator.extend([_discriminator_layer(nn.Conv2d(a, b, _KERNEL, _STRIDE, _PADDING), spectral_norm),
                              nn.LeakyReLU(_LEAK)])
    discriminator.extend([nn.Flatten(), _discriminator_layer(nn.Linear(math.prod(smallest), 1), spectral_norm)])
    return generator, discriminator


class GANNet(nn.Module):
    """Generator and discriminator of flat rows (N, D), and the adversarial loss terms.

    Parameters
    ----------
    decoder : nn.Module
        The generator: (N, latent) noise -> (N, D) logits.
    discriminator : nn.Module
        (N, D) rows -> (N, 1) logits of "real".
    latent : int
    output_activation : {"sigmoid", "linear"}
    label_smoothing : float
        One-sided: the discriminator's target for real rows is ``1 - label_smoothing``.
    r1_penalty : float
        Weight gamma of the R1 penalty (Mescheder et al. 2018), ``gamma / 2 * E ||grad_x D(x)||^2``
        over real rows, added to the discriminator's loss while gradients are being computed.
    loss : {"non-saturating", "wgan-gp"}
        The adversarial loss: binary cross-entropy for the discriminator and softplus(-D(G(z))) for
        the generator; or the Wasserstein loss of a critic, E D(fake) - E D(real) plus
        ``GRADIENT_PENALTY`` * E (||grad D(x_hat)|| - 1)^2 on random points between real and
        generated rows (Gulrajani et al. 2017), and -E D(G(z)) for the generator.
    n_classes : int
        Above 0, a conditional GAN: the generator gets a vector per class after each batch
        normalisation (:class:`aekit.nn.conditioning.ClassShift`), the discriminator a projection of its features
        on one (:class:`aekit.nn.conditioning.ClassProjection`); generated rows take the classes of
        the real rows of their batch.
    auxiliary_weight : float
        For a conditional GAN above 0: the discriminator also classifies rows from its last features
        (an auxiliary classifier, AC-GAN), trained on the real rows (``d_class``, their cross-entropy),
        and the generator is rewarded for rows it classifies as the class asked for (``g_class``); both
        terms weigh ``auxiliary_weight`` beside the adversarial losses.
    """

    def __init__(self, decoder, discriminator, latent, output_activation="sigmoid", label_smoothing=0.0,
                 r1_penalty=0.0, loss="non-saturating", n_classes=0, auxiliary_weight=0.0):
        super().__init__()
        self.decoder = decoder
        self.discriminator = discriminator
        self.latent = latent
        self.output_activation = output_activation
        self.label_smoothing = label_smoothing
        self.r1_penalty = r1_penalty
        self.loss = loss
        self.n_classes = n_classes
        self.auxiliary_weight = auxiliary_weight if n_classes else 0.0
        # registered only when conditional: unconditional weights keep the names they were saved under
        self.condition = self.projection = None
        if n_classes:
            # after each of the generator's batch normalisations (conditional batch norm's class biases):
            # the batch statistics would wash out class vectors added before them
            positions = [i + 1 for i, m in enumerate(decoder) if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)] or [1]
            self.condition = ClassShift(n_classes, [output_width(decoder, latent, at) for at in positions], positions,
                                        std=GENERATOR_CLASS_STD)
            self.projection = ClassProjection(n_classes, discriminator[-1].in_features,
                                              auxiliary=self.auxiliary_weight > 0)
        # The random stream of the latent noise; set only while training (generators cannot be
        # pickled, and a fitted estimator must be).
        self.noise_stream = None

    @torch.no_grad()
    def init_from_data(self, X: torch.Tensor) -> None:
        """Start the generator's output biases at the data's mean (per channel for images; its logit
        for a sigmoid output), so that it does not spend its first steps finding the mean."""
        last = [m for m in self.decoder if isinstance(m, nn.Linear | nn.ConvTranspose2d)][-1]
        start_output_at_mean(last, X, self.output_activation)

    def noise(self, n: int, like: torch.Tensor) -> torch.Tensor:
        """Latent noise z ~ N(0, I), (n, latent), from the training stream, on ``like``'s device."""
        return torch.randn((n, self.latent), generator=self.noise_stream, device=like.device, dtype=like.dtype)

    @property
    def generator(self) -> nn.Module:
        """The generator network. It is kept as ``decoder``: that is its name in saved files, and what
        every aekit model decodes codes with (``inverse_transform``, ``sample``)."""
        return self.decoder

    def generator_parameters(self) -> list[nn.Parameter]:
        """What the generator's optimiser trains: the generator's weights and its class vectors."""
        return [*self.decoder.parameters(), *(() if self.condition is None else self.condition.parameters())]

    def discriminator_parameters(self) -> list[nn.Parameter]:
        """What the discriminator's optimiser trains: its weights and its class projection."""
        return [*self.discriminator.parameters(), *(() if self.projection is None else self.projection.parameters())]

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """Generated rows (N, D) in the (scaled) data space (of the classes ``y`` when conditional)."""
        logits = self.decoder(z) if self.condition is None else self.condition.run(self.decoder, z, y)
        return output_transform(logits, self.output_activation)

    def discriminate(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """The discriminator's logits (N,): log-odds that a row is real (not a likelihood); a critic's
        score for ``loss="wgan-gp"``."""
        return self.judge(x, y)[0]

    def judge(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The discriminator's logits (N,) and its auxiliary classifier's class logits (N, n_classes),
        None without one; one pass through the discriminator."""
        if self.projection is None:
            return self.discriminator(x).squeeze(1), None
        return self.projection.judge(self.discriminator, x, y)

    def add_class_terms(self, terms: dict[str, torch.Tensor], class_logits: torch.Tensor | None, n_real: int,
                        y: torch.Tensor | None, y_fake: torch.Tensor | None) -> None:
        """Add to ``terms`` the auxiliary classifier's cross-entropies over ``cat([real, fake])``:
        ``d_class`` on the real rows (what the discriminator learns from: ``auxiliary_weight`` of it
        joins ``d_loss``), ``g_class`` on the generated ones against the classes asked for (logged);
        nothing without the classifier."""
        if class_logits is None:
            return
        joint = _joint(y, y_fake)
        terms["d_class"] = F.cross_entropy(class_logits[:n_real], joint[:n_real])
        terms["g_class"] = F.cross_entropy(class_logits[n_real:].detach(), joint[n_real:])
        terms["d_loss"] = terms["d_loss"] + self.auxiliary_weight * terms["d_class"]

    def generator_objective(self, fake: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """What the generator's step minimises for generated rows ``fake`` of classes ``y``: its
        adversarial loss, plus ``auxiliary_weight`` times the auxiliary classifier's cross-entropy
        against the classes asked for."""
        logits, class_logits = self.judge(fake, y)
        loss = self.generator_loss(logits)
        if class_logits is not None:
            loss = loss + self.auxiliary_weight * F.cross_entropy(class_logits, y)
        return loss

    def adversarial_terms(self, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None = None,
                          y_fake: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Discriminator and generator losses and accuracies on one batch of each (one forward pass).

        ``d_loss`` = BCE(D(real), 1 - smoothing) + BCE(D(fake), 0), plus the R1 penalty when it has
        a weight and gradients are on (training); ``g_loss`` = softplus(-D(fake)), the
        non-saturating generator loss; ``d_acc_real`` / ``d_acc_fake`` are the fractions of real /
        generated rows the discriminator classifies correctly (logit above / below 0); ``r1`` (with
        the penalty) is E ||grad_x D(x)||^2 over the real rows, before its weight. ``y`` and
        ``y_fake`` (default ``y``): the classes of the real and the generated rows, for a conditional
        network. With ``loss="wgan-gp"`` see :meth:`wasserstein_terms`.
        """
        if self.loss == "wgan-gp":
            return self.wasserstein_terms(real, fake, y, y_fake)
        penalised = self.r1_penalty > 0 and torch.is_grad_enabled()
        if penalised:
            real = real.detach().requires_grad_(True)
        logits, class_logits = self.judge(torch.cat([real, fake]), _joint(y, y_fake))
        real_logits, fake_logits = logits[:len(real)], logits[len(real):]
        real_target = torch.full_like(real_logits, 1.0 - self.label_smoothing)
        d_loss = (F.binary_cross_entropy_with_logits(real_logits, real_target)
                  + F.softplus(fake_logits).mean())  # BCE with target 0
        terms = {
            "d_loss": d_loss,
            "g_loss": self.generator_loss(fake_logits.detach()),
            "d_acc_real": (real_logits > 0).float().mean(),
            "d_acc_fake": (fake_logits < 0).float().mean(),
        }
        self.add_class_terms(terms, class_logits, len(real), y, y_fake)
        if penalised:
            # a graph of the gradient itself, so that the penalty trains the discriminator
            (slope,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
            r1 = slope.float().pow(2).flatten(1).sum(1).mean()
            terms["d_loss"] = terms["d_loss"] + self.r1_penalty / 2 * r1
            terms["r1"] = r1
        return terms

    def wasserstein_terms(self, real: torch.Tensor, fake: torch.Tensor, y: torch.Tensor | None = None,
                          y_fake: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """WGAN-GP's terms: ``d_loss`` = E D(fake) - E D(real) + ``GRADIENT_PENALTY`` * ``gp`` (while
        gradients are being computed), ``gp`` = E (||grad D(x_hat)|| - 1)^2 at x_hat uniformly
        between a real and a generated row; ``g_loss`` = -E D(fake); ``wasserstein`` = E D(real) -
        E D(fake), the critic's estimate of the distance; the accuracies as for the other loss."""
        logits, class_logits = self.judge(torch.cat([real, fake]), _joint(y, y_fake))
        real_logits, fake_logits = logits[:len(real)], logits[len(real):]
        distance = real_logits.mean() - fake_logits.mean()
        terms = {"d_loss": -distance, "g_loss": self.generator_loss(fake_logits.detach()),
                 "d_acc_real": (real_logits > 0).float().mean(), "d_acc_fake": (fake_logits < 0).float().mean(),
                 "wasserstein": distance.detach()}
        self.add_class_terms(terms, class_logits, len(real), y, y_fake)
        if torch.is_grad_enabled():
            share = torch.rand((len(real), 1), generator=self.noise_stream, device=real.device, dtype=real.dtype)
            between = (share * real.detach() + (1 - share) * fake.detach()[:len(real)]).requires_grad_(True)
            (slope,) = torch.autograd.grad(self.discriminate(between, y).sum(), between, create_graph=True)
            gp = (slope.float().flatten(1).norm(dim=1) - 1).pow(2).mean()
            terms["d_loss"] = terms["d_loss"] + GRADIENT_PENALTY * gp
            terms["gp"] = gp
        return terms

    def generator_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """The generator's loss, batch mean: non-saturating -log D(G(z)) = softplus(-logit), or the
        Wasserstein -D(G(z))."""
        if self.loss == "wgan-gp":
            return -fake_logits.mean()
        return F.softplus(-fake_logits).mean()

    def loss_terms(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The adversarial terms of ``x`` against as many fresh generated rows (validation)."""
        return self.adversarial_terms(x, self.decode(self.noise(len(x), x), y), y)


def _joint(y, y_fake):
    """The classes of ``torch.cat([real, fake])``, or None for an unconditional network."""
    return None if y is None else torch.cat([y, y if y_fake is None else y_fake])
