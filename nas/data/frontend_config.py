"""The one front-end specification shared by training, the cost model and the firmware.

Defaults are Hello Edge's (Zhang et al. 2017, ML-KWS-for-MCU): 16 kHz, 40 ms window, 20 ms stride,
40 mel bins between 20 and 4000 Hz, 10 MFCCs → 49 × 10 features for a one-second clip.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from nas.errors import ConfigError, from_known_fields


@dataclass(frozen=True)
class FrontEndConfig:
    sample_rate: int = 16000
    clip_ms: float = 1000.0
    window_ms: float = 40.0
    stride_ms: float = 20.0
    n_mels: int = 40
    fmin_hz: float = 20.0
    fmax_hz: float = 4000.0
    log_floor: float = 1e-6  # added to mel energies before the natural log
    n_mfcc: int = 10
    # int8 features for the board: q = clamp(round_half_away(mfcc * 2**frac_bits), -128, 127).
    # 0, measured on 2,351 real Speech Commands clips: c0 spans [-87.4, 37.9] (-87.4 = sqrt(40)·ln(1e-6),
    # the floor of a silent frame), so nothing saturates; 1 saturated 12 % of c0 values (1.3 % of all).
    int8_frac_bits: int = 0
    # 2: a 2:1 integer low-pass decimator (nas/data/decimate.py) first, so the STFT runs at
    # sample_rate / 2 with half the FFT (the filterbank stops at fmax <= a quarter of the rate); the
    # bins keep their spacing. 1: the STFT at sample_rate (Hello Edge's front end).
    decimation: int = 1

    def __post_init__(self) -> None:
        for name in ("sample_rate", "n_mels", "n_mfcc"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"front end: {name} must be > 0, got {getattr(self, name)}")
        for name in ("clip_ms", "window_ms", "stride_ms"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"front end: {name} must be > 0 ms, got {getattr(self, name)}")
        if self.window_ms > self.clip_ms:
            raise ConfigError(f"front end: window_ms {self.window_ms} exceeds clip_ms {self.clip_ms}")
        if self.n_mfcc > self.n_mels:
            raise ConfigError(f"front end: n_mfcc {self.n_mfcc} exceeds n_mels {self.n_mels}")
        if not 0 <= self.fmin_hz < self.fmax_hz <= self.sample_rate / 2:
            raise ConfigError(
                f"front end: need 0 <= fmin_hz < fmax_hz <= sample_rate/2, got {self.fmin_hz}, {self.fmax_hz}"
            )

        if self.decimation not in (1, 2):
            raise ConfigError(f"front end: decimation must be 1 or 2, got {self.decimation!r}")
        if self.decimation == 2:
            if self.fmax_hz > self.sample_rate / 4:
                raise ConfigError(f"front end: decimation 2 needs fmax_hz <= sample_rate/4 = {self.sample_rate / 4:g}, "
                                  f"got {self.fmax_hz:g}")
            if self.window_samples % 2 or self.stride_samples % 2:
                raise ConfigError(f"front end: decimation 2 needs an even window and stride in samples, got "
                                  f"{self.window_samples} and {self.stride_samples}")

    @property
    def clip_samples(self) -> int:
        return round(self.sample_rate * self.clip_ms / 1000)

    @property
    def window_samples(self) -> int:
        return round(self.sample_rate * self.window_ms / 1000)

    @property
    def stride_samples(self) -> int:
        return round(self.sample_rate * self.stride_ms / 1000)

    @property
    def fft_sample_rate(self) -> int:
        """The rate the STFT runs at: sample_rate / decimation."""
        return self.sample_rate // self.decimation

    @property
    def fft_window_samples(self) -> int:
        """One window in samples at fft_sample_rate (640, or 320 with decimation 2)."""
        return self.window_samples // self.decimation

    @property
    def fft_stride_samples(self) -> int:
        return self.stride_samples // self.decimation

    @property
    def n_fft(self) -> int:
        """The smallest power of two holding one window at fft_sample_rate (640 samples → 1024;
        320 → 512 with decimation 2: the same 15.625 Hz bins)."""
        return 1 << (self.fft_window_samples - 1).bit_length()

    @property
    def num_frames(self) -> int:
        """Frames without padding, as TensorFlow's audio_spectrogram counts them (49 for the defaults)."""
        return 1 + (self.clip_samples - self.window_samples) // self.stride_samples

    @property
    def input_shape(self) -> tuple[int, int]:
        """(time frames, coefficients): the shape every model receives per clip."""
        return (self.num_frames, self.n_mfcc)

    def to_dict(self) -> dict:
        """The fields; decimation only when it is not 1, so the default front end keeps its fingerprint
        (feature caches, firmware builds, model metadata made before the field existed)."""
        data = asdict(self)
        if self.decimation == 1:
            del data["decimation"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "FrontEndConfig":
        return from_known_fields(cls, data, "front end")

    def fingerprint(self) -> str:
        return hashlib.sha1(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]
