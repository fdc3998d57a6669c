"""The one training loop, its callbacks, checkpoints and optimisers."""

from .callbacks import LR_SCHEDULES, EarlyStopping, GradientClipping, LearningRateSchedule, LossWeightRamp, Progress
from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .loop import Trainer, TrainingDivergedError
from .optim import OPTIMIZERS, make_optimizer

__all__ = [
    "LR_SCHEDULES", "OPTIMIZERS", "Checkpoint", "EarlyStopping", "GradientClipping", "LearningRateSchedule",
    "LossWeightRamp", "Progress", "Trainer", "TrainingDivergedError", "load_checkpoint", "make_optimizer",
    "save_checkpoint",
]
