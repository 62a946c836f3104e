"""The trainer: learning, determinism, early stopping, divergence, callbacks, schedule, augmentation."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from nas.errors import ConfigError
from nas.train import TrainConfig, TrainingDiverged, train
from nas.train.trainer import FeatureAugmenter, loss_and_accuracy, safe_precision

FRAMES, COEFFS, CLASSES = 8, 4, 4


@dataclass
class Features:
    features: torch.Tensor
    labels: torch.Tensor


def separable(n: int, seed: int, noise: float = 1.0) -> Features:
    """Class k lights up coefficient k in every frame, under Gaussian noise: linearly separable."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, CLASSES, (n,), generator=g)
    features = noise * torch.randn(n, FRAMES, COEFFS, generator=g)
    features += 1.0 * nn.functional.one_hot(labels, COEFFS).float().unsqueeze(1)
    return Features(features, labels)


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(FRAMES * COEFFS, 16), nn.ReLU(), nn.Linear(16, CLASSES))


def curve(history: list[dict]) -> list[tuple]:
    """The parts of a history that must repeat exactly (not the wall-clock ones)."""
    return [(h["epoch"], h["train_loss"], h["train_acc"], h["val_loss"], h["val_acc"]) for h in history]


FAST = dict(batch_size=32, lr_phases=(1e-2, 1e-3), schedule="cosine", early_stopping_patience=None)


@pytest.mark.parametrize("bf16", [False, True], ids=["float32", "bf16-autocast"])
def test_a_tiny_model_learns_a_separable_problem(bf16):
    train_set, val_set = separable(640, seed=1), separable(256, seed=2)
    model = tiny_model()
    _, untrained_acc = loss_and_accuracy(model, val_set)
    result = train(model, train_set, val_set, TrainConfig(epochs=6, bf16=bf16, **FAST))
    assert untrained_acc < 0.5  # chance is 0.25
    assert result.best_val_acc > 0.9
    assert loss_and_accuracy(model, val_set)[1] == result.best_val_acc
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    # the model is left holding the best epoch's weights
    for key, value in model.state_dict().items():
        assert torch.equal(value, result.best_state_dict[key])


def test_same_seed_same_history_other_seed_other_history():
    train_set, val_set = separable(320, seed=1), separable(128, seed=2)
    config = TrainConfig(epochs=3, seed=5, time_shift_frames=2, time_mask_frames=2, freq_mask_bins=1, **FAST)
    first = train(tiny_model(), train_set, val_set, config)
    again = train(tiny_model(), train_set, val_set, config)
    other = train(tiny_model(), train_set, val_set, TrainConfig(epochs=3, seed=6, time_shift_frames=2,
                                                                 time_mask_frames=2, freq_mask_bins=1, **FAST))
    assert curve(first.history) == curve(again.history)
    for key in first.best_state_dict:
        assert torch.equal(first.best_state_dict[key], again.best_state_dict[key])
    assert curve(first.history) != curve(other.history)


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    train_set, val_set = separable(128, seed=1), separable(64, seed=2)
    # A learning rate this small leaves validation accuracy flat from the first epoch on.
    config = TrainConfig(epochs=20, batch_size=32, lr_phases=(1e-12,), schedule="constant", early_stopping_patience=3)
    result = train(tiny_model(), train_set, val_set, config)
    assert result.stopped_early
    assert result.best_epoch == 1
    assert len(result.history) == 1 + 3


def test_nan_loss_raises_training_diverged_with_its_epoch():
    train_set, val_set = separable(128, seed=1), separable(64, seed=2)
    train_set.features[5, 0, 0] = float("nan")
    with pytest.raises(TrainingDiverged) as caught:
        train(tiny_model(), train_set, val_set, TrainConfig(epochs=3, **FAST))
    assert caught.value.epoch == 1
    assert "epoch 1" in str(caught.value)


