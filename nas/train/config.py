"""How to train one candidate: ``TrainConfig`` (also the search's structured config for ``train``).

Learning rate: Hello Edge (ML-KWS-for-MCU train_commands.txt) trains with Adam at
5e-4 → 1e-4 → 2e-5 over three equal phases of 10 k steps. ``schedule="step"`` (the default) reproduces
that over the run's steps; ``"cosine"`` anneals smoothly from the first to the last value, which suits
searches that stop early; ``"constant"`` keeps the first. A run lasts ``epochs`` epochs, or exactly
``steps`` optimiser steps when that is set (the paper counts steps; the last epoch is then cut short).
"""
from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from nas.errors import ConfigError, from_known_fields

SCHEDULES = ("step", "cosine", "constant")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class TrainConfig:
    """How to train one candidate. Defaults follow Hello Edge (batch 100, Adam, 3-phase lr).

    It is also the search's structured config for ``train`` (Hydra types every field from it); the
    search's recipes are ``nas.search.schema.RECIPES``.
    """

    epochs: int = 30
    steps: int | None = None  # optimiser steps in all; set, it replaces epochs as the run's length
    batch_size: int = 100
    lr_phases: tuple[float, ...] = (5e-4, 1e-4, 2e-5)
    schedule: str = "step"
    weight_decay: float = 0.0
    early_stopping_patience: int | None = 8  # epochs without a better val acc; None: never stop
    seed: int = 0
    label_smoothing: float = 0.0
    time_shift_frames: int = 0  # each clip shifted by a uniform integer in [-k, k] frames
    time_mask_frames: int = 0  # one time mask per clip, width uniform in [0, k]
    freq_mask_bins: int = 0  # one coefficient mask per clip, width uniform in [0, k]
    num_threads: int | None = None  # torch intra-op threads while training; None: leave as is
    # auto: CUDA when torch sees a GPU, else the CPU. The features then live on that device.
    device: str = "auto"
    # Conv weights in NHWC: oneDNN's CPU convolutions run about twice as fast on it (bench_train.py).
    channels_last: bool = True
    # Convs and matmuls autocast to bfloat16: 1.4x faster again where the CPU has AVX512-BF16 or AMX, at
    # the same accuracy on generated speech (bench_train.py), slower where it has neither; on CUDA this is
    # the mixed precision (bfloat16 needs no loss scaling). None: on exactly where the device has it.
    # Validation and evaluation always run in float32.
    bf16: bool | None = None
    eval_batch_size: int = 1000
    # With a teacher passed to `train` (knowledge distillation, Hinton et al. 2015): this share of the
    # loss is the KL divergence to the teacher's outputs softened by the temperature; unused without one.
    distill_alpha: float = 0.5
    distill_temperature: float = 4.0
    # Mixup (Zhang et al. 2018) of the augmented features: each clip mixed with another of its batch at a
    # weight drawn from Beta(a, a), its own share at least half; the loss mixes both labels alike. 0: off.
    mixup_alpha: float = 0.0

    def __post_init__(self) -> None:
        self.lr_phases = tuple(float(v) for v in self.lr_phases)
        if self.epochs < 1 or self.batch_size < 2 or self.eval_batch_size < 1:
            raise ConfigError(
                f"train: need epochs >= 1, batch_size >= 2, eval_batch_size >= 1; got "
                f"{self.epochs}, {self.batch_size}, {self.eval_batch_size}"
            )
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"train.steps must be >= 1 or null (use epochs), got {self.steps}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"train: schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.device not in DEVICES:
            raise ConfigError(f"train.device must be one of {DEVICES}, got {self.device!r}")
        if not self.lr_phases or any(not v > 0 for v in self.lr_phases):
            raise ConfigError(f"train: lr_phases must be positive numbers, got {self.lr_phases}")
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"train: label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not 0 <= self.distill_alpha <= 1 or not self.distill_temperature > 0:
            raise ConfigError(f"train: need distill_alpha in [0, 1] and distill_temperature > 0, got "
                              f"{self.distill_alpha}, {self.distill_temperature}")
        for name in ("time_shift_frames", "time_mask_frames", "freq_mask_bins", "weight_decay", "mixup_alpha"):
            if getattr(self, name) < 0:
                raise ConfigError(f"train: {name} must be >= 0, got {getattr(self, name)}")

    def torch_device(self) -> torch.device:
        """The device training runs on; ``cuda`` without a usable GPU is a ConfigError."""
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("train.device=cuda but torch sees no CUDA GPU here; use train.device=auto or cpu")
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def use_bf16(self, device: torch.device) -> bool:
        if self.bf16 is not None:
            return self.bf16
        return torch.cuda.is_bf16_supported() if device.type == "cuda" else native_bf16()

    def steps_per_epoch(self, clips: int) -> int:
        """Optimiser steps in one pass over ``clips`` (a last batch of one is skipped: BatchNorm)."""
        return clips // self.batch_size + (clips % self.batch_size > 1)

    def total_steps(self, clips: int) -> int:
        return self.steps if self.steps is not None else self.epochs * self.steps_per_epoch(clips)

    def epoch_count(self, clips: int) -> int:
        """Epochs the run spans over ``clips`` training clips (the last may be partial)."""
        return math.ceil(self.total_steps(clips) / self.steps_per_epoch(clips))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["lr_phases"] = list(self.lr_phases)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        return from_known_fields(cls, data, "train")

    def lr_at(self, step: int, total_steps: int) -> float:
        """Learning rate for optimiser step ``step`` of ``total_steps``."""
        first, last = self.lr_phases[0], self.lr_phases[-1]
        total_steps = max(total_steps, 1)
        if self.schedule == "step":
            phases = len(self.lr_phases)
            return self.lr_phases[min(step * phases // total_steps, phases - 1)]
        progress = min(step / total_steps, 1.0)
        if self.schedule == "cosine":
            return last + 0.5 * (first - last) * (1 + math.cos(math.pi * progress))
        return first


@functools.cache
def native_bf16() -> bool:
    """True when the CPU computes in bfloat16 natively (Linux CPU flags avx512_bf16 or amx_bf16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: keep float32
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
