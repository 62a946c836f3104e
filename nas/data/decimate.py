"""The front end's 2:1 decimator (``FrontEndConfig.decimation = 2``), exact in integers.

A causal, linear-phase half-band FIR low-pass of ``TAPS`` taps in Q15 over int16 samples: output n
is ``sat16((sum_k h[k] x[2n - k] + 2^14) >> 15)`` with x = 0 before the recording's first sample, so
it uses inputs <= 2n only, and the firmware's C (firmware/src/fe_decimate.c, integer multiply-adds
into an int32) gives the same int16 samples bit for bit. Every other tap but the centre one
(1/2) is 0: 6 symmetric pairs and the centre, 13 multiplies per output.

Response of the Q15 taps (:func:`response_db`): within ±0.14 dB up to 3.4 kHz, -1.1 dB at 3.6 kHz,
-6 dB at 4 kHz (the half band), <= -36 dB from 4.6 kHz, so what aliases into 0..4 kHz from above
is at least 36 dB down except in the top mel band's last 600 Hz. Delay: 11 input samples (0.69 ms).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from nas.data.wav import to_pcm16

TAPS = 23
PASS_EDGE = 0.2125  # 3.4 kHz at 16 kHz, as a fraction of the rate; the stop band is mirrored about 1/4
ROUND = 1 << 14


@lru_cache(maxsize=1)
def halfband_taps() -> np.ndarray:
    """[TAPS] int64 Q15 taps: an equiripple (Parks-McClellan) half band with its zero taps forced to
    0, the centre 2^14 and the others rounded (forcing the DC gain to exactly 1 instead moved the
    stop band from -36 to -30 dB)."""
    from scipy.signal import remez

    h = remez(TAPS, [0, PASS_EDGE, 0.5 - PASS_EDGE, 0.5], [1, 0], fs=1.0)
    centre = TAPS // 2
    offset = np.arange(TAPS) - centre
    q = np.where(offset % 2 == 1, np.round(h * 32768), 0).astype(np.int64)  # odd offsets (both sides)
    q[centre] = ROUND
    assert np.array_equal(q, q[::-1])
    # |acc| stays below 2^31: the C accumulates in an int32.
    assert np.abs(q).sum() * 32768 + ROUND < 2**31
    return q


def response_db(freqs_hz: np.ndarray, sample_rate: int = 16000) -> np.ndarray:
    """The Q15 filter's gain in dB at ``freqs_hz`` (for documentation and tests)."""
    h = halfband_taps() / 32768.0
    phase = np.exp(-2j * np.pi * np.outer(np.asarray(freqs_hz) / sample_rate, np.arange(TAPS)))
    return 20 * np.log10(np.abs(phase @ h) + 1e-300)


def to_pcm(waveforms: torch.Tensor) -> torch.Tensor:
    """float samples in [-1, 1) → int16 values as int64 on the CPU (:func:`nas.data.wav.to_pcm16`): exact
    for samples that came from int16 PCM, the board's input."""
    return torch.from_numpy(to_pcm16(waveforms.detach().cpu().numpy()).astype(np.int64))


def decimate_pcm(pcm: torch.Tensor, history: torch.Tensor | None = None) -> torch.Tensor:
    """int16-valued int64 [B, N] → [B, ceil(N / 2)]: outputs at inputs 0, 2, 4, ... of ``pcm``.

    ``history`` [B, TAPS - 1] are the inputs just before ``pcm`` (zeros, the recording's start, when
    None).
    """
    taps = halfband_taps()
    if history is None:
        history = pcm.new_zeros(pcm.shape[0], TAPS - 1)
    x = torch.cat([history, pcm], dim=1)
    n_out = (pcm.shape[1] + 1) // 2
    acc = torch.full((pcm.shape[0], n_out), ROUND, dtype=torch.int64, device=pcm.device)
    for k in np.flatnonzero(taps):
        start = TAPS - 1 - k  # input 2n - k of pcm is x[TAPS - 1 + 2n - k]
        acc += int(taps[k]) * x[:, start : start + 2 * n_out - 1 : 2]
    return (acc >> 15).clamp_(-32768, 32767)


def decimate(waveforms: torch.Tensor) -> torch.Tensor:
    """float waveforms [B, N] (from the recording's start) → float32 [B, ceil(N / 2)] at half the rate."""
    return (decimate_pcm(to_pcm(waveforms)).to(torch.float32) / 32768.0).to(waveforms.device)


class StreamDecimator:
    """The decimator over chunks of any length: the outputs equal :func:`decimate_pcm` on the whole
    recording (the last TAPS inputs and the parity of the inputs pushed are its state)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._history = torch.zeros(1, TAPS, dtype=torch.int64)
        self._pushed = 0

    def push(self, pcm: torch.Tensor) -> torch.Tensor:
        """int16-valued int64 [N] → the new outputs, int64 [M] (inputs at even positions of the stream)."""
        x = torch.cat([self._history, pcm[None]], dim=1)
        # When the first new input is at an odd position, start at the (even) one before it and drop
        # that output, pushed before.
        skip = self._pushed % 2
        out = decimate_pcm(x[:, TAPS - skip :], x[:, 1 - skip : TAPS - skip])[0][skip:]
        self._history = x[:, -TAPS:]
        self._pushed += len(pcm)
        return out
