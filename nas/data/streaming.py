"""The streaming front end: audio in chunks of any length → int8 feature frames, each computed once.

The Python twin of firmware/src/fe_stream.c. Frames start every ``stride_samples`` from the first
sample pushed; a frame is computed as soon as its window is complete, with the batch front end
(:class:`~nas.data.frontend.MfccFrontEnd`, the function training uses) on just the new windows, so
the frames equal the batch front end's on the whole recording frame for frame. An always-on
detector asks for :meth:`StreamingFrontEnd.features` after each chunk: the last ``num_frames``
frames, the model's input.

Example:
    >>> fe = StreamingFrontEnd()
    >>> fe.push(np.zeros(16000, np.int16)).shape   # one second: 49 frames
    (49, 10)
    >>> fe.push(np.zeros(1600, np.int16)).shape    # 100 ms more: 5 new frames
    (5, 10)
    >>> fe.features().shape
    (49, 10)
"""
from __future__ import annotations

import numpy as np
import torch

from nas.data.decimate import StreamDecimator, to_pcm
from nas.data.frontend import MfccFrontEnd
from nas.data.frontend_config import FrontEndConfig
from nas.errors import ConfigError, DataError


def new_frames_per_inference(config: FrontEndConfig, hop_ms: float) -> int:
    """Frames that are new at each inference of an always-on spotter with an inference every ``hop_ms``
    (5 at 100 ms, 10 inferences/s, and a 20 ms stride): the one check of an inference hop, for the
    host's stream and the board's alike. ConfigError unless the hop is a whole number of strides,
    1 to the model's input frames."""
    hop = hop_ms * config.sample_rate / 1000
    frames = round(hop / config.stride_samples)
    if frames < 1 or abs(frames * config.stride_samples - hop) > 1e-6:
        raise ConfigError(f"an inference every {hop_ms:g} ms: expected a positive multiple of the front end's "
                          f"{config.stride_ms:g} ms stride ({config.stride_samples}-sample strides)")
    if frames > config.num_frames:
        raise ConfigError(f"an inference every {hop_ms:g} ms: {frames} new frames per inference exceed the "
                          f"{config.num_frames} frames of the model's input")
    return frames


def rate_hop_ms(rate_hz: float) -> float:
    """The hop between inferences at ``rate_hz`` inferences per second (ConfigError unless > 0)."""
    if not rate_hz > 0:
        raise ConfigError(f"inference rate: expected > 0 per second, got {rate_hz:g}")
    return 1000.0 / rate_hz


def pcm_to_float(samples: np.ndarray) -> np.ndarray:
    """int16 PCM → float32 in [-1, 1) (divided by 32768, as the board's window table does);
    float input is taken as already in that range."""
    samples = np.asarray(samples)
    if samples.ndim != 1:
        raise DataError(f"streaming front end: expected a 1-D chunk of samples, got shape {samples.shape}")
    if samples.dtype == np.int16:
        return samples.astype(np.float32) / np.float32(32768.0)
    if samples.dtype.kind != "f":
        raise DataError(f"streaming front end: expected int16 PCM or float samples, got dtype {samples.dtype}")
    return samples.astype(np.float32, copy=False)


class StreamingFrontEnd:
    """Ring buffers of audio and of int8 frames; ``push`` returns the frames a chunk completes.

    With ``decimation`` 2 the audio goes through the decimator as it arrives (state carried from
    chunk to chunk), and the buffer holds the decimated samples, as on the board.
    """

    def __init__(self, config: FrontEndConfig | None = None) -> None:
        self.front_end = MfccFrontEnd(config)
        self.config = self.front_end.config
        self._decimator = StreamDecimator() if self.config.decimation == 2 else None
        self.reset()

    def reset(self) -> None:
        # Input samples pushed, the first input sample of the next frame, and the audio at the FFT
        # rate from its index _audio_start on.
        self._pushed = self._next_start = self._audio_start = 0
        self._audio = np.zeros(0, np.float32)
        if self._decimator is not None:
            self._decimator.reset()
        self._frames = np.zeros((self.config.num_frames, self.config.n_mfcc), np.int8)
        self._next_slot = 0
        self.frames_done = 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Appends a chunk; returns the new frames [n_new, n_mfcc] int8, oldest first."""
        cfg = self.config
        chunk = pcm_to_float(samples)
        self._pushed += len(chunk)
        if self._decimator is not None:
            chunk = (self._decimator.push(to_pcm(torch.from_numpy(chunk))).numpy() / 32768.0).astype(np.float32)
        self._audio = np.concatenate([self._audio, chunk])
        # Frames complete by input samples, as in batch: frame f needs inputs up to f·stride + window.
        ready = self._pushed - self._next_start - cfg.window_samples
        if ready < 0:
            return np.zeros((0, cfg.n_mfcc), np.int8)
        n_new = 1 + ready // cfg.stride_samples
        first = self._next_start // cfg.decimation - self._audio_start
        span = (n_new - 1) * cfg.fft_stride_samples + cfg.fft_window_samples
        waveform = torch.from_numpy(self._audio[first : first + span].copy())[None]
        new = self.front_end.quantize_int8(self.front_end.at_fft_rate(waveform, n_new))[0].numpy()
        self._next_start += n_new * cfg.stride_samples
        # Everything before the next frame (past a long stride's gap, samples not yet here stay).
        drop = min(self._next_start // cfg.decimation - self._audio_start, len(self._audio))
        self._audio = self._audio[drop:]
        self._audio_start += drop
        self._store(new)
        return new

    def _store(self, new: np.ndarray) -> None:
        slots = (self._next_slot + np.arange(len(new))) % self.config.num_frames
        # Only the last num_frames of a long chunk survive, as in the board's ring.
        self._frames[slots[-self.config.num_frames :]] = new[-self.config.num_frames :]
        self._next_slot = int(slots[-1] + 1) % self.config.num_frames
        self.frames_done += len(new)

    def features(self) -> np.ndarray | None:
        """The last ``num_frames`` frames [num_frames, n_mfcc] int8, oldest first; None before there
        are that many."""
        if self.frames_done < self.config.num_frames:
            return None
        return np.roll(self._frames, -self._next_slot, axis=0)
