"""Speaker variation applied after synthesis: what a synthesizer's few voices lack.

A synthesizer has a handful of vocal tracts; people have many. `speaker_variation` resamples the
speech (speed perturbation, as in Ko et al., "Audio augmentation for speech recognition", Interspeech
2015: tempo, pitch and formants move together) and then warps its spectrum's frequency axis (vocal-tract
length perturbation, Jaitly & Hinton, ICML workshop 2013: formants move, pitch and tempo stay).
A decaying-noise room (RT60 0.1-0.7 s on half the clips) was screened by bench_real_speech and did not
help on real speech (README), so it is not here.
"""
from __future__ import annotations

import numpy as np

SPEED_RANGE = (0.85, 1.15)  # speed factors of Ko et al. are 0.9, 1.0, 1.1; a little wider for more speakers
WARP_RANGE = (0.88, 1.12)  # vocal-tract length warp factors (Jaitly & Hinton use 0.9..1.1)


def speed(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` played ``factor`` times faster (shorter, higher pitch and formants), by linear interpolation."""
    n = max(2, int(round(len(x) / factor)))
    return np.interp(np.arange(n) * factor, np.arange(len(x)), x).astype(np.float32)


def vtl_warp(x: np.ndarray, alpha: float, nperseg: int = 512) -> np.ndarray:
    """Moves formants by ``alpha`` (> 1: a shorter vocal tract) keeping pitch period and length.

    The short-time spectrum's bin k takes the value of bin k / alpha (linear interpolation of the
    complex values); the pitch harmonics blur a little, the envelope moves.
    """
    from scipy.signal import istft, stft

    _, _, spec = stft(x, nperseg=nperseg, noverlap=nperseg * 3 // 4)
    bins = np.arange(spec.shape[0])
    source = bins / alpha
    lo = np.clip(np.floor(source).astype(int), 0, len(bins) - 1)
    hi = np.clip(lo + 1, 0, len(bins) - 1)
    frac = (source - lo)[:, None]
    warped = (1 - frac) * spec[lo] + frac * spec[hi]
    warped[source > len(bins) - 1] = 0.0
    _, y = istft(warped, nperseg=nperseg, noverlap=nperseg * 3 // 4)
    return y[: len(x)].astype(np.float32)


def speaker_variation(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random new speaker from one synthesized utterance: a speed factor and a warp factor."""
    return vtl_warp(speed(x, rng.uniform(*SPEED_RANGE)), rng.uniform(*WARP_RANGE))