class NanUnderBf16(nn.Module):
    """The tiny model, but its output turns NaN under bfloat16 autocast from its ``after``-th call on:
    a stand-in for a CPU bfloat16 kernel that breaks on some layer shapes."""

    def __init__(self, after: int):
        super().__init__()
        self.inner, self.after, self.calls = tiny_model(), after, 0

    def forward(self, x):
        out = self.inner(x)
        if torch.is_autocast_cpu_enabled():
            self.calls += 1
            if self.calls > self.after:
                out = out * float("nan")
        return out


def test_a_run_that_diverges_in_bfloat16_is_retrained_in_float32_from_the_same_start():
    train_set, val_set = separable(320, seed=1), separable(128, seed=2)
    config = TrainConfig(epochs=3, bf16=True, **FAST)
    epochs_seen = []
    model = NanUnderBf16(after=15)  # 10 batches an epoch: diverges in epoch 2
    result = train(model, train_set, val_set, config, on_epoch=lambda epoch, stats: epochs_seen.append(epoch))
    assert result.fallback.startswith("float32, default layout after training diverged")
    assert not result.bf16 and not result.channels_last
    assert epochs_seen == [1, 1, 2, 3]  # the bfloat16 epoch 1, then the float32 run from the start

    reference = NanUnderBf16(after=15)
    expected = train(reference, train_set, val_set, TrainConfig(epochs=3, bf16=False, channels_last=False, **FAST))
    assert curve(result.history) == curve(expected.history)
    assert expected.fallback == ""


def test_a_conv_shape_whose_bfloat16_kernel_gives_nan_still_trains():
    """A CNN candidate that lost its trial to 'non-finite loss in epoch 1 (step 0)' in a search."""
    from nas.spaces import Candidate, build_model

    candidate = Candidate.from_dict({
        "arch": "cnn", "spec": {"conv1": {"filters": 14, "kernel_t": 9, "kernel_f": 6, "stride_t": 1, "stride_f": 3},
                                "conv2": {"filters": 46, "kernel_t": 5, "kernel_f": 1, "stride_t": 1, "stride_f": 1},
                                "linear": 17, "fc": 114},
        "frontend": {"window_ms": 50.0, "stride_ms": 30.0, "n_mfcc": 8}})
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 12, (400,), generator=g)
    features = 5 * torch.randn(400, *candidate.input_shape, generator=g)
    features[:, :, 0] += labels.unsqueeze(1).float()
    train_set, val_set = Features(features[:300], labels[:300]), Features(features[300:], labels[300:])
    torch.manual_seed(0)
    model = build_model(candidate)
    probe = copy.deepcopy(model).to(memory_format=torch.channels_last)  # as the trainer lays it out
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        breaks_in_bf16 = not torch.isfinite(probe(features[:100])).all()
    bf16, channels_last, why = safe_precision(model, features[:32], TrainConfig(bf16=True, channels_last=True))
    reference = model.eval()(features[:32]).detach()
    model.train()
    probe = copy.deepcopy(model).eval().to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        assert torch.allclose(probe(features[:32]).float(), reference, atol=0.25 * reference.abs().max())
    # oneDNN may pick another kernel for another batch or thread count, so the check may also drop bf16
    # for outputs that are wrong but finite; it must whenever they are not finite
    if breaks_in_bf16:
        assert why and not bf16
    assert bool(why) == (not bf16)

    result = train(model, train_set, val_set, TrainConfig(epochs=2, bf16=True, **FAST))
    assert all(torch.isfinite(torch.tensor(h["train_loss"])) for h in result.history)
    assert result.fallback == why and result.bf16 == bf16


