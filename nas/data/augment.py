"""Training augmentation of the TensorFlow speech_commands recipe, batched in numpy.

Each clip is shifted in time by up to ±100 ms (zero-filled) and, on 80 % of clips, mixed with a random
stretch of background noise at a volume drawn from U(0, 0.1) (TensorFlow train.py defaults:
time_shift_ms=100, background_frequency=0.8, background_volume=0.1). All random choices are drawn up
front from one generator, so the result depends on the seed only, never on how the work is batched.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from nas.errors import ConfigError


@dataclass(frozen=True)
class AugmentConfig:
    time_shift_ms: float = 100.0
    background_share: float = 0.8  # share of clips that get background noise
    background_volume: float = 0.1  # noise gain is drawn from U(0, background_volume)

    def __post_init__(self) -> None:
        if self.time_shift_ms < 0:
            raise ConfigError(f"augment: time_shift_ms must be >= 0, got {self.time_shift_ms}")
        if not 0.0 <= self.background_share <= 1.0:
            raise ConfigError(f"augment: background_share must be in [0, 1], got {self.background_share}")
        if self.background_volume < 0:
            raise ConfigError(f"augment: background_volume must be >= 0, got {self.background_volume}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AugmentParams:
    """The random draws for N clips: shift in samples, noise file, offset into it, and gain (0 = none)."""

    shifts: np.ndarray
    noise_index: np.ndarray
    noise_offset: np.ndarray
    noise_gain: np.ndarray

    def __getitem__(self, rows: slice) -> "AugmentParams":
        return AugmentParams(self.shifts[rows], self.noise_index[rows], self.noise_offset[rows],
                             self.noise_gain[rows])


def draw_params(n: int, clip_samples: int, noises: list[np.ndarray], rng: np.random.Generator,
                config: AugmentConfig, sample_rate: int = 16000) -> AugmentParams:
    """Draws the augmentation of ``n`` clips; noise files shorter than a clip are never chosen."""
    max_shift = int(round(config.time_shift_ms * sample_rate / 1000))
    shifts = rng.integers(-max_shift, max_shift + 1, size=n)
    usable = [i for i, noise in enumerate(noises) if len(noise) >= clip_samples]
    with_noise = rng.random(n) < config.background_share
    gains = rng.uniform(0.0, config.background_volume, size=n) * with_noise
    index = np.zeros(n, dtype=np.int64)
    offset = np.zeros(n, dtype=np.int64)
    if usable:
        index = np.asarray(usable)[rng.integers(0, len(usable), size=n)]
        spans = np.array([len(noises[i]) - clip_samples + 1 for i in index])
        offset = (rng.random(n) * spans).astype(np.int64)
    else:
        gains = np.zeros(n)
    return AugmentParams(shifts, index, offset, gains.astype(np.float32))


def apply(waveforms: np.ndarray, noises: list[np.ndarray], params: AugmentParams) -> np.ndarray:
    """Applies drawn augmentation to float32 [N, S] clips; returns a new array clipped to [-1, 1]."""
    n, length = waveforms.shape
    source = np.arange(length)[None, :] - params.shifts[:, None]
    inside = (source >= 0) & (source < length)
    out = np.take_along_axis(waveforms, np.clip(source, 0, length - 1), axis=1) * inside
    for row in np.flatnonzero(params.noise_gain):
        start = params.noise_offset[row]
        out[row] += params.noise_gain[row] * noises[params.noise_index[row]][start : start + length]
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def augment(waveforms: np.ndarray, noises: list[np.ndarray], rng: np.random.Generator,
            config: AugmentConfig = AugmentConfig(), sample_rate: int = 16000) -> np.ndarray:
    """Draws and applies augmentation to a whole batch at once."""
    params = draw_params(len(waveforms), waveforms.shape[1], noises, rng, config, sample_rate)
    return apply(waveforms, noises, params)
