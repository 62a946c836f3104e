"""The firmware's C MFCC equals the Python int8 front end within 1 LSB (host build on many clips;
the emulated board on one clip through `audio load`, `mfcc%`, `db print%`)."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from nas.board.firmware_build import FIRMWARE_DIR
from nas.data.decimate import decimate_pcm
from nas.data.frontend import MfccFrontEnd
from nas.data.frontend_config import FrontEndConfig

REAL_CLIPS = Path("/work/shared/data/speech_commands_test_v2_half_a")


def python_int8(fe: MfccFrontEnd, pcm: np.ndarray) -> np.ndarray:
    mfcc = fe(torch.from_numpy(pcm.astype(np.float32) / 32768.0)[None])
    return fe.quantize_int8(mfcc).numpy().reshape(-1)


def read_pcm(path: Path, samples: int) -> np.ndarray:
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    return np.pad(pcm, (0, max(0, samples - len(pcm))))[:samples].copy()


def synthetic_clips(n_samples: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(n_samples) / 16000
    return [
        np.zeros(n_samples, np.int16),
        (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16),
        rng.integers(-32768, 32768, n_samples).astype(np.int16),
        (rng.normal(0, 30, n_samples)).astype(np.int16),
        np.where(t % 0.01 < 0.005, 32767, -32768).astype(np.int16),
    ]


@pytest.fixture(scope="module", params=[FrontEndConfig(), FrontEndConfig(window_ms=30, stride_ms=10, n_mfcc=13, int8_frac_bits=2),
                                        FrontEndConfig(decimation=2)],
                ids=["defaults", "30ms-10ms-13mfcc", "decimation2"])
def host_mfcc(request, tmp_path_factory):
    if shutil.which("cc") is None or shutil.which("make") is None:
        pytest.skip("host C compiler or make missing")
    config = request.param
    build = tmp_path_factory.mktemp("mfcc")
    config_json = build / "frontend.json"
    import json
    import sys

    config_json.write_text(json.dumps(config.to_dict()))
    subprocess.run(["make", "-C", str(FIRMWARE_DIR), "host-mfcc", f"BUILD={build}", f"PYTHON={sys.executable}",
                    f"FRONTEND_CONFIG={config_json}"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(build / "host/libkws_mfcc.so"))

    def run(pcm: np.ndarray) -> np.ndarray:
        out = np.zeros(config.num_frames * config.n_mfcc, np.int8)
        lib.kws_mfcc_compute(pcm.ctypes.data_as(ctypes.c_void_p), out.ctypes.data_as(ctypes.c_void_p))
        return out

    run.lib = lib
    return config, run


def c_stream_frames(lib, config: FrontEndConfig, pcm: np.ndarray, sizes: list[int]) -> np.ndarray:
    """fe_stream.c fed ``pcm`` in chunks of ``sizes`` (cycled): every frame, in order, read back
    from the features after each push (chunks hold at most num_frames frames)."""
    # kws_fe_stream_t: the mirrored audio ring, the frame ring, counters, the decimator's staging
    # (2 rings' worth of inputs); generous, malloc-aligned.
    state = ctypes.create_string_buffer(12 * config.n_fft + config.num_frames * config.n_mfcc + 256)
    lib.kws_fe_stream_reset(state)
    lib.kws_fe_stream_push.restype = ctypes.c_uint32
    features = np.zeros((config.num_frames, config.n_mfcc), np.int8)
    frames, at, i, done = [], 0, 0, 0
    while at < len(pcm):
        chunk = np.ascontiguousarray(pcm[at : at + sizes[i % len(sizes)]])
        new = lib.kws_fe_stream_push(state, chunk.ctypes.data_as(ctypes.c_void_p), ctypes.c_uint32(len(chunk)))
        done += new
        ready = lib.kws_fe_stream_features(state, features.ctypes.data_as(ctypes.c_void_p)) == 0
        assert ready == (done >= config.num_frames)
        if new and ready:
            frames = frames[: done - config.num_frames] + list(features.copy())
        elif new:  # before num_frames frames, compare through the batch of the prefix instead
            frames = list(run_prefix(lib, config, pcm, done))
        at, i = at + len(chunk), i + 1
    return np.stack(frames)


def run_prefix(lib, config: FrontEndConfig, pcm: np.ndarray, count: int) -> np.ndarray:
    """The first ``count`` frames, one kws_mfcc_frame call each (on the decimated recording with decimation 2)."""
    out = np.zeros((count, config.n_mfcc), np.int8)
    if config.decimation == 2:
        pcm = decimate_pcm(torch.from_numpy(pcm.astype(np.int64))[None])[0].numpy().astype(np.int16)
    for f in range(count):
        window = np.zeros(config.n_fft, np.int16)  # kws_mfcc_frame reads past the window (weight 0)
        part = pcm[f * config.fft_stride_samples :][: config.fft_window_samples]
        window[: len(part)] = part
        lib.kws_mfcc_frame(window.ctypes.data_as(ctypes.c_void_p), out[f].ctypes.data_as(ctypes.c_void_p))
    return out


def test_c_mfcc_matches_python_on_synthetic_signals(host_mfcc):
    config, run = host_mfcc
    fe = MfccFrontEnd(config)
    for pcm in synthetic_clips(config.clip_samples):
        diff = np.abs(run(pcm).astype(int) - python_int8(fe, pcm))
        assert diff.max() <= 1


def test_c_mfcc_matches_python_on_real_clips(host_mfcc):
    if not REAL_CLIPS.is_dir():
        pytest.skip(f"real Speech Commands clips not present at {REAL_CLIPS}")
    config, run = host_mfcc
    fe = MfccFrontEnd(config)
    files = sorted(REAL_CLIPS.glob("*/*.wav"))[::12]
    assert len(files) > 100
    clips = np.stack([read_pcm(path, config.clip_samples) for path in files])
    expected = fe.quantize_int8(fe(torch.from_numpy(clips.astype(np.float32) / 32768.0))).numpy()
    for pcm, want in zip(clips, expected):
        assert np.abs(run(pcm).astype(int) - want.reshape(-1)).max() <= 1


@pytest.mark.parametrize("sizes", [[1600], [1, 7, 319, 321, 2000], [641, 5, 333]],
                         ids=["100ms", "odd-mixed", "not-stride-multiples"])
def test_c_streaming_equals_c_batch_and_python(host_mfcc, sizes):
    config, run = host_mfcc
    rng = np.random.default_rng(3)
    t = np.arange(int(config.sample_rate * 2.7)) / config.sample_rate
    pcm = (9000 * np.sin(2 * np.pi * (300 + 900 * t) * t) * (t % 1 < 0.5) + rng.normal(0, 200, len(t))).astype(np.int16)
    frames = c_stream_frames(run.lib, config, pcm, sizes)
    total = 1 + (len(pcm) - config.window_samples) // config.stride_samples
    assert frames.shape == (total, config.n_mfcc)
    # The same frame function as the batch front end: identical on the first clip's frames.
    np.testing.assert_array_equal(frames[: config.num_frames].reshape(-1), run(pcm[: config.clip_samples]))
    fe = MfccFrontEnd(config)
    python = python_int8(fe, pcm).reshape(total, config.n_mfcc)
    assert np.abs(frames.astype(int) - python).max() <= 1


def test_c_decimator_equals_python_bit_for_bit(host_mfcc):
    config, run = host_mfcc
    if config.decimation != 2:
        pytest.skip("the decimator is built with decimation 2 only")
    rng = np.random.default_rng(5)
    # odd and even lengths, shorter than the filter too; full-scale noise and square waves saturate
    for pcm in synthetic_clips(16000) + [rng.integers(-32768, 32768, n).astype(np.int16) for n in (1, 8, 21, 22, 23, 1001)]:
        out = np.zeros((len(pcm) + 1) // 2, np.int16)
        run.lib.kws_decimate_from_start(pcm.ctypes.data_as(ctypes.c_void_p), ctypes.c_uint32(len(pcm)),
                                        out.ctypes.data_as(ctypes.c_void_p))
        np.testing.assert_array_equal(out, decimate_pcm(torch.from_numpy(pcm.astype(np.int64))[None])[0].numpy())
