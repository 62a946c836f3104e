"""The integer 2:1 decimator: an independent float64 filter gives the same samples, chunked streaming
gives the whole recording's, and its response is the documented low-pass."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch

from nas.data.decimate import TAPS, StreamDecimator, decimate, decimate_pcm, halfband_taps, response_db


def reference(pcm: np.ndarray) -> np.ndarray:
    # lfilter in float64 is exact here (|sum| < 2^31 << 2^53); floor division is the C's >> 15
    acc = scipy.signal.lfilter(halfband_taps().astype(np.float64), [1.0], pcm.astype(np.float64))[::2]
    return np.clip(np.floor((acc + 2**14) / 2**15), -32768, 32767).astype(np.int64)


@pytest.mark.parametrize("n", [1, 2, 22, 23, 1001, 16000])
def test_decimator_equals_an_independent_filter(n):
    rng = np.random.default_rng(n)
    pcm = rng.integers(-32768, 32768, n)
    pcm[: n // 3] = np.where(np.arange(n // 3) % 10 < 5, 32767, -32768)  # a square wave overshoots: saturation
    out = decimate_pcm(torch.from_numpy(pcm)[None])[0].numpy()
    np.testing.assert_array_equal(out, reference(pcm))
    if n >= 1001:
        assert out.max() == 32767 and out.min() == -32768


def test_stream_decimator_equals_the_whole_recording_for_any_chunks():
    pcm = torch.from_numpy(np.random.default_rng(2).integers(-32768, 32768, 5000))
    whole = decimate_pcm(pcm[None])[0]
    for sizes in ([1], [3, 1, 22, 50], [23, 24], [999]):
        stream, parts, at, i = StreamDecimator(), [], 0, 0
        while at < len(pcm):
            parts.append(stream.push(pcm[at : at + sizes[i % len(sizes)]]))
            at, i = at + sizes[i % len(sizes)], i + 1
        torch.testing.assert_close(torch.cat(parts), whole, rtol=0, atol=0)


def test_taps_are_a_symmetric_q15_half_band():
    h = halfband_taps()
    assert len(h) == TAPS and np.array_equal(h, h[::-1]) and h[TAPS // 2] == 2**14
    offsets = np.arange(TAPS) - TAPS // 2
    assert not h[(offsets % 2 == 0) & (offsets != 0)].any()
    assert np.abs(h).sum() * 32768 + 2**14 < 2**31  # the C's int32 accumulator cannot overflow


def test_response_passes_speech_and_stops_what_would_alias():
    f = np.arange(0, 8001, 10.0)
    gain = response_db(f)
    assert np.abs(gain[f <= 3400]).max() < 0.15
    assert abs(response_db(np.array([4000.0]))[0] + 6.02) < 0.05  # the half band's midpoint
    assert gain[f >= 4600].max() < -35


def test_float_decimate_is_the_integer_one_scaled():
    pcm = np.random.default_rng(1).integers(-32768, 32768, 1000)
    out = decimate(torch.from_numpy(pcm.astype(np.float32) / 32768)[None])
    np.testing.assert_array_equal(out[0].numpy() * 32768, decimate_pcm(torch.from_numpy(pcm)[None])[0].numpy())
