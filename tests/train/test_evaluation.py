"""evaluate(): accuracy, per-class accuracy and confusion agree with a count done by hand."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
from torch import nn

from nas.data.speech_commands import LABELS
from nas.errors import DataError
from nas.train import evaluate


@dataclass
class Features:
    features: torch.Tensor
    labels: torch.Tensor


class ReadsItsAnswer(nn.Module):
    """Predicts the class id written in feature [0, 0] of each clip: outputs we fully control."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(x[:, 0, 0].long(), len(LABELS)).float()


def test_confusion_accuracy_and_per_class_match_a_hand_count():
    g = torch.Generator().manual_seed(0)
    n = 537  # not a multiple of the batch size
    truth = torch.randint(0, len(LABELS), (n,), generator=g)
    truth[truth == 3] = 4  # class "no" gets no clips at all
    wrong = torch.rand(n, generator=g) < 0.3
    predicted = torch.where(wrong, torch.randint(0, len(LABELS), (n,), generator=g), truth)
    features = torch.zeros(n, 49, 10)
    features[:, 0, 0] = predicted.float()

    result = evaluate(ReadsItsAnswer(), Features(features, truth), batch_size=100)

    counts = [[0] * len(LABELS) for _ in LABELS]
    for t, p in zip(truth.tolist(), predicted.tolist()):
        counts[t][p] += 1
    assert result["confusion"] == counts
    assert sum(map(sum, result["confusion"])) == n
    trace = sum(result["confusion"][i][i] for i in range(len(LABELS)))
    assert result["accuracy"] == pytest.approx(trace / n)
    assert result["accuracy"] == pytest.approx((predicted == truth).float().mean().item())
    assert list(result["per_class"]) == LABELS
    assert result["per_class"]["no"] is None
    yes = LABELS.index("yes")
    assert result["per_class"]["yes"] == pytest.approx(counts[yes][yes] / sum(counts[yes]))


def test_evaluate_leaves_the_model_in_training_mode_when_it_was():
    model = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(490, len(LABELS)))
    model.train()
    features = Features(torch.randn(20, 49, 10), torch.zeros(20, dtype=torch.int64))
    first = evaluate(model, features)
    assert model.training
    assert evaluate(model, features) == first  # dropout off while scoring: the same answer twice


def test_labels_outside_the_class_ids_are_a_data_error():
    features = Features(torch.zeros(4, 49, 10), torch.tensor([0, 1, 12, 2]))
    with pytest.raises(DataError, match="0..11"):
        evaluate(ReadsItsAnswer(), features)
