"""The basic autoencoder: under- or overcomplete, MLP or convolutional, tied or free decoder."""

from ..losses import OUTPUT_ACTIVATIONS, RECONSTRUCTION_LOSSES
from ..nn import ACTIVATIONS, AutoencoderNet, BinaryBottleneck, DeterministicBottleneck, make_activation
from ..registry import register
from ..training import OPTIMIZERS
from ..training.linear import solve_linear_autoencoder
from . import _params as p
from ._base import BaseAutoencoder
from ._penalized import PENALTY_PARAMS, PenalizedMixin


@register("ae")
class Autoencoder(PenalizedMixin, BaseAutoencoder):
    """A deterministic autoencoder trained to reconstruct its input.

    Parameters
    ----------
    hidden : tuple of int, optional
        Widths of the encoder's hidden layers (channel counts for ``arch="conv"``); the decoder
        mirrors them. Default (512, 256) for MLPs, (32, 64) for conv.
    latent : int, default=16
        Code size. Larger than the input makes an overcomplete autoencoder.
    activation : str, default="relu"
        Hidden-layer activation: relu, leaky_relu, elu, selu, gelu, softplus, sigmoid, tanh, linear.
    code_activation : str, default="auto"
        Activation of the code units: one of the hidden activations, or "binary": bits, each unit's
        batch-normalised input above 0, trained with straight-through gradients (codes for Hamming
        search; see :class:`SemanticHashingAutoencoder`). "auto": sigmoid for
        ``sparsity="kl"``/``"squared"`` and for contraction, ReLU for ``sparsity="l1"``, else linear.
    output_activation : {"sigmoid", "linear"}, default="sigmoid"
    loss : {"mse", "bce"}, default="mse"
        Per-example squared error or binary cross-entropy, summed over features.
    tied : bool, default=False
        Decoder weights are the transposed encoder weights (shared parameters), with own biases.
    arch : {"mlp", "conv", "conv-pool"}, default="mlp"
        "conv": 3x3 convolutions of stride 2; "conv-pool": 3x3 convolutions of stride 1, each followed
        by a 2x2 max-pool (decoded by upsampling and convolutions; not with ``tied=True``).
    image_shape : tuple (C, H, W), optional
        Shape of each row as an image; needed by ``arch="conv"`` unless rows are square grey images.
    scale : {"minmax", "standard", "auto", None}, default="minmax"
        Per-feature scaling fitted in ``fit``, applied to new data and undone by ``inverse_transform``.
        "auto": none when every training value lies in [0, 1], else "minmax" (``scaler_.kind_``
        records the choice).
    noise : {None, "gaussian", "masking", "salt_and_pepper"}, default=None
        Corrupt training inputs (fresh for every batch) and learn to reconstruct the clean ones:
        a denoising autoencoder. Gaussian noise is clipped to ``noise_range``; salt-and-pepper sets
        components to its ends.
    noise_level : float, default=0.3
        Standard deviation (gaussian) or fraction of components (masking, salt_and_pepper), in
        scaled units.
    noise_range : (low, high), optional
        The data's valid range in the original units, the same for every feature (e.g. (0, 1) for
        intensities). Default: the training data's overall minimum and maximum, so that a feature
        that is constant in training (a blank border pixel) still gets noise.
    sparsity : {None, "l1", "kl", "squared"}, default=None
        Penalty on the code: L1 of the activations, or KL / squared distance between each unit's
        batch-mean activation and ``sparsity_target``.
    sparsity_weight : float, optional
        Weight of the sparsity term (default 0.02 for l1, 3 for kl, 10 for squared).
    sparsity_target : float, default=0.05
    contractive_weight : float, default=0.0
        Weight of the squared Frobenius norm of the encoder Jacobian (a contractive autoencoder).
        One-layer MLP encoders use the closed form; deeper ones ``contractive_estimator``.
    contractive_estimator : {"exact", "projections"}, default="exact"
        Exact (one batched backward pass over the code units) or an unbiased estimate from
        ``contractive_projections`` random directions (for large codes).
    contractive_projections : int, default=8
    pretrain : {None, "greedy", "phases"}, default=None
        Greedy layer-wise pre-training (MLP only) before ``epochs`` of end-to-end fine-tuning:
        phase k trains layer k as a one-hidden-layer autoencoder of the codes of the layers below
        (with the same noise and penalties), cached once (``"greedy"``) or recomputed through the
        frozen layers every batch (``"phases"``). ``history_`` records carry a ``"phase"``.
    pretrain_epochs : int, default=10
        Epochs of each pre-training phase.
    epochs : int, default=20
    batch_size : int, default=128
    lr : float, default=1e-3
    lr_schedule : {None, "cosine", "linear"}, default=None
        The learning rate over the epochs (set at the start of each): constant, or falling from
        ``lr`` towards 0 in the last epoch along half a cosine or a straight line. A run resumed with
        more ``epochs`` goes on along the schedule of the new length.
    optimizer : {"adam", "adamw", "sgd", "rmsprop", "als"}, default="adam"
        "als": alternating least squares, for a linear autoencoder only (``hidden=()``, linear code
        and output, squared error, no noise or penalties, untied): each epoch sets the encoder to
        the decoder's pseudo-inverse and refits the decoder by least squares, in float64, until the
        decoder's span stops turning or ``epochs`` steps. It converges to PCA's subspace where
        gradient steps stall (to under 0.001 degree on the MNIST digits, in 112 steps; see
        bench/linear_pca.py); the span turns by a factor lambda_{k+1} / lambda_k of PCA's
        eigenvalues per step, so give close eigenvalues a few hundred epochs. Rows held in memory.
    weight_decay : float, default=0.0
    clip_grad_norm : float, optional
        Clip the global gradient norm to this value.
    validation_fraction : float, default=0.1
        Fraction of rows held out (seeded) to report ``val_*`` losses and drive early stopping.
    early_stopping : int, optional
        Stop after this many epochs without improvement of the validation (else training) loss.
    checkpoint_dir : str, optional
        Folder for a checkpoint written every ``checkpoint_every`` epochs; ``fit(X, resume=True)``
        continues from it.
    checkpoint_every : int, default=1
    log_dir : str, optional
        Write TensorBoard event files into this folder (``tensorboard --logdir DIR``; needs
        ``pip install 'aekit[tensorboard]'``): every term of each epoch's record, training and
        validation (tags ``train/...``, ``validation/...``, prefixed by the phase of a greedy layer),
        the learning rate, and for rows that are images (``image_shape``, or a square of at least
        8 x 8 pixels) validation rows beside their reconstructions (and samples of a generative
        model) every ``log_every`` epochs; at the end, the codes of up to 500 validation rows for the embedding
        projector, labelled by ``y`` when ``fit`` is given one, with the rows as sprites. Under
        ``torchrun`` only the first process writes.
    log_every : int, default=5
        Epochs between the pictures of ``log_dir`` (also drawn after the first and the last epoch).
    random_state : int, optional
        Seed for initialisation, shuffling and the validation split; same seed, same model on CPU.
    device : str, default="auto"
        "auto", "cpu", "cuda", "cuda:N" or "mps".
    precision : {"32", "bf16-mixed", "16-mixed"}, default="32"
        Mixed precision: forward passes under ``torch.autocast`` in bfloat16 or float16 (with a
        gradient scaler); weights, optimiser state and losses stay float32. Pays on hardware with fast
        bfloat16/float16 matrix units (recent GPUs, CPUs with AMX); on other CPUs it is slower.
    compile : bool, default=False
        Train through ``torch.compile`` (tens of seconds of compilation before the first step).
    verbose : bool or int, default=False
        Above 0 (or True): show a progress bar with the losses.

    Attributes
    ----------
    model_ : AutoencoderNet
    history_ : list of dict
        One dict per epoch: ``loss`` and each loss term, ``val_*`` on held-out rows, ``time``.
    scaler_ : Scaler
    n_parameters_ : int
        Trainable parameters (tied weights count once).
    n_features_in_ : int

    Example
    -------
    >>> from aekit import Autoencoder
    >>> from aekit.datasets import load
    >>> digits = load("digits")
    >>> ae = Autoencoder(hidden=(64,), latent=8, epochs=5, random_state=0).fit(digits.data)
    >>> ae.transform(digits.data[:3]).shape
    (3, 8)
    """

    def __init__(self, hidden=None, latent=16, *, activation="relu", code_activation="auto",
                 output_activation="sigmoid", loss="mse", tied=False, arch="mlp", image_shape=None,
                 scale="minmax", noise=None, noise_level=0.3, noise_range=None, sparsity=None, sparsity_weight=None,
                 sparsity_target=0.05, contractive_weight=0.0, contractive_estimator="exact",
                 contractive_projections=8, pretrain=None, pretrain_epochs=10, epochs=20, batch_size=128, lr=1e-3,
                 lr_schedule=None, optimizer="adam", weight_decay=0.0, clip_grad_norm=None, validation_fraction=0.1,
                 early_stopping=None, checkpoint_dir=None,
                 checkpoint_every=1, log_dir=None, log_every=5, random_state=None, device="auto", precision="32",
                 compile=False, verbose=False):
        p.store(self, locals())

    _param_table = {
        **BaseAutoencoder._param_table,
        "code_activation": p.one_of("auto", "binary", *ACTIVATIONS),
        "output_activation": p.one_of(*OUTPUT_ACTIVATIONS),
        "loss": p.one_of(*RECONSTRUCTION_LOSSES),
        "tied": p.one_of(True, False),
        "optimizer": p.one_of(*OPTIMIZERS, "als"),
        **PENALTY_PARAMS,
        "pretrain": p.one_of(None, "greedy", "phases"),
        "pretrain_epochs": p.integer(0),
    }

    def _check_family(self):
        if self.loss == "bce" and self._output_activation() != "sigmoid":
            raise ValueError(f"{type(self).__name__}: loss='bce' needs output_activation='sigmoid'")
        if self.pretrain is not None and self.arch != "mlp":
            raise ValueError(f"{type(self).__name__}: pretrain={self.pretrain!r} needs arch='mlp'")
        if self.tied and self.arch == "conv-pool":
            raise ValueError(f"{type(self).__name__}: tied=True needs arch='mlp' or 'conv' (a max-pool has no "
                             "transpose to share weights with)")
        if self.optimizer == "als":
            self._check_linear()
        if self.code_activation == "binary" and self.contractive_weight > 0:
            raise ValueError(f"{type(self).__name__}: code_activation='binary' has no Jacobian to penalise; "
                             "use contractive_weight=0")

    def _check_linear(self):
        """optimizer='als' solves a linear autoencoder with a squared-error loss, and nothing else."""
        not_linear = {"hidden": self.arch != "mlp" or self._hidden() != (),
                      "code_activation": self._code_activation() != "linear",
                      "output_activation": self.output_activation != "linear", "loss": self.loss != "mse",
                      "noise": self.noise is not None, "sparsity": self.sparsity is not None,
                      "contractive_weight": self.contractive_weight > 0, "tied": self.tied,
                      "pretrain": self.pretrain is not None}
        wrong = [name for name, is_wrong in not_linear.items() if is_wrong]
        if wrong:
            raise ValueError(f"{type(self).__name__}: optimizer='als' solves a linear autoencoder (hidden=(), "
                             "code_activation='linear', output_activation='linear', loss='mse', no noise, "
                             f"penalties, tying or pre-training); these parameters differ: {', '.join(wrong)}")

    def _optimizers(self, model):
        return {} if self.optimizer == "als" else super()._optimizers(model)

    def _solve(self, X_train, X_val):
        if self.optimizer != "als":
            return None
        return solve_linear_autoencoder(self.model_.encoder[0], self.model_.decoder[0], X_train, X_val,
                                        self.epochs)

    def _check_stream(self, stream):
        if self.optimizer == "als":
            raise ValueError(f"{type(self).__name__}: optimizer='als' solves with the rows in memory; it cannot "
                             f"train on {stream}")
        super()._check_stream(stream)

    def _unit_interval_reason(self):
        return "loss='bce'" if self.loss == "bce" else None

    def _score_meaning(self):
        return f"reconstruction_loss ({self.loss}, per example)"

    def _pretrain_mode(self):
        return self.pretrain

    def _code_activation(self):
        """``"auto"`` picks what the penalties' theory needs: units in (0, 1) for target sparsity and
        contraction, ReLU (exact zeros) for L1, else a linear code."""
        if self.code_activation != "auto":
            return self.code_activation
        if self.sparsity in ("kl", "squared") or self.contractive_weight > 0:
            return "sigmoid"
        return "relu" if self.sparsity == "l1" else "linear"

    def _output_activation(self):
        """The output activation the network gets (a family may resolve an "auto" of its own)."""
        return self.output_activation

    def _bottleneck(self):
        """Bits for ``code_activation="binary"``, else the code activation."""
        if self._code_activation() == "binary":
            return BinaryBottleneck(self.latent)
        return DeterministicBottleneck(make_activation(self._code_activation()), self.latent)

    def _build_net(self, n_features, image_shape):
        """The network for ``n_features`` inputs, with the bottleneck, corruption and penalties asked for."""
        bottleneck = self._bottleneck()
        encoder, decoder = self._encoder_decoder(n_features, image_shape, bottleneck, self.tied)
        return AutoencoderNet(encoder, bottleneck, decoder, self.loss, self._output_activation(),
                              self._corruption(n_features), self._penalties())

    def _loss_weights(self):
        """Weights of the named loss terms (reconstruction counts once)."""
        return self._penalty_weights()
