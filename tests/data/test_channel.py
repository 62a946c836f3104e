"""Microphone colouring: band limits, reproducibility, length and clipping."""
from __future__ import annotations

import numpy as np

from nas.data import channel
from nas.data.channel import colour, response

RATE = 16000


def test_response_keeps_speech_band_and_cuts_the_edges():
    freqs = np.array([20.0, 1000.0, 7990.0])
    for seed in range(50):
        low, mid, high = response(freqs, np.random.default_rng(seed))
        assert low < 0.3 * mid  # 20 Hz is below every high-pass corner (60-300 Hz)
        assert 10 ** (-9 / 20) / 2 < mid < 10 ** (9 / 20) * 2  # 1 kHz: tilt is 0 there, peaks at most ±8 dB


def test_colour_is_reproducible_and_keeps_the_length():
    x = np.random.default_rng(0).standard_normal(12345).astype(np.float32)
    a, b = colour(x, np.random.default_rng(3)), colour(x, np.random.default_rng(3))
    c = colour(x, np.random.default_rng(4))
    assert a.dtype == np.float32 and len(a) == len(x) and np.array_equal(a, b) and not np.allclose(a, c)


def test_a_low_tone_is_removed_and_a_mid_tone_passes():
    t = np.arange(RATE) / RATE
    hum, voice = np.sin(2 * np.pi * 30 * t), np.sin(2 * np.pi * 1000 * t)
    rng = np.random.default_rng(1)
    assert np.std(colour(hum, rng)) < 0.25 * np.std(hum)
    assert 0.25 * np.std(voice) < np.std(colour(voice, np.random.default_rng(1))) < 4 * np.std(voice)


def test_soft_clipping_flattens_peaks(monkeypatch):
    monkeypatch.setattr(channel, "CLIP_SHARE", 1.0)
    monkeypatch.setattr(channel, "PEAKS", (0, 0))
    monkeypatch.setattr(channel, "TILT_DB_PER_OCTAVE", (0.0, 0.0))
    t = np.arange(RATE) / RATE
    y = colour(np.sin(2 * np.pi * 1000 * t), np.random.default_rng(0))
    crest = np.abs(y).max() / np.sqrt(np.mean(y**2))
    assert crest < np.sqrt(2) * 0.95  # a clipped sine is squarer: its crest factor falls below √2
