"""The one training loop, its callbacks and checkpoints."""

from .callbacks import LR_SCHEDULES, EarlyStopping, GradientClipping, LearningRateSchedule, LossWeightRamp, Progress
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .loop import Trainer, TrainingDivergedError

__all__ = [
    "LR_SCHEDULES", "Checkpoint", "EarlyStopping", "GradientClipping", "LearningRateSchedule", "LossWeightRamp",
    "Progress", "Trainer", "TrainingDivergedError", "load_checkpoint", "save_checkpoint",
]
