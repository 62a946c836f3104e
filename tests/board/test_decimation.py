"""The front end with decimation 2 on the emulated boards: the board's int8 MFCC (its SMLAD decimator
and 8 kHz FFT) equals the Python front end on a real clip, loud noise and a saturating square wave,
on the Cortex-M7 and the M4; and always-on streaming gives the host pipeline's outputs and detections."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from nas.data.frontend import MfccFrontEnd
from nas.data.frontend_config import FrontEndConfig
from nas.stream.postprocess import detections, softmax_table
from nas.stream.runner import TflmHostRunner, stream_outputs

from .conftest import _need_toolchain
from .test_stream_session import POST, STRIDE_MS, speech_like

HALVED = FrontEndConfig(decimation=2)
REAL_CLIPS = Path("/work/shared/data/speech_commands_test_v2_half_a")


@pytest.fixture(scope="module", params=["mps2_an500", "mps2_an386"])
def halved_board(request):
    _need_toolchain()
    from nas.board.emulated import EmulatedBoard
    from nas.board.firmware_build import build_firmware

    with EmulatedBoard(request.param, image=build_firmware(request.param, HALVED), frontend=HALVED) as board:
        yield board


def clips() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    out = [rng.normal(0, 8000, 16000).clip(-32768, 32767).astype(np.int16),  # every bin at full scale
           np.where(np.arange(16000) % 10 < 5, 32767, -32768).astype(np.int16)]  # the decimator saturates
    files = sorted(REAL_CLIPS.glob("yes/*.wav"))[:2]
    for path in files:
        with wave.open(str(path)) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        out.append(np.pad(pcm, (0, max(0, 16000 - len(pcm))))[:16000].copy())
    return out


def test_board_features_with_decimation_2_equal_python(halved_board):
    fe = MfccFrontEnd(HALVED)
    for pcm in clips():
        expected = fe.quantize_int8(fe(torch.from_numpy(pcm.astype(np.float32) / 32768)[None])).numpy().reshape(-1)
        assert np.abs(halved_board.features(pcm).astype(int) - expected).max() <= 1


def test_board_stream_with_decimation_2_equals_the_host_pipeline(halved_board, tflite_models):
    if halved_board.board != "mps2_an500":
        pytest.skip("streaming is compared on the M7 only (the front end is the same C)")
    model = tflite_models["cnn"].read_bytes()
    audio = speech_like(1.9, seed=3)  # 4096-byte chunks end mid-hop, and at odd sample counts of the stride
    halved_board.load(tflite_models["cnn"])
    times, outputs, found = halved_board.stream(audio, new_frames=5, post=(300, 20, 300, 1))
    runner = TflmHostRunner(model)
    host_times, host_outputs = stream_outputs(audio, HALVED, runner, STRIDE_MS)
    table = None if runner.output.is_softmax else softmax_table(runner.output.scale)
    np.testing.assert_array_equal(times, host_times)
    np.testing.assert_array_equal(outputs, host_outputs)
    assert len(np.unique(outputs, axis=0)) > 1
    assert found == [(d.time_ms, d.top_class, d.score) for d in detections(host_outputs, host_times, POST, table)]
