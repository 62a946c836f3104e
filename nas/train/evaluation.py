"""Accuracy, per-class accuracy and the confusion matrix of a model on a feature set."""
from __future__ import annotations

import torch
from torch import nn

from nas.data.speech_commands import LABELS
from nas.errors import ConfigError, DataError


@torch.inference_mode()
def predict(model: nn.Module, features: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Class ids [N] predicted by ``model`` (in eval mode) for float features [N, T, F]."""
    was_training = model.training
    model.eval()
    try:
        chunks = [model(features[i : i + batch_size]).argmax(1) for i in range(0, features.shape[0], batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(chunks) if chunks else torch.empty(0, dtype=torch.int64)


def evaluate(model: nn.Module, feature_set, batch_size: int = 1000, labels: list[str] = LABELS) -> dict:
    """Score ``model`` on ``feature_set`` (``features`` [N, T, F], ``labels`` [N]).

    Returns:
        ``{"accuracy": float in 0..1, "per_class": {label: accuracy or None when the class has no
        clips}, "confusion": [[count]]}`` where ``confusion[true][predicted]`` counts clips and
        class ids index ``labels``.
    """
    truth = feature_set.labels.to(torch.int64)
    num_classes = len(labels)
    if truth.numel() and (truth.min() < 0 or truth.max() >= num_classes):
        raise DataError(f"evaluate: labels must be class ids 0..{num_classes - 1}, got {truth.min()}..{truth.max()}")
    predicted = predict(model, feature_set.features, batch_size)
    if predicted.numel() and predicted.max() >= num_classes:
        raise ConfigError(f"evaluate: model predicts class {int(predicted.max())}, only {num_classes} labels known")
    confusion = torch.bincount(truth * num_classes + predicted, minlength=num_classes**2).reshape(num_classes, num_classes)
    per_class_total = confusion.sum(1)
    per_class = {
        label: (float(confusion[i, i] / per_class_total[i]) if per_class_total[i] else None)
        for i, label in enumerate(labels)
    }
    total = int(confusion.sum())
    return {
        "accuracy": float(confusion.diagonal().sum() / total) if total else 0.0,
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }
