"""Generated background noise: the `_background_noise_` files of the generated dataset.

Stand-ins for the six recordings of Speech Commands (white, pink, running tap, exercise bike, dishes,
cat): coloured noises plus the hum, fan and babble-like beds a microphone in a room picks up.
"""
from __future__ import annotations

import numpy as np

NOISE_RMS = 0.1  # every bed is scaled to this RMS, so augmentation volume means the same for each


def _shaped(rng: np.random.Generator, n: int, rate: int, exponent: float) -> np.ndarray:
    """Noise with power ∝ 1 / f**exponent (0 white, 1 pink, 2 brown), shaped in the frequency domain."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    spectrum[1:] /= freqs[1:] ** (exponent / 2)
    spectrum[0] = 0.0
    return np.fft.irfft(spectrum, n)


def _band(x: np.ndarray, rate: int, low: float, high: float) -> np.ndarray:
    """Band-limits ``x`` with a brick-wall mask in the frequency domain (cheap on long beds)."""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1.0 / rate)
    spectrum[(freqs < low) | (freqs > high)] = 0.0
    return np.fft.irfft(spectrum, len(x))


def _slow_envelope(rng: np.random.Generator, n: int, rate: int, hz: float) -> np.ndarray:
    """A positive random envelope that changes about ``hz`` times a second."""
    points = rng.uniform(0.1, 1.0, size=int(n / rate * hz) + 2)
    return np.interp(np.arange(n), np.linspace(0, n, len(points)), points)


def make_noise_beds(seed: int, seconds: float, rate: int = 16000) -> dict[str, np.ndarray]:
    """Six noise beds of ``seconds`` each, float32 at RMS ``NOISE_RMS``, reproducible from ``seed``."""
    rng = np.random.default_rng([seed, 5])
    n = int(seconds * rate)
    t = np.arange(n) / rate
    mains = 50.0 if rng.random() < 0.5 else 60.0
    beds = {
        "white_noise": rng.standard_normal(n),
        "pink_noise": _shaped(rng, n, rate, 1.0),
        "brown_noise": _shaped(rng, n, rate, 2.0),
        "mains_hum": sum(np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 2 * np.pi)) / k for k in (1, 2, 3, 5))
        + 0.05 * rng.standard_normal(n),
        "fan": _band(rng.standard_normal(n), rate, 80, 1200) * (1 + 0.3 * np.sin(2 * np.pi * 7.5 * t))
        + 0.3 * np.sin(2 * np.pi * rng.uniform(90, 160) * t),
        # syllable-rate (≈ 4 Hz) modulated speech-band noise: a crowd far away
        "babble": _band(rng.standard_normal(n), rate, 200, 3500) * _slow_envelope(rng, n, rate, 4.0),
    }
    return {name: (x * NOISE_RMS / np.sqrt(np.mean(x**2))).astype(np.float32) for name, x in beds.items()}
