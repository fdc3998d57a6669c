"""The one training loop: epochs of mini-batches sliced from in-memory tensors.

Everything that varies between models is supplied: the model's ``loss_terms`` (or a whole ``step``
for schedules such as adversarial training), the optimisers, and callbacks for early stopping,
checkpoints, gradient clipping and progress. The hot path does no host synchronisation: per-batch
losses are summed on the device and read once per epoch.
"""

import math
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext

import torch
from torch import nn

from ..datasets.stream import RowStream
from ..losses import total_loss
from .distributed import DataParallel, world_size

# What a step returns and the loop logs: named loss terms (0-dimensional tensors).
Terms = dict[str, torch.Tensor]
# A batch: inputs and targets (None for data without them).
Batch = tuple[torch.Tensor, torch.Tensor | None]
# What ``fit`` and ``evaluate`` take: inputs, or (inputs, targets); ``fit`` also rows on disk.
Data = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


class TrainingDivergedError(FloatingPointError):
    """A loss became NaN or infinite; the weights of the last good epoch were kept."""


class Trainer:
    """Trains ``model`` on tensors with a fresh permutation of the rows every epoch.

    Parameters
    ----------
    model : nn.Module
        Has ``loss_terms(inputs) -> dict[str, Tensor]`` (batch means), or ``loss_terms(inputs, targets)``
        when the data carries targets, unless ``step`` is given.
    optimizers : dict[str, torch.optim.Optimizer]
        The default step uses the single optimiser it is given.
    epochs : int
    batch_size : int
        Rows per step and process. Processes training together (``torchrun``, see
        :mod:`aekit.training.distributed`) slice global batches of ``processes x batch_size`` rows, each
        taking its share; the attribute ``batch_size`` holds that global size.
    generators : dict[str, torch.Generator]
        Every random stream of training (``"shuffle"`` at least); saved in checkpoints.
    callbacks : sequence
        Objects with any of ``on_train_begin(trainer)``, ``on_epoch_begin(trainer)``,
        ``on_epoch_end(trainer, record)``,
        ``on_train_end(trainer)``, ``on_after_backward(model)``.
    loss_weights : dict[str, float], optional
        Weights of the named loss terms in the total.
    step : callable, optional
        ``step(trainer, (inputs, targets)) -> dict`` of detached-or-not terms including ``"loss"``
        (``targets`` is None for data without them). A step computes
        its forward passes inside ``trainer.autocast()`` and its gradients with ``trainer.backward``.
    precision : {"32", "bf16-mixed", "16-mixed"}
        Mixed precision runs the forward passes under ``torch.autocast``; weights, optimiser state and
        the loss sums stay float32. ``"16-mixed"`` scales the loss (a gradient scaler) so that small
        float16 gradients do not underflow.
    compile : bool
        Train through ``torch.compile(model.loss_terms)`` (the default step only).

    Example
    -------
    >>> trainer = Trainer(net, {"main": opt}, epochs=5, batch_size=128,  # doctest: +SKIP
    ...                   generators={"shuffle": torch.Generator().manual_seed(0)})
    >>> history = trainer.fit(X_train, X_val)  # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, optimizers: dict[str, torch.optim.Optimizer], *, epochs: int,
                 batch_size: int, generators: dict[str, torch.Generator], callbacks: Iterable = (),
                 loss_weights: dict[str, float] | None = None,
                 step: Callable[["Trainer", Batch], Terms] | None = None, precision: str = "32",
                 compile: bool = False):
        self.model = model
        self.optimizers = optimizers
        self.epochs = epochs
        processes = world_size()
        if processes > 1 and precision == "16-mixed":
            raise ValueError("precision='16-mixed' cannot train on several processes (each one's gradient scaler "
                             "would skip overflowing steps on its own); use precision='bf16-mixed'")
        self.batch_size = batch_size * processes
        self.generators = generators
        self.callbacks = list(callbacks)
        # first: gradients are averaged before any other hook (clipping) sees them, and every rank's
        # record is rank 0's before any other callback reads it
        self._data_parallel = DataParallel(model) if processes > 1 else None
        if self._data_parallel is not None:
            self.callbacks.insert(0, self._data_parallel)
        self.loss_weights = loss_weights
        self.step = step or default_step
        self._device_type = next(model.parameters()).device.type
        self._autocast_dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision)
        self.scaler = torch.amp.GradScaler(self._device_type, enabled=precision == "16-mixed")
        # a custom step may train a model without loss_terms (a classifier, say)
        self.loss_terms = torch.compile(model.loss_terms) if compile else getattr(model, "loss_terms", None)
        self._after_backward = [cb.on_after_backward for cb in self.callbacks if hasattr(cb, "on_after_backward")]
        self.epoch = 0
        self.history = []
        self.stop = False

    def _call(self, hook, *args):
        for cb in self.callbacks:
            if hasattr(cb, hook):
                getattr(cb, hook)(self, *args)

    def autocast(self) -> AbstractContextManager:
        """The context of a forward pass at this trainer's precision (none at all in float32: the
        training step pays nothing for mixed precision it does not use)."""
        if self._autocast_dtype is None:
            return nullcontext()
        return torch.autocast(self._device_type, dtype=self._autocast_dtype)

    def backward(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer,
                 parameters: list[torch.Tensor] | None = None) -> None:
        """Gradients of ``loss`` (unscaled, ready for ``optimizer``), then the after-backward hooks
        (gradient clipping, ...). With ``parameters``, only their gradients are computed and set."""
        scaled = self.scaler.scale(loss)
        if parameters is None:
            scaled.backward()
        else:
            for q, grad in zip(parameters, torch.autograd.grad(scaled, parameters)):
                q.grad = grad
        self.scaler.unscale_(optimizer)
        for hook in self._after_backward:
            hook(self.model)

    def optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()``, skipped by the gradient scaler when a float16 gradient overflowed."""
        self.scaler.step(optimizer)
        self.scaler.update()

    def fit(self, X: Data | RowStream, X_val: Data | None = None) -> list[dict[str, float]]:
        """Train until ``epochs`` or a callback stops; returns the history (one dict per epoch).

        ``X`` and ``X_val``: a tensor of inputs, a pair ``(inputs, targets)`` of tensors with a row
        each per example (labels for a classifier, say), or for ``X`` rows that stay on disk (a
        :class:`aekit.datasets.RowStream`)."""
        self.model.train()
        self._call("on_train_begin")
        while self.epoch < self.epochs and not self.stop:
            self._call("on_epoch_begin")
            last_good = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            started = time.perf_counter()
            record = {"epoch": self.epoch + 1, **self._train_epoch(X)}
            if X_val is not None and len(X_val):
                record.update({f"val_{k}": v for k, v in self.evaluate(X_val).items()})
            record["time"] = time.perf_counter() - started
            bad = [k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v)]
            if bad:
                self.model.load_state_dict(last_good)
                raise TrainingDivergedError(
                    f"training diverged at epoch {self.epoch + 1}: {', '.join(bad)} = "
                    f"{record[bad[0]]}; kept the weights of epoch {self.epoch} "
                    "(try a smaller lr, gradient clipping or scaled data)")
            self.epoch += 1
            self.history.append(record)
            self._call("on_epoch_end", record)
        self._call("on_train_end")
        self.model.eval()
        return self.history

    def _train_epoch(self, X):
        parallel = self._data_parallel
        sums, n = {}, 0
        with nullcontext() if parallel is None else parallel.rank_streams(self.generators):
            batches = self._batches(X)
            if parallel is not None and isinstance(X, torch.Tensor | tuple):  # a stream yields shares
                batches = parallel.shares(batches)
            for batch in batches:
                terms = self.step(self, batch)
                rows = batch[0].shape[0]
                for name, value in terms.items():
                    sums[name] = sums.get(name, 0.0) + value.detach() * rows
                n += rows
        if parallel is not None:
            sums, n = parallel.epoch_totals(sums, n)
            parallel.broadcast_buffers(self.model)
        return {name: float(total) / n for name, total in sums.items()}

    def _batches(self, X):
        """The epoch's mini-batches ``(inputs, targets)``: a fresh permutation of the rows, sliced; or,
        for rows that stay on disk (a :class:`aekit.datasets.RowStream`), its shuffled blocks, moved to
        the model's device."""
        if not isinstance(X, torch.Tensor | tuple):
            device = next(self.model.parameters()).device
            parallel, shuffle = self._data_parallel, self.generators["shuffle"]
            # several processes: each reads what its shares of the global batches need
            batches = (X.shuffled_batches(self.batch_size, shuffle) if parallel is None
                       else parallel.stream_shares(X, self.batch_size, shuffle))
            for batch in batches:
                yield batch.to(device, non_blocking=True), None
            return
        inputs, targets = as_pair(X)
        order = torch.randperm(inputs.shape[0], generator=self.generators["shuffle"]).to(inputs.device)
        for start in range(0, inputs.shape[0], self.batch_size):
            rows = order[start:start + self.batch_size]
            yield inputs[rows], None if targets is None else targets[rows]

    @torch.no_grad()
    def evaluate(self, X: Data, batch_size: int = 4096) -> dict[str, float]:
        """Loss terms averaged over the rows of ``X``, in eval mode (no corruption, no dropout)."""
        was_training = self.model.training
        self.model.eval()
        inputs, targets = as_pair(X)
        sums = {}
        for start in range(0, inputs.shape[0], batch_size):
            part = slice(start, start + batch_size)
            terms = loss_terms(self.model.loss_terms, inputs[part], None if targets is None else targets[part])
            terms["loss"] = total_loss(terms, self.loss_weights)
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + value * inputs[part].shape[0]
        self.model.train(was_training)
        return {name: float(total) / inputs.shape[0] for name, total in sums.items()}


def as_pair(data: Data) -> Batch:
    """``(inputs, targets or None)`` from a tensor of inputs or a pair of tensors."""
    if isinstance(data, tuple):
        inputs, targets = data
        return inputs, targets
    return data, None


def loss_terms(fn: Callable[..., Terms], inputs: torch.Tensor, targets: torch.Tensor | None) -> Terms:
    """``fn(inputs)``, or ``fn(inputs, targets)`` when there are targets."""
    return fn(inputs) if targets is None else fn(inputs, targets)


def default_step(trainer: Trainer, batch: Batch) -> Terms:
    """One optimiser step on the weighted sum of the model's loss terms."""
    (optimizer,) = trainer.optimizers.values()
    with trainer.autocast():
        terms = loss_terms(trainer.loss_terms, *batch)
        loss = total_loss(terms, trainer.loss_weights)
    optimizer.zero_grad(set_to_none=True)
    trainer.backward(loss, optimizer)
    trainer.optimizer_step(optimizer)
    terms["loss"] = loss
    return terms
