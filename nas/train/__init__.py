"""Training on cached features, evaluation, and checkpoints for one candidate."""
from nas.train.checkpoint import load_checkpoint, save_checkpoint
from nas.train.evaluation import evaluate, predict
from nas.train.config import TrainConfig
from nas.train.ensemble import Ensemble
from nas.train.trainer import TrainingDiverged, TrainResult, train

__all__ = [
    "Ensemble",
    "TrainConfig",
    "TrainResult",
    "TrainingDiverged",
    "evaluate",
    "load_checkpoint",
    "predict",
    "save_checkpoint",
    "train",
]
