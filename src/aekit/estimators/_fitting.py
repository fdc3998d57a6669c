"""Pieces of ``fit`` that do not depend on the family: the image shape, the validation split, the
training loop's standard callbacks (with TensorBoard's and the rows it watches), and the check that a
checkpoint belongs to the run that resumes it."""

import math
import os

import numpy as np
import torch

from .. import saving
from ..datasets.stream import RowStream
from ..training import Checkpoint, EarlyStopping, GradientClipping, LearningRateSchedule, Progress, distributed
from ..training.loop import as_pair
from ..training.tensorboard import PICTURE_EVERY, TensorBoard, square_image_shape

# Parameters that may differ between a checkpoint and the run that resumes it.
RESUMABLE_CHANGES = {"epochs", "verbose", "checkpoint_dir", "checkpoint_every", "device", "early_stopping",
                     "compile", "log_every"}
# Rows of a stream read into memory to validate on, and to initialise a model from (the corruption's
# range, output biases at the mean): enough for stable statistics, small next to the data.
HELD_ROWS = 10_000
# Rows of the validation (else training) split that TensorBoard pictures and projects.
WATCHED_ROWS = 500


def resolve_image_shape(image_shape: tuple | None, arch: str, n_features: int) -> tuple[int, int, int] | None:
    """The (C, H, W) of a row: ``image_shape`` as given (checked against ``n_features``), or for
    a convolutional ``arch`` a square grey image; None for an MLP without one."""
    if image_shape is not None:
        shape = tuple(int(s) for s in image_shape)
        if math.prod(shape) != n_features:
            raise ValueError(f"image_shape={shape} has {math.prod(shape)} values but the data has "
                             f"{n_features} features")
        return shape
    side = math.isqrt(n_features)
    if arch != "mlp":
        if side * side != n_features:
            raise ValueError(f"arch={arch!r} needs image_shape=(C, H, W) for {n_features} features "
                             "(they are not a square single-channel image)")
        return (1, side, side)
    return None


