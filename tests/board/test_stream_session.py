"""Always-on on the emulated board (`stream start` / `stream push`, firmware/src/stream_session.c):
the same int8 outputs and detections as the host pipeline (nas/stream) on the same audio and model,
and malformed stream commands refused with the board still usable."""
from __future__ import annotations

import numpy as np
import pytest

from nas.data.frontend_config import FrontEndConfig
from nas.errors import BoardError
from nas.stream.postprocess import PostprocessConfig, detections, softmax_table
from nas.stream.runner import TflmHostRunner, stream_outputs

# A short stream with detections even on the tests' untrained models (scores about 255/12): a low
# threshold, no minimum count, a short suppression.
POST = PostprocessConfig(average_window_ms=300, detection_threshold=20, suppression_ms=300, minimum_count=1)
STRIDE_MS = 100  # 5 new frames per inference


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Chirps that come and go over noise: frames and scores that change from inference to inference."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    envelope = np.sin(np.pi * t * 2.5) ** 2
    pcm = 9000 * envelope * np.sin(2 * np.pi * (180 + 900 * t) * t) + rng.normal(0, 600, len(t))
    return pcm.clip(-32768, 32767).astype(np.int16)


def host_pipeline(model: bytes, audio: np.ndarray):
    runner = TflmHostRunner(model)
    times, outputs = stream_outputs(audio, FrontEndConfig(), runner, STRIDE_MS)
    table = None if runner.output.is_softmax else softmax_table(runner.output.scale)
    return times, outputs, detections(outputs, times, POST, table)


@pytest.mark.parametrize("arch", ["cnn", "ds_cnn"])  # int8 logits (the softmax table) and an int8 softmax
def test_board_and_host_give_identical_outputs_and_detections(board, tflite_models, arch):
    model = tflite_models[arch].read_bytes()
    audio = speech_like(1.9, seed=3)  # 10 inferences; 4096-byte chunks end mid-hop
    board.load(tflite_models[arch])
    times, outputs, found = board.stream(audio, new_frames=5, post=(300, 20, 300, 1))
    host_times, host_outputs, host_found = host_pipeline(model, audio)
    np.testing.assert_array_equal(times, host_times)
    assert len(times) == 10 and times[0] == 1000
    np.testing.assert_array_equal(outputs, host_outputs)
    # cnn's outputs change along the stream; the untrained ds_cnn's softmax is flat (every class 21/255)
    assert arch == "ds_cnn" or len(np.unique(outputs, axis=0)) > 1
    assert found == [(d.time_ms, d.top_class, d.score) for d in host_found]
    assert found  # at least one detection compared


def test_malformed_stream_commands_get_errors_and_the_board_stays_usable(board, tflite_models):
    board.load(tflite_models["cnn"])
    errors = lambda text: board.command(text).errors  # noqa: E731
    assert errors("stream push 0 2")[0].startswith("e-[no-stream")
    assert errors("stream start 0 1000 200 1500 3")[0].startswith("e-[stream-frames-per-inference")
    assert errors("stream start 50 1000 200 1500 3")[0].startswith("e-[stream-frames-per-inference")
    assert errors("stream start 5 1000 256 1500 3")[0].startswith("e-[stream-post-processing")
    assert errors("stream start 5 1000 200 1500 0")[0].startswith("e-[stream-post-processing")
    assert errors("stream start 5 1000 200 1500")[0] == "e-[wrong-arguments]"
    assert errors("stream start 5 x 200 1500 3")[0] == "e-[bad-number]"
    board.command("stream start 5 1000 200 1500 3").raise_for_error()
    assert errors("stream push 1 2")[0] == "e-[stream-out-of-order: got 1, expected 0]"
    assert errors("stream push 0 3")[0].startswith("e-[stream-chunk-odd-bytes")
    assert errors("stream push 0 0")[0] == "e-[load-size-zero]"
    assert errors("stream push 0 4098")[0] == "e-[load-too-big: got 4098, expected 4096]"
    board.command("stream push 0 4").raise_for_error()
    assert errors("db 0102zz")[0] == "e-[bad-hex]"  # the chunk stays open: resend it
    assert errors("db 010203040506")[0].startswith("e-[db-overflow")
    assert errors("stream push 1 4")[0] == "e-[stream-out-of-order: got 1, expected 0]"  # chunk 0 never completed
    board.command("stream push 0 4").raise_for_error()
    assert board.command("db 01020304").lines == ["m-load-done"]  # 2 samples: no inference yet
    assert errors("stream push 0 4")[0] == "e-[stream-out-of-order: got 0, expected 1]"  # no replay
    # A new model ends the session; the board still streams after a restart.
    board.load(tflite_models["cnn"])
    assert errors("stream push 1 4")[0].startswith("e-[no-stream")
    times, outputs, _ = board.stream(speech_like(1.0, seed=1), new_frames=5, post=(1000, 200, 1500, 3))
    assert times.tolist() == [1000] and outputs.shape == (1, 12)


def test_stream_on_a_board_without_a_model(firmware_image):
    from nas.board.emulated import EmulatedBoard

    with EmulatedBoard(image=firmware_image) as fresh:
        assert fresh.command("stream start 5 1000 200 1500 3").errors[0].startswith("e-[no-model")
        assert fresh.command("stream push 0 2").errors[0].startswith("e-[no-model")
        with pytest.raises(BoardError, match="no-model"):
            fresh.stream(speech_like(1.0, seed=1), new_frames=5, post=(1000, 200, 1500, 3))
        assert fresh.command("name").lines == ["m-name-dut-[kws-nas mps2_an500]"]
