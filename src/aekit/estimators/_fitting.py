"""Pieces of ``fit`` that do not depend on the family: the validation split, the training loop's
standard callbacks, and the check that a checkpoint belongs to the run that resumes it."""

import os

import numpy as np
import torch

from .. import saving
from ..datasets.stream import RowStream
from ..training import Checkpoint, EarlyStopping, GradientClipping, LearningRateSchedule, Progress, distributed

# Parameters that may differ between a checkpoint and the run that resumes it.
RESUMABLE_CHANGES = {"epochs", "verbose", "checkpoint_dir", "checkpoint_every", "device", "early_stopping",
                     "compile"}
# Rows of a stream read into memory to validate on, and to initialise a model from (the corruption's
# range, output biases at the mean): enough for stable statistics, small next to the data.
HELD_ROWS = 10_000


def split_rows(X: np.ndarray, validation_fraction: float, seed: int,
               device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(train, validation or None)`` tensors on ``device``; a seeded permutation picks the validation rows."""
    n_val = int(len(X) * validation_fraction)
    # torch shares the array's memory; a read-only input (a memmap, say) is copied first
    X_train, X_val = torch.from_numpy(X if X.flags.writeable else X.copy()).to(device), None
    if 0 < n_val < len(X):
        order = torch.from_numpy(np.random.RandomState(seed).permutation(len(X))).to(device)
        X_train, X_val = X_train[order[n_val:]], X_train[order[:n_val]]
    return X_train, X_val


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
    schedule, early stopping, gradient clipping, progress. ``checkpoint``: False for none; True for
    checkpoints in ``checkpoint_dir`` (when set); the name of a folder inside it for one phase of several."""
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