def split_rows(X: np.ndarray, validation_fraction: float, seed: int,
               device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(train, validation or None)`` tensors on ``device``; a seeded permutation picks the validation rows."""
    # torch shares the array's memory; a read-only input (a memmap, say) is copied first
    X_train, X_val = torch.from_numpy(X if X.flags.writeable else X.copy()).to(device), None
    split = validation_indices(len(X), validation_fraction, seed)
    if split is not None:
        train, val = (torch.from_numpy(indices).to(device) for indices in split)
        X_train, X_val = X_train[train], X_train[val]
    return X_train, X_val


def validation_indices(n_rows: int, validation_fraction: float, seed: int) -> tuple | None:
    """``(training indices, validation indices)`` of a seeded permutation of ``n_rows``, or None when
    the fraction holds out no row (or every row): the one split of rows and of their labels."""
    n_val = int(n_rows * validation_fraction)
    if not 0 < n_val < n_rows:
        return None
    order = np.random.RandomState(seed).permutation(n_rows)
    return order[n_val:], order[:n_val]


def split_labels(labels: np.ndarray, validation_fraction: float, seed: int,
                 device: torch.device | None = None) -> tuple:
    """``(train, validation or None)`` of one label per row, split as :func:`split_rows` splits the
    rows: tensors on ``device``, or numpy arrays when ``device`` is None."""
    train, val = labels, None
    split = validation_indices(len(labels), validation_fraction, seed)
    if split is not None:
        train, val = labels[split[0]], labels[split[1]]
    if device is None:
        return train, val
    return torch.from_numpy(train).to(device), None if val is None else torch.from_numpy(val).to(device)


def watch(callbacks: list, X_train, X_val, y, validation_fraction: float, seed: int) -> None:
    """Give the TensorBoard callbacks among ``callbacks`` up to ``WATCHED_ROWS`` rows of the validation
    split (else of the training rows, when they are in memory) to picture and project, with their
    labels from ``y`` when it has one per row."""
    loggers = [cb for cb in callbacks if isinstance(cb, TensorBoard)]
    held = X_val if X_val is not None else X_train
    if not loggers or not isinstance(held, torch.Tensor | tuple):
        return
    rows, targets = as_pair(held)
    n_rows = len(rows) + (0 if X_val is None else len(as_pair(X_train)[0]))
    labels = None
    if y is not None and isinstance(X_train, torch.Tensor | tuple) and len(np.asarray(y)) == n_rows:
        train_labels, val_labels = split_labels(np.asarray(y), validation_fraction, seed)
        labels = (train_labels if X_val is None else val_labels)[:WATCHED_ROWS]
    for logger in loggers:
        logger.watch(rows[:WATCHED_ROWS], None if targets is None else targets[:WATCHED_ROWS], labels)


def split_stream(stream: RowStream, validation_fraction: float, seed: int,
                 device: torch.device) -> tuple[RowStream, torch.Tensor | None, torch.Tensor]:
    """``(train stream, validation tensor or None, sample tensor)``: validation and sample rows (at most
    ``HELD_ROWS`` each) are read into memory on ``device``, in contiguous pieces at seeded places."""
    n_val = min(int(len(stream) * validation_fraction), HELD_ROWS)
    X_train, X_val = stream, None
    if 0 < n_val < len(stream):
        held, X_train = stream.split(n_val, seed)
        X_val = torch.from_numpy(held.read()).to(device)
    sample = X_train.split(HELD_ROWS, seed)[0].read()
    return X_train, X_val, torch.from_numpy(sample).to(device)


def standard_callbacks(estimator, resume: bool, checkpoint: bool | str = True) -> list:
    """The callbacks that the parameters every estimator shares ask for: checkpoints, learning-rate
    schedule, early stopping, gradient clipping, progress, TensorBoard (``log_dir``, in process 0).
    ``checkpoint``: False for none; True for checkpoints in ``checkpoint_dir`` (when set); the name of
    a folder inside it for one phase of several, whose name then prefixes TensorBoard's tags."""
    e = estimator
    callbacks = []
    if checkpoint and e.checkpoint_dir is not None:
        params = saving.params_to_json(e)
        folder = e.checkpoint_dir if checkpoint is True else os.path.join(e.checkpoint_dir, checkpoint)
        saver = Checkpoint(folder, e.checkpoint_every, resume, meta={"params": params},
                           check_meta=lambda meta: check_resumable(e, meta["params"], params))
        callbacks.append(distributed.SharedCheckpoint(saver) if distributed.world_size() > 1 else saver)
    if e.lr_schedule is not None:
        callbacks.append(LearningRateSchedule(e.lr_schedule))
    if e.early_stopping is not None:
        callbacks.append(EarlyStopping(e.early_stopping))
    if e.clip_grad_norm is not None:
        callbacks.append(GradientClipping(e.clip_grad_norm))
    if e.verbose and distributed.rank() == 0:
        callbacks.append(Progress(type(e).__name__))
    if getattr(e, "log_dir", None) is not None and distributed.rank() == 0:
        n_features = getattr(e, "n_features_in_", 0)
        image_shape = getattr(e, "image_shape_", None) or square_image_shape(n_features)
        callbacks.append(TensorBoard(e.log_dir, checkpoint if isinstance(checkpoint, str) else None,
                                     every=getattr(e, "log_every", PICTURE_EVERY), image_shape=image_shape,
                                     latent=e.latent if hasattr(e, "sample") else None))
    return callbacks


def in_phase(callbacks: list, phase: str) -> list:
    """``callbacks``, their TensorBoard logger's tags prefixed by ``phase`` (a greedy layer's, say)."""
    for callback in callbacks:
        if isinstance(callback, TensorBoard):
            callback.prefix = f"{phase}/"
    return callbacks


def check_resumable(estimator, saved: dict, current: dict) -> None:
    """Raise ValueError naming the parameters (but those of ``RESUMABLE_CHANGES``) that differ between
    a checkpoint (``saved``) and the run that resumes it (``current``). A parameter the checkpoint does
    not name (added to aekit after it was written) had its default value then."""
    saved = {**saving.params_to_json(type(estimator)()), **saved}
    changed = sorted(k for k in set(saved) | set(current)
                     if k not in RESUMABLE_CHANGES and saved.get(k) != current.get(k))
    if changed:
        raise ValueError(f"the checkpoint in {estimator.checkpoint_dir} was made with different parameters ("
                         + ", ".join(f"{k}: {saved.get(k)!r} there, {current.get(k)!r} now" for k in changed)
                         + "); use another checkpoint_dir or the same parameters")
