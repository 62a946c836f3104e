"""Speaker variation after synthesis: each moves what it should and nothing else."""
from __future__ import annotations

import numpy as np

from nas.data.voice_fx import speaker_variation, speed, vtl_warp

RATE = 16000


def tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    return np.sin(2 * np.pi * hz * np.arange(int(seconds * RATE)) / RATE).astype(np.float32)


def peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / RATE)[np.argmax(spectrum)])


def test_speed_shortens_and_raises_pitch():
    y = speed(tone(500), 1.1)
    assert len(y) == round(RATE / 1.1)
    assert abs(peak_hz(y) - 550) < 5


def test_vtl_warp_moves_the_spectrum_and_keeps_the_length():
    x = tone(1000)
    y = vtl_warp(x, 1.1)
    assert len(y) == len(x) and np.isfinite(y).all()
    # bins are 31.25 Hz wide: the peak lands within a bin of 1,100 Hz
    assert abs(peak_hz(y[2000:-2000]) - 1100) <= 32
    assert abs(peak_hz(vtl_warp(x, 0.9)[2000:-2000]) - 900) <= 32


def test_speaker_variation_is_reproducible_from_the_generator():
    x = tone(300) * tone(3)
    a = speaker_variation(x, np.random.default_rng(7))
    b = speaker_variation(x, np.random.default_rng(7))
    c = speaker_variation(x, np.random.default_rng(8))
    assert np.array_equal(a, b) and not (len(a) == len(c) and np.allclose(a, c))
