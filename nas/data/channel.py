"""Microphone and channel colouring of one clip: what a phone, laptop or cheap headset does to speech.

One random response per clip, applied in the frequency domain (zero phase): a high-pass (60-300 Hz) and a
low-pass (3.4-8 kHz, telephone to full band) with Butterworth-like slopes, a spectral tilt, and a few
peaking bumps or dips (the resonances of a small capsule and its housing); then, on a few clips, soft
clipping (an input driven too hard).
"""
from __future__ import annotations

import numpy as np

HIGH_PASS_HZ = (60.0, 300.0)
LOW_PASS_HZ = (3400.0, 8000.0)
TILT_DB_PER_OCTAVE = (-3.0, 3.0)  # around 1 kHz
PEAKS = (0, 3)  # peaking bumps per clip (inclusive)
PEAK_DB = (-8.0, 8.0)
PEAK_OCTAVES = (0.3, 1.0)  # bandwidth
CLIP_SHARE = 0.05  # clips soft-clipped
CLIP_DRIVE = (2.0, 6.0)


def response(freqs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random microphone's magnitude response at ``freqs`` (Hz)."""
    f = np.maximum(freqs, 1.0)
    high_pass, low_pass = rng.uniform(*HIGH_PASS_HZ), rng.uniform(*LOW_PASS_HZ)
    gain = 1.0 / np.sqrt(1.0 + (high_pass / f) ** 4) / np.sqrt(1.0 + (f / low_pass) ** 8)
    octaves = np.log2(f / 1000.0)
    db = rng.uniform(*TILT_DB_PER_OCTAVE) * octaves
    for _ in range(int(rng.integers(PEAKS[0], PEAKS[1] + 1))):
        centre = np.log2(rng.uniform(300.0, 6000.0) / 1000.0)
        width = rng.uniform(*PEAK_OCTAVES)
        db = db + rng.uniform(*PEAK_DB) * np.exp(-0.5 * ((octaves - centre) / (width / 2)) ** 2)
    return gain * 10 ** (db / 20)


def colour(x: np.ndarray, rng: np.random.Generator, rate: int = 16000) -> np.ndarray:
    """``x`` through one random microphone, soft-clipped on ``CLIP_SHARE`` of calls; same length, float32."""
    n = len(x)
    size = 1 << int(np.ceil(np.log2(max(n, 2) * 2)))  # zero padding: the circular filter does not wrap
    spectrum = np.fft.rfft(x, size) * response(np.fft.rfftfreq(size, 1.0 / rate), rng)
    y = np.fft.irfft(spectrum, size)[:n]
    if rng.random() < CLIP_SHARE:
        peak = max(float(np.abs(y).max()), 1e-9)
        drive = rng.uniform(*CLIP_DRIVE)
        y = np.tanh(drive * y / peak) * peak / np.tanh(drive)
    return y.astype(np.float32)
