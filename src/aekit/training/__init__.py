"""The one training loop, its callbacks and checkpoints."""

from .callbacks import EarlyStopping, GradientClipping, LossWeightRamp, Progress
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .loop import Trainer, TrainingDivergedError

__all__ = [
    "Checkpoint", "EarlyStopping", "GradientClipping", "LossWeightRamp", "Progress", "Trainer", "TrainingDivergedError",
    "load_checkpoint", "save_checkpoint",
]
