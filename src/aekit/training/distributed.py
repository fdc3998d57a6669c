"""Training on several processes and machines (``torchrun``): data parallelism by gradient averaging.

When ``torchrun`` starts several processes (``WORLD_SIZE`` > 1), :func:`setup` joins the default
process group once per process: gloo on CPUs; NCCL for CUDA tensors, with gloo beside it for small
CPU tensors; with ``device="auto"`` or ``"cuda"`` every rank uses ``cuda:LOCAL_RANK``. Every rank
holds the whole data set and draws the same permutation each epoch (same seed); the trainer slices
global batches of ``processes x batch_size`` rows and each rank trains on its contiguous share of
every one, so that step t sees the rows that one process with the global batch size would see.
Rows on disk (:class:`aekit.datasets.RowStream`) give the same batches: every rank draws the same
order of blocks, and where a group of blocks is striped (see :mod:`aekit.datasets.stream`; when the
number of processes divides ``GROUP_BLOCKS`` = 8 and the global batch is a multiple of it) each rank
reads only the blocks that hold its shares, a ``1 / processes`` part of them; the other groups (an
epoch's last few blocks) are read by every rank, which takes its share.

aekit runs on PyTorch's distributed package, not its own: rendezvous, launcher and collectives are
torch's. It does not wrap models in ``DistributedDataParallel``, whose hooks fire during the
``backward`` of a wrapped module's ``forward``: aekit trains through ``loss_terms`` and custom
steps, the GAN computes each network's gradients with ``torch.autograd.grad`` for one parameter set
at a time, and greedy pre-training trains phase networks whose lower layers are frozen. One
``all_reduce`` of the flattened gradients after each ``trainer.backward`` (before gradient
clipping) serves all three, and weighting each rank by its share size keeps a short last batch exact.

What differs from one process, by design:

- A global batch with fewer rows than processes (only an epoch's last one can be) is skipped, so
  that no rank trains on an empty share: at most ``processes - 1`` rows per epoch.
- Random streams other than the shuffle (corruption noise, a VAE's samples, a GAN's fakes) are each
  rank's own within an epoch, reseeded from one draw of the shared stream plus the rank; the shared
  stream is what checkpoints hold, so resuming stays exact. With noise, results therefore differ
  from those of one process.
- Statistics over a batch (batch normalisation in training mode, a KL sparsity penalty) are taken
  over each rank's share; buffers (running statistics) are broadcast from rank 0 after every epoch.
- ``precision="16-mixed"`` is refused: each rank's gradient scaler would decide alone whether to skip
  a step whose averaged gradients overflowed. ``"bf16-mixed"`` needs no scaler.
- Only rank 0 writes checkpoints and shows progress; every rank resumes from the checkpoint file,
  which on several machines must therefore lie on a file system they share.
"""

import atexit
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
import torch.distributed as dist

from ..devices import resolve_device


def launched() -> bool:
    """Whether ``torchrun`` started this process as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def _joined():
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0, the process that writes files, when it trains alone)."""
    return dist.get_rank() if _joined() else int(os.environ.get("RANK", "0"))


def world_size() -> int:
    """The number of processes training together: 1 unless a process group is initialised."""
    return dist.get_world_size() if _joined() else 1


def _leave():
    if _joined():
        dist.destroy_process_group()


def setup(device_name: str) -> None:
    """Join the default process group if ``torchrun`` started several processes; a no-op otherwise.

    ``device_name`` is the estimator's ``device``: "auto" and "cuda" put each rank on its own GPU
    (``cuda:LOCAL_RANK``), which then serves every CUDA tensor of the process.
    """
    if not launched():
        return
    if device_name in ("auto", "cuda") and torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    if _joined():
        return
    device = resolve_device(device_name)
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device={device_name!r} ({device.type}) cannot train on several processes: "
                         "torch.distributed serves CPUs (gloo) and CUDA GPUs (nccl); use device='cpu'")
    dist.init_process_group("cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo")
    atexit.register(_leave)


