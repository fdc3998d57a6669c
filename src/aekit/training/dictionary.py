"""Training a sparse dictionary (:class:`aekit.nn.dictionary.DictionaryNet`): the upkeep between the
steps of the one loop, and the step that keeps the decoder's columns at unit norm.

With several processes (``torchrun``) the dead-unit counter advances by the global batch: each step's
units that fired are gathered over the processes (one small ``all_reduce``), so that every rank holds
the counter that one process would, and AuxK picks the same dead units everywhere.
"""

import torch
import torch.distributed as dist

from .distributed import world_size
from .loop import Batch, Terms, Trainer, default_step


class DictionaryUpkeep:
    """Callback: projects the decoder's gradients, advances the dead-unit counter after each backward
    pass, and adds ``dead_fraction`` (units that fired on no training row of the epoch) to each
    epoch's record. Put it before the callbacks that read records (checkpoints)."""

    def __init__(self):
        self.epoch_start = 0

    def on_epoch_begin(self, trainer: Trainer) -> None:
        self.epoch_start = int(trainer.model.rows_seen)

    def on_after_backward(self, model: torch.nn.Module) -> None:
        model.project_gradients()
        if model.fired is None:
            return
        fired, rows = model.fired, model.batch_rows
        if world_size() > 1:
            counts = torch.cat([fired.float(), fired.new_tensor([rows], dtype=torch.float32)])
            dist.all_reduce(counts)
            fired, rows = counts[:-1] > 0, counts[-1].long()
        model.count_firing(fired, rows)
        model.fired = None

    def on_epoch_end(self, trainer: Trainer, record: dict[str, float]) -> None:
        model = trainer.model
        rows = int(model.rows_seen) - self.epoch_start
        record["dead_fraction"] = float((model.rows_since_fired >= rows).float().mean()) if rows else 0.0


def dictionary_step(trainer: Trainer, batch: Batch) -> Terms:
    """The default step, then the decoder's columns back to unit norm; adds the batch's ``fvu`` (the
    variance-normalised reconstruction term) and ``l0`` (mean active units per row) to the terms."""
    terms = default_step(trainer, batch)
    model = trainer.model
    if model.unit_norm_decoder:
        model.normalize_decoder()
    terms["fvu"] = terms["recon"].detach()
    terms["l0"] = model.l0
    return terms
