"""Hostile wav files of issue 11, written by independent writers (scipy, raw header bytes)."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import scipy.io.wavfile


def write_nan_wav(path: Path, seconds: float = 1.0) -> Path:
    """A float32 wav whose samples are a tone with a stretch of NaN and one infinity."""
    samples = (0.3 * np.sin(np.arange(int(16000 * seconds)) / 5.0)).astype(np.float32)
    samples[4000:4100] = np.nan
    samples[9000] = np.inf
    scipy.io.wavfile.write(path, 16000, samples)
    return path


def write_wav_claiming_rate(path: Path, rate: int) -> Path:
    """One second of 16-bit PCM tone whose header claims ``rate`` Hz (4 GHz: a damaged header)."""
    pcm = (0.3 * np.sin(np.arange(16000) / 5.0) * 32767).astype("<i2").tobytes()
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, rate,
                         min(2 * rate, 2**32 - 1), 2, 16, b"data", len(pcm))
    path.write_bytes(header + pcm)
    return path


def write_long_wav(path: Path, seconds: float) -> Path:
    """16 kHz 16-bit noise of ``seconds`` seconds (a recording session, not a one-word clip)."""
    noise = np.random.default_rng(0).normal(0, 3000, int(16000 * seconds)).clip(-32768, 32767)
    scipy.io.wavfile.write(path, 16000, noise.astype(np.int16))
    return path
