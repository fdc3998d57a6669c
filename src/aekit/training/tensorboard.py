"""A callback that writes the training to TensorBoard event files (``log_dir`` on every estimator).

Per epoch: every term of the record (``train/<term>``, ``validation/<term>`` for ``val_*``), the
learning rate of each optimiser (``lr/<name>``) and the epoch's seconds; a phase of several (greedy
layers, a classifier's phases) prefixes its tags (``layer 1/train/loss``). With watched rows that
are images: every ``every`` epochs (and the first and last) the rows beside their reconstructions and
a grid of samples of a generative model; at the end of training the codes of the watched rows for the
embedding projector, with their labels and the rows as sprites.

TensorBoard is an optional dependency (``pip install 'aekit[tensorboard]'``).
"""

import math

import numpy as np
import torch

# Rows shown as reconstructions and samples drawn, per picture.
PICTURE_ROWS = 16
# Epochs between pictures unless the estimator's ``log_every`` says otherwise.
PICTURE_EVERY = 5
# Seed of the latent points of the sample pictures: the same points every epoch.
_SAMPLE_SEED = 20161206


def summary_writer_class() -> type:
    """``torch.utils.tensorboard.SummaryWriter``.

    Raises ModuleNotFoundError naming the extra to install when tensorboard is missing."""
    # tensorboard is a heavy optional dependency (aekit[tensorboard]): imported only when logging
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ModuleNotFoundError:
        raise ModuleNotFoundError("log_dir writes TensorBoard event files, which needs the optional package "
                                  "tensorboard: pip install 'aekit[tensorboard]'") from None
    return SummaryWriter


def as_images(rows: torch.Tensor, image_shape: tuple[int, int, int], low: float, high: float) -> np.ndarray:
    """Flat rows (N, C*H*W) as images (N, C, H, W) in [0, 1]: ``low`` and ``high`` map to 0 and 1."""
    scaled = (rows.detach().float().cpu().numpy() - low) / (high - low if high > low else 1.0)
    return np.clip(scaled, 0, 1).reshape(len(rows), *image_shape)


class TensorBoard:
    """Writes every epoch's record, the learning rates, pictures and a projector of codes to ``log_dir``.

    Parameters
    ----------
    log_dir : str
        The folder of the event files (TensorBoard's ``--logdir``).
    phase : str, optional
        Prefix of every tag, for one phase of a training in several.
    every : int, default=5
        Pictures every ``every`` epochs, and after the first and the last.
    image_shape : (C, H, W), optional
        The shape of a row as an image; None: no pictures, no sprites.
    latent : int, optional
        For a generative model, the size of the z ~ N(0, I) that its ``decode`` turns into rows:
        pictures of samples beside the reconstructions.

    Example
    -------
    >>> logger = TensorBoard("runs/ae", image_shape=(1, 28, 28))  # doctest: +SKIP
    >>> logger.watch(X_val[:500], labels)  # doctest: +SKIP
    >>> Trainer(net, optimizers, epochs=10, batch_size=128, generators=g, callbacks=[logger])  # doctest: +SKIP
    """

    def __init__(self, log_dir: str, phase: str | None = None, every: int = PICTURE_EVERY,
                 image_shape: tuple[int, int, int] | None = None, latent: int | None = None):
        self.log_dir = log_dir
        self.prefix = f"{phase}/" if phase else ""
        self.every = every
        self.image_shape = tuple(image_shape) if image_shape is not None else None
        self.latent = latent
        self.writer = None
        self.rows, self.targets, self.labels = None, None, None
        # fails here, before any training, without tensorboard
        self._writer_class = summary_writer_class()

    def watch(self, rows: torch.Tensor, targets: torch.Tensor | None = None, labels=None) -> None:
        """Rows (scaled, on the model's device) to picture and project; ``targets``: their class
        indices for a conditional model; ``labels``: what the projector shows for each row."""
        self.rows, self.targets = rows, targets
        self.labels = None if labels is None else [str(label) for label in labels]

    # ---- the hooks of the training loop ---------------------------------------------------------
    def on_train_begin(self, trainer) -> None:
        self.writer = self._writer_class(self.log_dir)

    def on_epoch_end(self, trainer, record: dict) -> None:
        step = record["epoch"]
        for key, value in record.items():
            if key == "epoch" or not isinstance(value, int | float):
                continue
            if key == "time":
                tag = "time/epoch_seconds"
            elif key.startswith("val_"):
                tag = f"validation/{key[4:]}"
            else:
                tag = f"train/{key}"
            self.writer.add_scalar(self.prefix + tag, value, step)
        for name, optimizer in trainer.optimizers.items():
            self.writer.add_scalar(f"{self.prefix}lr/{name}", optimizer.param_groups[0]["lr"], step)
        if step == 1 or step % self.every == 0 or step == trainer.epochs:
            self._pictures(trainer.model, step)
        self.writer.flush()

    def on_train_end(self, trainer) -> None:
        if self.writer is None:
            return
        self._projector(trainer.model, trainer.epoch)
        self.writer.close()
        self.writer = None

    # ---- pictures and projector -----------------------------------------------------------------
    def _conditioned(self, model, n):
        """Class indices for ``n`` generated rows of a conditional model (each class in turn), or None."""
        classes = getattr(model, "n_classes", 0)
        device = next(model.parameters()).device
        return torch.arange(n, device=device) % classes if classes else None

    @torch.no_grad()
    def _pictures(self, model, step):
        if self.image_shape is None or self.rows is None or not len(self.rows):
            return
        was_training = model.training
        model.eval()
        rows = self.rows[:PICTURE_ROWS]
        targets = None if self.targets is None else self.targets[:PICTURE_ROWS]
        low, high = float(self.rows.min()), float(self.rows.max())
        if hasattr(model, "encode"):
            decoded = model.decode(model.encode(rows), targets)
            pairs = torch.stack([rows, decoded], 1).flatten(0, 1)  # each row above its reconstruction
            self.writer.add_images(f"{self.prefix}reconstructions", as_images(pairs, self.image_shape, low, high),
                                   step)
        if self.latent:
            generator = torch.Generator().manual_seed(_SAMPLE_SEED)
            z = torch.randn((PICTURE_ROWS, self.latent), generator=generator).to(rows.device)
            drawn = model.decode(z, self._conditioned(model, PICTURE_ROWS))
            self.writer.add_images(f"{self.prefix}samples", as_images(drawn, self.image_shape, low, high), step)
        model.train(was_training)

    @torch.no_grad()
    def _projector(self, model, step):
        if self.rows is None or not len(self.rows) or not hasattr(model, "encode"):
            return
        was_training = model.training
        model.eval()
        codes = model.encode(self.rows)
        model.train(was_training)
        sprites = None
        if self.image_shape is not None:
            sprites = torch.from_numpy(as_images(self.rows, self.image_shape, float(self.rows.min()),
                                                 float(self.rows.max())))
        self.writer.add_embedding(codes.float().cpu(), metadata=self.labels, label_img=sprites, global_step=step,
                                  tag=f"{self.prefix}codes".replace(" ", "_").replace("/", "_"))


def square_image_shape(n_features: int) -> tuple[int, int, int] | None:
    """(1, s, s) when ``n_features`` is a square of at least 8 x 8 (grey images given as bare rows)."""
    side = math.isqrt(n_features)
    return (1, side, side) if side * side == n_features and side >= 8 else None