class DataParallel:
    """A trainer's part in data-parallel training; the trainer puts it first among its callbacks.

    It slices each rank's share of the global batches, averages gradients after every backward pass,
    gives each rank its own random streams within an epoch and makes every rank's epoch record,
    loss sums and buffers the same.
    """

    def __init__(self, model):
        self.rank, self.world_size = rank(), world_size()
        self.device = next(model.parameters()).device
        self.share = 1.0  # this rank's fraction of the rows of the current global batch
        self.reductions = 0

    def shares(self, batches: Iterable[tuple[torch.Tensor, torch.Tensor | None]]
               ) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        """This rank's contiguous share of each global batch (shares differ by at most one row)."""
        for inputs, targets in batches:
            rows = inputs.shape[0]
            if rows < self.world_size:
                continue
            start, stop = rows * self.rank // self.world_size, rows * (self.rank + 1) // self.world_size
            self.share = (stop - start) / rows
            yield inputs[start:stop], None if targets is None else targets[start:stop]

    def stream_shares(self, stream, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
        """This rank's share of each global batch of ``batch_size`` rows of ``stream`` (a
        :class:`aekit.datasets.RowStream`), reading only what its shares need where it can."""
        for rows, total in stream.shuffled_shares(batch_size, generator, self.rank, self.world_size):
            if total < self.world_size:
                continue
            self.share = len(rows) / total
            yield rows

    @contextmanager
    def rank_streams(self, generators: dict[str, torch.Generator]) -> Iterator[None]:
        """Within the block, every generator but ``"shuffle"`` is this rank's own stream, seeded from one
        draw of the shared one; afterwards each is the shared stream again, advanced by that draw."""
        streams = [g for name, g in generators.items() if name != "shuffle"]
        seeds = [int(torch.randint(2**62, (self.world_size,), generator=g, device=g.device)[self.rank])
                 for g in streams]
        shared = [g.get_state() for g in streams]
        for g, seed in zip(streams, seeds):
            g.manual_seed(seed)
        try:
            yield
        finally:
            for g, state in zip(streams, shared):
                g.set_state(state)

    def on_after_backward(self, model: torch.nn.Module) -> None:
        """Replace each gradient by the mean over the global batch: one all_reduce of the gradients,
        each rank's weighted by its share. Only parameters with a gradient take part (a GAN step has
        one network's), the same set on every rank, as every rank runs the same step."""
        grads = [q.grad for q in model.parameters() if q.grad is not None]
        if not grads:
            return
        flat = torch.cat([g.reshape(-1) for g in grads]).mul_(self.share)
        dist.all_reduce(flat)
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()
        self.reductions += 1

    def epoch_totals(self, sums: dict[str, torch.Tensor], rows: int) -> tuple[dict[str, torch.Tensor], int]:
        """The epoch's loss sums and row count over all ranks (one all_reduce per epoch)."""
        if rows and not self.reductions:
            raise ValueError("the training step computed no gradients through trainer.backward, so the "
                             "processes would train apart; a step for several processes must use it")
        names = list(sums)
        totals = torch.stack([sums[name].double() for name in names]
                             + [torch.tensor(float(rows), dtype=torch.float64, device=self.device)])
        dist.all_reduce(totals)
        if not totals[-1]:
            raise ValueError(f"{self.world_size} processes need at least {self.world_size} training rows "
                             "(one for each in a global batch)")
        return dict(zip(names, totals[:-1])), int(totals[-1])

    def broadcast_buffers(self, model: torch.nn.Module) -> None:
        """Rank 0's buffers (running statistics) for every rank."""
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)

    def on_epoch_end(self, trainer, record: dict[str, float]) -> None:
        """Rank 0's record for every rank (validation losses, timing), so that early stopping and the
        other callbacks decide alike on every rank, even where machines round differently."""
        keys = [k for k, v in record.items() if isinstance(v, float)]
        values = torch.tensor([record[k] for k in keys], dtype=torch.float64, device=self.device)
        dist.broadcast(values, 0)
        record.update(zip(keys, values.tolist()))


class SharedCheckpoint:
    """A :class:`~aekit.training.Checkpoint` for several processes: rank 0 writes it, every rank
    resumes from the file (on several machines, a file system they share)."""

    def __init__(self, checkpoint):
        self.checkpoint = checkpoint

    def on_train_begin(self, trainer) -> None:
        self.checkpoint.on_train_begin(trainer)
        device = next(trainer.model.parameters()).device
        epochs = torch.tensor([trainer.epoch, -trainer.epoch], device=device)
        dist.all_reduce(epochs, op=dist.ReduceOp.MAX)
        latest, earliest = int(epochs[0]), -int(epochs[1])
        if latest != earliest:
            raise ValueError(f"the processes resumed at different epochs ({earliest} to {latest}): every "
                             f"machine must see the same checkpoint {self.checkpoint.path}")

    def on_epoch_end(self, trainer, record: dict[str, float]) -> None:
        if rank() == 0:
            self.checkpoint.on_epoch_end(trainer, record)

    def on_train_end(self, trainer) -> None:
        if rank() == 0:
            self.checkpoint.on_train_end(trainer)
        # a barrier: no rank goes on (to a resuming fit, say) before the last checkpoint is written;
        # reading the sum back waits for it on a GPU too
        done = torch.zeros(1, device=next(trainer.model.parameters()).device)
        dist.all_reduce(done)
        done.item()
