"""The MFCC front end in pure torch, and the int8 form the board's firmware reproduces.

One clip goes through: frames of ``window_samples`` every ``stride_samples`` with no padding
(``center=False``; 49 frames for the defaults) → periodic Hann window, zero-padded to ``n_fft`` →
power spectrum ``|rfft|²`` → triangular mel filterbank (HTK mel scale, the construction of
TensorFlow's ``linear_to_mel_weight_matrix`` that Hello Edge used) → ``ln(mel + log_floor)`` →
orthonormal DCT-II, keeping ``n_mfcc`` coefficients. With ``decimation`` 2 the clip first goes
through the integer 2:1 decimator (:mod:`nas.data.decimate`) and all of the above runs at half the
rate (window, stride and n_fft halved: the same bins).

The firmware's C MFCC is generated from :func:`frontend_tables` (float32) and computes the same
function; this module computes it in float64 up to the log, so it equals the specification to
< 1e-5, and the board's float32 arithmetic stays far inside one int8 step of it.
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from nas.data.decimate import decimate as decimate_float
from nas.data.frontend_config import FrontEndConfig
from nas.errors import DataError

# Clips per internal chunk: keeps the float64 [chunk, T, n_fft] frames near L2 size (measured on
# one core: 4 clips ≈ 6,000 clips/s, 16 clips ≈ 3,700) and bounds memory for whole-dataset batches.
_CHUNK_CLIPS = 4


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale, written as TensorFlow writes it: 1127 · ln(1 + f / 700)."""
    return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)