def test_an_exception_from_on_epoch_stops_training_and_propagates():
    class Prune(Exception):
        pass

    seen = []

    def on_epoch(epoch, stats):
        seen.append((epoch, set(stats)))
        if epoch == 2:
            raise Prune

    with pytest.raises(Prune):
        train(tiny_model(), separable(128, 1), separable(64, 2), TrainConfig(epochs=10, **FAST), on_epoch=on_epoch)
    assert [e for e, _ in seen] == [1, 2]
    assert {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"} <= seen[0][1]


def test_thread_count_is_restored_after_training():
    before = torch.get_num_threads()
    train(tiny_model(), separable(64, 1), separable(32, 2), TrainConfig(epochs=1, num_threads=1, **FAST))
    assert torch.get_num_threads() == before


def test_mismatched_feature_sets_are_rejected():
    val_set = separable(32, 2)
    bad = Features(torch.zeros(16, FRAMES + 1, COEFFS), torch.zeros(16, dtype=torch.int64))
    with pytest.raises(ConfigError, match="differ in shape"):
        train(tiny_model(), bad, val_set, TrainConfig(epochs=1, **FAST))
    with pytest.raises(ConfigError, match="labels must be int64"):
        train(tiny_model(), Features(val_set.features, val_set.labels.int()), val_set, TrainConfig(epochs=1, **FAST))


def test_step_schedule_has_hello_edge_phases_and_cosine_anneals():
    step = TrainConfig()
    assert [step.lr_at(s, 300) for s in (0, 99, 100, 199, 200, 299)] == [5e-4, 5e-4, 1e-4, 1e-4, 2e-5, 2e-5]
    cosine = TrainConfig(schedule="cosine", lr_phases=(1e-2, 1e-4))
    rates = [cosine.lr_at(s, 100) for s in range(101)]
    assert rates[0] == pytest.approx(1e-2) and rates[-1] == pytest.approx(1e-4)
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_a_distilled_student_follows_its_teacher_not_the_labels():
    """alpha=1: the loss is the teacher's softened outputs alone. The teacher answers class k+1 where the
    labels say k, so a student that learned from the labels would score about 0 against the teacher."""
    train_set, val_set = separable(640, seed=1), separable(256, seed=2)
    teacher = tiny_model(seed=3)
    train(teacher, train_set, val_set, TrainConfig(epochs=6, **FAST))
    shifted = nn.Sequential(teacher, Permute((CLASSES - 1, *range(CLASSES - 1))))  # output k+1 <- k
    frozen = copy.deepcopy(shifted.state_dict())
    student = tiny_model(seed=4)
    train(student, train_set, val_set, TrainConfig(epochs=6, distill_alpha=1.0, distill_temperature=2.0, **FAST),
          teacher=shifted)
    with torch.no_grad():
        said = student(val_set.features).argmax(1)
    assert (said == shifted(val_set.features).argmax(1)).float().mean() > 0.8
    assert (said == val_set.labels).float().mean() < 0.2
    assert all(torch.equal(v, shifted.state_dict()[k]) for k, v in frozen.items())
    with pytest.raises(ConfigError, match="distill_alpha"):
        TrainConfig(distill_alpha=1.5)


class Permute(nn.Module):
    def __init__(self, order: tuple[int, ...]):
        super().__init__()
        self.order = list(order)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.order]


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ConfigError, match="unknown keys"):
        TrainConfig.from_dict({"epochs": 2, "epoch": 3})
    with pytest.raises(ConfigError, match="schedule"):
        TrainConfig(schedule="linear")
    assert TrainConfig.from_dict(TrainConfig(epochs=4).to_dict()) == TrainConfig(epochs=4)


def _augmenter(**kwargs) -> FeatureAugmenter:
    config = TrainConfig(**kwargs)
    return FeatureAugmenter(config, fill=torch.full((COEFFS,), -7.0), generator=torch.Generator().manual_seed(0))


def test_time_shift_moves_whole_clips_by_at_most_k_frames_repeating_edges():
    x = torch.arange(64 * FRAMES * COEFFS, dtype=torch.float32).reshape(64, FRAMES, COEFFS)
    out = _augmenter(time_shift_frames=2)(x)
    shifts = set()
    for clip, shifted in zip(x, out):
        matches = [s for s in range(-2, 3)
                   if torch.equal(shifted, clip[(torch.arange(FRAMES) - s).clamp(0, FRAMES - 1)])]
        assert matches, "every output clip is its input shifted by -2..2 frames"
        shifts.add(matches[0])
    assert len(shifts) > 1


