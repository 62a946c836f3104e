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


@pytest.fixture(scope="module", params=[FrontEndConfig(), FrontEndConfig(window_ms=30, stride_ms=10, n_mfcc=13, int8_frac_bits=2)],
                ids=["defaults", "30ms-10ms-13mfcc"])
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

    return config, run


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
