"""Callbacks of the training loop. They keep no state that the history cannot give back, so that a
resumed run behaves exactly like one that was never interrupted."""

import math

import torch
from tqdm.auto import tqdm

# Learning-rate factors over training, by the fraction of the epochs done before the epoch starts.
LR_SCHEDULES = {
    "cosine": lambda done: 0.5 * (1 + math.cos(math.pi * done)),
    "linear": lambda done: 1 - done,
}


class EarlyStopping:
    """Stops when the monitored loss has not improved for ``patience`` epochs.

    Monitors ``val_loss`` when there is validation data, else the training ``loss``.
    """

    def __init__(self, patience):
        self.patience = patience

    def on_epoch_end(self, trainer, record):
        key = "val_loss" if "val_loss" in record else "loss"
        values = [r[key] for r in trainer.history]
        best_epoch = min(range(len(values)), key=values.__getitem__)
        if len(values) - 1 - best_epoch >= self.patience:
            trainer.stop = True


class GradientClipping:
    """Rescales gradients so that their global norm is at most ``max_norm``."""

    def __init__(self, max_norm):
        self.max_norm = max_norm

    def on_after_backward(self, model):
        torch.nn.utils.clip_grad_norm_(model.parameters(), self.max_norm)


class LearningRateSchedule:
    """Sets every optimiser's learning rates at the start of each epoch: the initial rate times
    ``LR_SCHEDULES[kind](epoch / epochs)``, the full rate in the first epoch falling towards 0 in the
    last. The initial rates stay in the parameter groups as ``initial_lr`` (torch's convention) and
    travel with the optimisers' checkpointed state; the rest derives from the epoch, so resuming is
    exact."""

    def __init__(self, kind):
        self.factor = LR_SCHEDULES[kind]

    def on_epoch_begin(self, trainer):
        factor = self.factor(trainer.epoch / trainer.epochs)
        for optimizer in trainer.optimizers.values():
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * factor


class Progress:
    """A tqdm bar over epochs showing the last epoch's losses (written to stderr)."""

    def __init__(self, description="training"):
        self.description = description
        self.bar = None

    def on_train_begin(self, trainer):
        self.bar = tqdm(total=trainer.epochs, initial=trainer.epoch, desc=self.description, unit="epoch")

    def on_epoch_end(self, trainer, record):
        shown = {k: f"{v:.4g}" for k, v in record.items() if k.endswith("loss")}
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer):
        self.bar.close()


class LossWeightRamp:
    """Raises a loss term's weight linearly from ``final / epochs`` to ``final`` over the first
    ``epochs`` epochs (the VAE's KL warm-up); derived from the epoch alone, so resuming is exact."""

    def __init__(self, term, final, epochs):
        self.term = term
        self.final = final
        self.epochs = epochs

    def on_epoch_begin(self, trainer):
        fraction = min(1.0, (trainer.epoch + 1) / self.epochs)
        trainer.loss_weights = {**(trainer.loss_weights or {}), self.term: self.final * fraction}