def test_masks_fill_at_most_k_frames_and_k_coefficients_with_the_fill_value():
    x = torch.randn(200, FRAMES, COEFFS)
    out = _augmenter(time_mask_frames=3, freq_mask_bins=1)(x)
    masked = out != x
    assert torch.all(out[masked] == -7.0)
    assert masked.any()
    for clip_mask in masked:
        full_frames = clip_mask.all(dim=1).sum()
        full_coeffs = clip_mask.all(dim=0).sum()
        assert full_frames <= 3 and full_coeffs <= 1
        # every masked cell lies in a fully masked frame or a fully masked coefficient
        assert torch.equal(clip_mask, clip_mask.all(dim=1, keepdim=True) | clip_mask.all(dim=0, keepdim=True))


def test_mixup_blends_each_clip_with_a_partner_keeping_at_least_half_of_its_own():
    x = torch.randn(400, FRAMES, COEFFS)
    mixed, partner, share = _augmenter(mixup_alpha=0.4).mix(x)
    assert torch.all((share >= 0.5) & (share <= 1.0))
    assert share.std() > 0.05  # Beta(0.4, 0.4) draws spread out, not one constant weight
    w = share.view(-1, 1, 1)
    assert torch.allclose(mixed, w * x + (1 - w) * x[partner], atol=1e-6)
    assert sorted(partner.tolist()) == list(range(400))
    again = _augmenter(mixup_alpha=0.4).mix(x)
    assert torch.equal(again[0], mixed)  # drawn on the seeded generator


def test_mixup_training_still_learns_and_repeats_with_its_seed():
    train_set, val_set = separable(640, seed=1), separable(256, seed=2)
    config = TrainConfig(epochs=6, mixup_alpha=0.4, **FAST)
    histories = [train(tiny_model(), train_set, val_set, config).history for _ in range(2)]
    assert curve(histories[0]) == curve(histories[1])
    assert histories[0][-1]["val_acc"] > 0.9
    plain = train(tiny_model(), train_set, val_set, TrainConfig(epochs=6, **FAST)).history
    assert curve(plain) != curve(histories[0])
    with pytest.raises(ConfigError, match="mixup_alpha"):
        TrainConfig(mixup_alpha=-1)


class CountingModel(nn.Sequential):
    """tiny_model that counts its training-mode forward passes (one per optimiser step)."""

    def __init__(self):
        torch.manual_seed(0)
        super().__init__(nn.Flatten(), nn.Linear(FRAMES * COEFFS, 16), nn.ReLU(), nn.Linear(16, CLASSES))
        self.train_steps = 0

    def forward(self, x):
        self.train_steps += self.training
        return super().forward(x)


def test_a_steps_long_run_takes_exactly_that_many_steps_and_ends_in_the_last_phase():
    train_set, val_set = separable(320, seed=1), separable(64, seed=2)  # 10 steps an epoch at batch 32
    model = CountingModel()
    config = TrainConfig(epochs=99, steps=25, batch_size=32, lr_phases=(1e-2, 1e-3, 1e-4), schedule="step",
                         early_stopping_patience=None, channels_last=False, bf16=False)
    result = train(model, train_set, val_set, config)
    # the safe_precision check's probes are deep copies, so every counted pass is a training step
    assert model.train_steps == 25
    assert len(result.history) == 3 and result.history[-1]["lr"] == 1e-4
    assert result.device == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_learns_like_the_cpu_and_hands_the_model_back_on_the_cpu():
    train_set, val_set = separable(640, seed=1), separable(256, seed=2)
    results = {}
    for device in ("cpu", "cuda"):
        model = tiny_model()
        results[device] = train(model, train_set, val_set, TrainConfig(epochs=6, device=device, **FAST))
        assert all(p.device.type == "cpu" for p in model.parameters())
        assert loss_and_accuracy(model, val_set)[1] == results[device].best_val_acc
    assert results["cuda"].device == "cuda" and results["cuda"].bf16  # mixed precision on the GPU
    assert results["cuda"].best_val_acc > 0.9
    assert abs(results["cuda"].best_val_acc - results["cpu"].best_val_acc) < 0.05
