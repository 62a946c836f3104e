"""The seed ensemble: averaged probabilities as logits, frozen members, a teacher `train` distils from."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.errors import ConfigError
from nas.train import TrainConfig, train
from nas.train.ensemble import Ensemble
from tests.train.test_trainer import CLASSES, FAST, FRAMES, COEFFS, separable, tiny_model


def test_its_outputs_are_the_log_of_the_members_mean_probabilities():
    members = [tiny_model(seed=s) for s in (0, 1, 2)]
    x = torch.randn(5, FRAMES, COEFFS)
    with torch.no_grad():
        out = Ensemble(members)(x)
        mean = torch.stack([torch.softmax(m(x), 1) for m in members]).mean(0)
        one = Ensemble(members[:1])(x)
    assert torch.allclose(out.exp(), mean, atol=1e-6)
    assert torch.allclose(out.exp().sum(1), torch.ones(5), atol=1e-6)
    assert torch.allclose(torch.log_softmax(out, 1), out, atol=1e-6)  # already normalised: logits as they are
    assert torch.allclose(one, torch.log_softmax(members[0](x), 1), atol=1e-6)


def test_its_members_stay_frozen_and_in_eval_mode():
    dropout = nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(FRAMES * COEFFS, CLASSES))
    ensemble = Ensemble([dropout]).train()
    x = torch.randn(4, FRAMES, COEFFS)
    assert torch.equal(ensemble(x), ensemble(x))  # dropout off although train() was asked
    assert not any(p.requires_grad for p in ensemble.parameters())
    with pytest.raises(ConfigError, match="at least one member"):
        Ensemble([])


def test_a_student_distilled_from_an_ensemble_answers_as_the_ensemble():
    """Two members trained on labels moved by one class and one by two: the average's answer is what a
    student distilled with alpha=1 learns, not the labels."""
    train_set, val_set = separable(640, seed=1, noise=0.5), separable(256, seed=2, noise=0.5)
    members = []
    for seed, shift in ((3, 1), (5, 1), (6, 2)):
        member = tiny_model(seed=seed)
        moved = type(train_set)(train_set.features, (train_set.labels + shift) % CLASSES)
        train(member, moved, type(val_set)(val_set.features, (val_set.labels + shift) % CLASSES),
              TrainConfig(epochs=6, **FAST))
        members.append(member)
    teacher = Ensemble(members)
    student = tiny_model(seed=4)
    train(student, train_set, val_set, TrainConfig(epochs=6, distill_alpha=1.0, distill_temperature=2.0, **FAST),
          teacher=teacher)
    with torch.no_grad():
        said, taught = student(val_set.features).argmax(1), teacher(val_set.features).argmax(1)
    assert (taught == (val_set.labels + 1) % CLASSES).float().mean() > 0.8  # two of three members say k+1
    assert (said == taught).float().mean() > 0.8
    assert (said == val_set.labels).float().mean() < 0.2
