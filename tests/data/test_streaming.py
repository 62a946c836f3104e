"""The streaming front end equals the batch front end frame for frame, whatever the chunk sizes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nas.data.frontend import MfccFrontEnd
from nas.data.frontend_config import FrontEndConfig
from nas.data.streaming import StreamingFrontEnd
from nas.errors import DataError


def recording(seconds: float, seed: int = 0) -> np.ndarray:
    """int16: a chirp, a silent gap and noise bursts, so frames differ from one another."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    wave = 0.3 * np.sin(2 * np.pi * (200 + 600 * t) * t) * (t % 1.0 < 0.6)
    wave += rng.normal(0, 0.02, len(t)) * (t % 0.5 > 0.3)
    return np.round(wave * 32767).astype(np.int16)


def batch_int8(config: FrontEndConfig, pcm: np.ndarray) -> np.ndarray:
    fe = MfccFrontEnd(config)
    return fe.quantize_int8(fe(torch.from_numpy(pcm.astype(np.float32) / 32768.0)[None]))[0].numpy()


def push_in_chunks(stream: StreamingFrontEnd, pcm: np.ndarray, sizes) -> list[np.ndarray]:
    out, at, i = [], 0, 0
    while at < len(pcm):
        size = sizes[i % len(sizes)]
        out.append(stream.push(pcm[at : at + size]))
        at, i = at + size, i + 1
    return out


@pytest.mark.parametrize("decimation", [1, 2])
@pytest.mark.parametrize("sizes", [[1600], [1, 7, 319, 321, 2000], [16000 * 3], [641, 5, 333]],
                         ids=["100ms", "odd-mixed", "whole", "not-stride-multiples"])
def test_streaming_equals_batch_frame_for_frame(sizes, decimation):
    config = FrontEndConfig(decimation=decimation)
    pcm = recording(3.3)
    frames = np.concatenate(push_in_chunks(StreamingFrontEnd(config), pcm, sizes))
    np.testing.assert_array_equal(frames, batch_int8(config, pcm))


def test_features_are_the_last_num_frames_oldest_first():
    config = FrontEndConfig(window_ms=30, stride_ms=10, n_mfcc=13, int8_frac_bits=2)
    pcm = recording(2.5, seed=1)
    stream = StreamingFrontEnd(config)
    assert stream.push(pcm[:8000]).shape[0] == 1 + (8000 - config.window_samples) // config.stride_samples
    assert stream.features() is None  # fewer than num_frames so far
    stream.push(pcm[8000:])
    batch = batch_int8(config, pcm)
    np.testing.assert_array_equal(stream.features(), batch[-config.num_frames :])
    assert stream.frames_done == len(batch)


@pytest.mark.parametrize("decimation", [1, 2])
def test_stride_longer_than_window_skips_samples_as_batch_does(decimation):
    config = FrontEndConfig(window_ms=20, stride_ms=30, decimation=decimation)
    pcm = recording(1.7)
    frames = np.concatenate(push_in_chunks(StreamingFrontEnd(config), pcm, [123, 900]))
    np.testing.assert_array_equal(frames, batch_int8(config, pcm))


def test_float_chunks_equal_int16_chunks():
    pcm = recording(1.2)
    a = StreamingFrontEnd().push(pcm)
    b = StreamingFrontEnd().push(pcm.astype(np.float32) / 32768.0)
    np.testing.assert_array_equal(a, b)


def test_bad_chunks_are_refused():
    with pytest.raises(DataError, match="1-D chunk"):
        StreamingFrontEnd().push(np.zeros((2, 10), np.int16))
    with pytest.raises(DataError, match="int16 PCM or float"):
        StreamingFrontEnd().push(np.zeros(10, np.int32))


def test_new_frames_per_inference_is_the_hop_in_strides():
    from nas.data.streaming import new_frames_per_inference, rate_hop_ms
    from nas.errors import ConfigError

    assert new_frames_per_inference(FrontEndConfig(), rate_hop_ms(10)) == 5
    assert new_frames_per_inference(FrontEndConfig(stride_ms=10), 100) == 10
    assert new_frames_per_inference(FrontEndConfig(), 20) == 1
    for hop_ms in (1000 / 7, 30, 0, -100):
        with pytest.raises(ConfigError, match="positive multiple of the front end's 20 ms stride"):
            new_frames_per_inference(FrontEndConfig(), hop_ms)
    with pytest.raises(ConfigError, match="exceed the 49 frames"):
        new_frames_per_inference(FrontEndConfig(), rate_hop_ms(0.5))
    with pytest.raises(ConfigError, match="expected > 0 per second"):
        rate_hop_ms(0)


def test_a_stream_cut_differs_from_the_clip_only_by_the_decimators_start():
    """With decimation 2 a one-second clip starts the decimator from zeros, the same second inside a
    stream from the samples before it: only the first 11 decimated samples differ, under the Hann
    window's edge (weight < 0.012), so the features stay within 1 LSB."""
    config = FrontEndConfig(decimation=2)
    rng = np.random.default_rng(4)
    pcm = (recording(4.0, seed=2).astype(np.int64) + rng.normal(0, 3000, 64000).astype(np.int64)).clip(-32768, 32767)
    pcm = pcm.astype(np.int16)
    stream_frames = batch_int8(config, pcm)
    worst, differing = 0, 0
    for start_frame in range(50, 150, 7):  # clips that start where a stream frame does
        clip = pcm[start_frame * config.stride_samples :][: config.clip_samples]
        diff = np.abs(batch_int8(config, clip).astype(int) - stream_frames[start_frame : start_frame + config.num_frames])
        worst, differing = max(worst, diff.max()), differing + int(diff[1:].any())
    assert worst <= 1
    assert differing == 0  # past the first frame the histories are the same