def mel_filterbank(config: FrontEndConfig) -> np.ndarray:
    """Triangular filters [n_fft//2 + 1, n_mels] (float64), TF ``linear_to_mel_weight_matrix`` style.

    Band edges are ``n_mels + 2`` points evenly spaced in mel between fmin_hz and fmax_hz; each
    FFT bin's weight is the triangle evaluated at the bin's mel value (no area normalisation). The
    DC bin (mel 0, never above the lowest edge) gets no weight, as TF's ``bands_to_zero=1`` says.
    """
    n_bins = config.n_fft // 2 + 1
    bin_mel = hz_to_mel(np.linspace(0.0, config.fft_sample_rate / 2, n_bins))
    edges = np.linspace(hz_to_mel(config.fmin_hz), hz_to_mel(config.fmax_hz), config.n_mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bin_mel[:, None] - lower) / (center - lower)
    falling = (upper - bin_mel[:, None]) / (upper - center)
    return np.maximum(0.0, np.minimum(rising, falling))


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II as a [n_in, n_out] matrix: ``coeffs = x @ dct_matrix``."""
    n = np.arange(n_in)[:, None]
    k = np.arange(n_out)[None, :]
    basis = np.cos(np.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    basis[:, 0] /= math.sqrt(2.0)
    return basis


def frontend_tables(config: FrontEndConfig, dtype: type = np.float32) -> dict[str, np.ndarray]:
    """The tables that define the front end; the firmware's C MFCC is generated from the float32 ones.

    Returns:
        ``window`` [fft_window_samples] (periodic Hann), ``mel_filterbank`` [n_fft//2 + 1, n_mels],
        ``dct`` [n_mels, n_mfcc].
    """
    n = np.arange(config.fft_window_samples)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / config.fft_window_samples)
    return {
        "window": window.astype(dtype),
        "mel_filterbank": mel_filterbank(config).astype(dtype),
        "dct": dct_matrix(config.n_mels, config.n_mfcc).astype(dtype),
    }


def round_half_away(x: torch.Tensor) -> torch.Tensor:
    """Round to nearest, ties away from zero: exactly C's ``roundf``.

    ``x - trunc(x)`` is exact in floating point, so ties are detected exactly (unlike
    ``floor(x + 0.5)``, which rounds 0.49999997 up in float32).
    """
    whole = torch.trunc(x)
    return whole + torch.sign(x) * ((x - whole).abs() >= 0.5)


class MfccFrontEnd(torch.nn.Module):
    """Batched MFCC: float waveforms [B, N] in [-1, 1] → float32 MFCC [B, T, n_mfcc].

    T is ``config.num_frames`` for clips of ``config.clip_samples``; other lengths give
    ``1 + (N - window_samples) // stride_samples`` frames.

    Example:
        >>> fe = MfccFrontEnd(FrontEndConfig())
        >>> fe(torch.zeros(2, 16000)).shape
        torch.Size([2, 49, 10])
    """

    def __init__(self, config: FrontEndConfig | None = None) -> None:
        super().__init__()
        self.config = config or FrontEndConfig()
        # The spectrum is computed in float64: a float32 FFT's round-off, which scales with the
        # frame's loudest band, moved near-floor mel energies of 3 of 2,351 real clips by up to
        # 1.5e-4 in the MFCC; float64 keeps every clip < 4e-6 for about 2x the FFT time.
        tables = frontend_tables(self.config, np.float64)
        filterbank = tables["mel_filterbank"]
        # Only bins some filter weighs go further (bins 2..255 of 513 for the defaults).
        used = np.flatnonzero(filterbank.any(axis=1))
        self._first_bin, self._end_bin = int(used[0]), int(used[-1]) + 1
        self.register_buffer("window", torch.from_numpy(tables["window"]))
        self.register_buffer("filterbank", torch.from_numpy(filterbank[self._first_bin : self._end_bin]))
        self.register_buffer("dct", torch.from_numpy(tables["dct"]))

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        if waveforms.ndim != 2 or waveforms.shape[1] < cfg.window_samples:
            raise DataError(
                f"MFCC front end: expected waveforms [batch, samples >= {cfg.window_samples}], "
                f"got shape {tuple(waveforms.shape)}"
            )
        num_frames = 1 + (waveforms.shape[1] - cfg.window_samples) // cfg.stride_samples
        return self._run(waveforms, num_frames, cfg.decimation == 2)

    def at_fft_rate(self, samples: torch.Tensor, num_frames: int) -> torch.Tensor:
        """The first ``num_frames`` frames of float samples [B, N] already at ``fft_sample_rate`` (the
        decimator's output, from the recording's start): what the streaming front end computes."""
        return self._run(samples, num_frames, False)

    def _run(self, waveforms: torch.Tensor, num_frames: int, decimate: bool) -> torch.Tensor:
        out = torch.empty(waveforms.shape[0], num_frames, self.config.n_mfcc, device=waveforms.device)
        # One Python thread per core, each running single-threaded-sized ops on its own slice:
        # measured ~10x faster than torch's OpenMP threads on the shared 2-core machine, where
        # OpenMP's spinning threads thrash (torch ops release the GIL).
        num_chunks = -(-waveforms.shape[0] // _CHUNK_CLIPS)
        workers = max(1, min(torch.get_num_threads(), num_chunks))
        bounds = np.linspace(0, num_chunks, workers + 1).astype(int) * _CHUNK_CLIPS
        parts = [(waveforms[a:b], out[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
        if workers == 1:
            self._mfcc_into(*parts[0], decimate)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(lambda part: self._mfcc_into(*part, decimate), parts))
        return out

    def _mfcc_into(self, waveforms: torch.Tensor, out: torch.Tensor, decimate: bool) -> None:
        # Windowed frames go into a zeroed n_fft buffer whose tail stays zero: rfft on a contiguous,
        # pre-padded input is measured ~3x faster than letting rfft(n=n_fft) pad a strided view.
        shape = (min(_CHUNK_CLIPS, len(waveforms)), out.shape[1], self.config.n_fft)
        padded = torch.zeros(shape, dtype=torch.float64, device=waveforms.device)
        # Grad and inference modes are per thread: inference mode here works whatever the caller's.
        with torch.inference_mode():
            for start in range(0, len(waveforms), _CHUNK_CLIPS):
                chunk = waveforms[start : start + _CHUNK_CLIPS]
                if decimate:  # chunk by chunk: int64 copies of whole-dataset batches would not fit
                    chunk = decimate_float(chunk)
                out[start : start + len(chunk)] = self._mfcc(chunk, padded[: len(chunk)])

    def _mfcc(self, waveforms: torch.Tensor, padded: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        # At most the frames asked for: a decimated odd-length input can hold one more.
        frames = waveforms.unfold(1, cfg.fft_window_samples, cfg.fft_stride_samples)[:, : padded.shape[1]]
        torch.mul(frames, self.window, out=padded[..., : cfg.fft_window_samples])
        spectrum = torch.fft.rfft(padded)[..., self._first_bin : self._end_bin]
        power = spectrum.real.square() + spectrum.imag.square()
        log_mel = torch.log(power @ self.filterbank + cfg.log_floor)
        return (log_mel @ self.dct).float()

    def quantize_int8(self, mfcc: torch.Tensor) -> torch.Tensor:
        """int8 features as the board computes them.

        ``q = clamp(round_half_away(mfcc * 2**int8_frac_bits), -128, 127)``; in C:
        ``(int8_t)fminf(127.f, fmaxf(-128.f, roundf(mfcc * (float)(1 << frac_bits))))``.
        Scaling by a power of two is exact, so only the MFCC's own float rounding can differ.
        """
        scaled = mfcc.to(torch.float32) * float(2**self.config.int8_frac_bits)
        return round_half_away(scaled).clamp_(-128, 127).to(torch.int8)

    def dequantize_int8(self, quantized: torch.Tensor) -> torch.Tensor:
        """float32 values of int8 features: ``q / 2**int8_frac_bits``."""
        return quantized.to(torch.float32) / float(2**self.config.int8_frac_bits)

    def features(self, waveforms: torch.Tensor) -> torch.Tensor:
        """What models train on: the MFCC passed through the board's int8 form and back."""
        return self.dequantize_int8(self.quantize_int8(self(waveforms)))
