"""Checkpoints as one safetensors file: tensors (model, optimiser state, random generators) plus a
JSON metadata entry (epoch, history, optimiser hyper-parameters, caller's metadata). No pickle."""

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes

from .._fileio import atomic_write_bytes

if TYPE_CHECKING:
    from .loop import Trainer

FORMAT = 1
FILENAME = "last.safetensors"


def _optimizer_to_tensors(name, optimizer, tensors):
    state = optimizer.state_dict()
    scalars = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optim.{name}.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    return {"param_groups": state["param_groups"], "scalars": scalars}


def _optimizer_from_tensors(name, optimizer, info, tensors):
    state = {}
    prefix = f"optim.{name}."
    for key, value in tensors.items():
        if key.startswith(prefix):
            index, field = key[len(prefix):].split(".", 1)
            state.setdefault(int(index), {})[field] = value
    for key, value in info["scalars"].items():
        index, field = key.split(".", 1)
        state.setdefault(int(index), {})[field] = value
    optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})


def save_checkpoint(path: str | os.PathLike, trainer: "Trainer", meta: dict | None = None) -> None:
    """Write the trainer's whole state to ``path`` atomically."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in trainer.model.state_dict().items()}
    for name, generator in trainer.generators.items():
        tensors[f"rng.{name}"] = generator.get_state()
    info = {
        "format": FORMAT,
        "epoch": trainer.epoch,
        "history": trainer.history,
        "optimizers": {n: _optimizer_to_tensors(n, o, tensors) for n, o in trainer.optimizers.items()},
        "meta": meta or {},
    }
    atomic_write_bytes(path, safetensors_bytes(tensors, metadata={"aekit_checkpoint": json.dumps(info)}))


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a checkpoint: ``(tensors, info)``. Raises ValueError naming the file if it is unreadable."""
    try:
        with safe_open(str(path), framework="pt") as f:
            info = json.loads((f.metadata() or {})["aekit_checkpoint"])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises several types for damaged files
        raise ValueError(f"{path}: not a readable aekit checkpoint ({exc})") from None
    if info.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {info.get('format')} is not supported (expected {FORMAT})")
    return tensors, info


def restore_checkpoint(trainer: "Trainer", tensors: dict[str, torch.Tensor], info: dict) -> None:
    """Put a loaded checkpoint's state into ``trainer`` (model, optimisers, generators, epoch, history)."""
    device = next(trainer.model.parameters()).device
    model_state = {k[len("model."):]: v.to(device) for k, v in tensors.items() if k.startswith("model.")}
    trainer.model.load_state_dict(model_state)
    for name, optimizer in trainer.optimizers.items():
        _optimizer_from_tensors(name, optimizer, info["optimizers"][name], tensors)
    for name, generator in trainer.generators.items():
        generator.set_state(tensors[f"rng.{name}"])
    trainer.epoch = info["epoch"]
    trainer.history = info["history"]


class Checkpoint:
    """Saves the trainer's state every ``every`` epochs and at the end; resumes from it if asked.

    ``meta`` (JSON-serialisable) is stored with the checkpoint; on resume, ``check_meta(saved_meta)``
    may raise if the checkpoint belongs to a different configuration.
    """

    def __init__(self, directory, every=1, resume=False, meta=None, check_meta=None):
        self.path = Path(directory) / FILENAME
        self.every = every
        self.resume = resume
        self.meta = meta
        self.check_meta = check_meta

    def on_train_begin(self, trainer: "Trainer") -> None:
        if self.resume and self.path.exists():
            tensors, info = load_checkpoint(self.path)
            if self.check_meta is not None:
                self.check_meta(info["meta"])
            restore_checkpoint(trainer, tensors, info)

    def on_epoch_end(self, trainer: "Trainer", record: dict[str, float]) -> None:
        if trainer.epoch % self.every == 0:
            save_checkpoint(self.path, trainer, self.meta)

    def on_train_end(self, trainer: "Trainer") -> None:
        save_checkpoint(self.path, trainer, self.meta)
