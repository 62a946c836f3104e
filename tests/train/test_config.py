"""TrainConfig: a run's length in epochs or steps, the device choice, and bad values."""
from __future__ import annotations

import pytest
import torch

from nas.errors import ConfigError
from nas.train import TrainConfig


def test_steps_replace_epochs_as_the_length_and_the_schedule_spans_them():
    # 250 clips at batch 100: batches of 100, 100, 50 -> 3 steps an epoch
    by_epochs = TrainConfig(epochs=4)
    assert (by_epochs.steps_per_epoch(250), by_epochs.total_steps(250), by_epochs.epoch_count(250)) == (3, 12, 4)
    by_steps = TrainConfig(epochs=4, steps=10)
    assert (by_steps.total_steps(250), by_steps.epoch_count(250)) == (10, 4)  # the 4th epoch is cut short
    assert TrainConfig(steps=9).epoch_count(250) == 3
    # a last batch of one clip is skipped (BatchNorm), so it is no step
    assert TrainConfig().steps_per_epoch(201) == 2 and TrainConfig().steps_per_epoch(202) == 3
    # Hello Edge's phases over 3 x 10 k steps
    paper = TrainConfig(steps=30_000)
    total = paper.total_steps(85_511)
    assert [paper.lr_at(s, total) for s in (0, 9_999, 10_000, 19_999, 20_000, 29_999)] == [
        5e-4, 5e-4, 1e-4, 1e-4, 2e-5, 2e-5]


def test_bad_steps_and_devices_are_one_clear_error():
    with pytest.raises(ConfigError, match="train.steps must be >= 1"):
        TrainConfig(steps=0)
    with pytest.raises(ConfigError, match="train.device must be one of"):
        TrainConfig(device="gpu")


def test_auto_picks_cuda_exactly_when_torch_sees_a_gpu():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert TrainConfig().torch_device().type == expected
    assert TrainConfig(device="cpu").torch_device().type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_fails_naming_train_device():
    with pytest.raises(ConfigError, match=r"^train.device=cuda but torch sees no CUDA GPU"):
        TrainConfig(device="cuda").torch_device()


def test_bf16_default_follows_the_device():
    assert TrainConfig(bf16=False).use_bf16(torch.device("cpu")) is False
    assert TrainConfig(bf16=True).use_bf16(torch.device("cpu")) is True
    from nas.train.config import native_bf16
    assert TrainConfig().use_bf16(torch.device("cpu")) == native_bf16()
