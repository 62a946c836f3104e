"""The emulated Cortex-M7 over pyserial socket://: the harness grammar, errors that leave the board
usable, int8 outputs equal to the TFLite Micro host interpreter, and deterministic timing."""
from __future__ import annotations

import socket
import subprocess
import threading
import time

import numpy as np
import pytest
import serial

from nas.board.emulated import EmulatedBoard, free_tcp_port, qemu_command
from nas.board.model_blob import tflite_to_blob
from nas.errors import BoardError
from .tf_models import run_tflm

pytestmark = pytest.mark.firmware


def test_boot_banner_follows_the_mlperf_tiny_grammar(firmware_image):
    port = free_tcp_port()
    qemu = subprocess.Popen(qemu_command(firmware_image, "127.0.0.1", port, wait_for_client=True),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                link = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=5)
                break
            except serial.SerialException:
                time.sleep(0.02)
        lines = [link.readline().decode().strip() for _ in range(4)]
        link.close()
    finally:
        qemu.kill()
        qemu.wait()
    assert lines[0] == "m-timestamp-mode-performance"
    assert lines[1].startswith("m-lap-us-") and lines[1][len("m-lap-us-"):].isdigit()
    assert lines[2:] == ["m-init-done", "m-ready"]


def test_identity_commands(board):
    assert board.command("name").lines == ["m-name-dut-[kws-nas mps2_an500]"]
    profile = board.command("profile").lines
    assert profile[0] == "m-profile-[kws-nas]" and profile[1].startswith("m-model-[")
    t0 = int(board.command("timestamp").value("m-lap-us-"))
    t1 = int(board.command("timestamp").value("m-lap-us-"))
    assert t1 > t0
    assert any("infer N W%" in line for line in board.command("help").lines)


@pytest.mark.parametrize("command, error", [
    ("reboot", "e-[unknown-command]"),
    ("x" * 120, "e-[command-too-long"),
    ("db 0", "e-[bad-hex]"),
    ("db load", "e-[wrong-arguments]"),
    ("infer 0 0", "e-[bad-number]"),
    ("stages 1 0 0", "e-[bad-number]"),
    ("db 00", "e-[db-without-load"),
])
def test_malformed_oversize_and_out_of_order_commands_get_an_error_and_the_board_stays_usable(board, command, error):
    board._write(command.encode() + b"%", "test")  # bypass the host-side length check on purpose
    reply = board._collect(command, time.monotonic() + 10)
    assert len(reply.lines) == 1 and reply.lines[0].startswith(error)
    assert board.command("name").lines == ["m-name-dut-[kws-nas mps2_an500]"]


def test_state_errors_on_a_fresh_board(firmware_image):
    with EmulatedBoard(image=firmware_image) as fresh:
        assert fresh.command("infer 1 0").errors[0].startswith("e-[no-model")
        assert fresh.command("results").errors[0].startswith("e-[no-results")
        assert fresh.command("stages 1 0").errors[0].startswith("e-[no-model")
        assert fresh.command("mfcc").errors[0].startswith("e-[no-audio")
        assert fresh.command("db load 99999").errors[0].startswith("e-[load-too-big: got 99999")
        fresh.command("db load 2").raise_for_error()
        assert fresh.command("db 000102").errors[0].startswith("e-[db-overflow")
        with pytest.raises(BoardError, match="model-magic"):
            fresh.load(b"\0" * 100)
        assert fresh.command("profile").lines[1] == "m-model-[none]"
        assert fresh.command("name").lines == ["m-name-dut-[kws-nas mps2_an500]"]


@pytest.mark.parametrize("arch", ["dnn", "cnn", "ds_cnn"])
def test_outputs_equal_the_tflite_micro_host_interpreter(board, tflite_models, arch):
    path = tflite_models[arch]
    summary = board.load(path)
    assert summary["ops"] >= 2 and summary["arena_bytes"] > 0
    inputs = np.random.default_rng(7).integers(-128, 128, size=(3, 49, 10)).astype(np.int8)
    expected = run_tflm(path, inputs)
    for x, want in zip(inputs, expected):
        measurement = board.infer(x, count=2, warmup=1)  # repeats must not disturb the input
        np.testing.assert_array_equal(measurement.outputs, want)
        assert measurement.unit == "instructions" and measurement.stages["network"] > 1000
    assert board.command("results").value("m-output-int8-") == "[" + ",".join(map(str, expected[-1])) + "]"


def test_timing_repeats_and_scales_with_work(board, tflite_models):
    board.load(tflite_models["cnn"])
    x = np.zeros((49, 10), np.int8)
    one = [board.infer(x, count=1).stages["network"] for _ in range(3)]
    four = board.infer(x, count=4).stages["network"]  # per inference
    assert max(one) - min(one) <= 2 * 40  # ±1 SysTick tick of 40 instructions
    assert abs(four - one[0]) <= 2 * 40
    assert one[0] % 40 == 0  # SysTick ticks × 40


def test_icount_shift_one_doubles_the_tick_count(firmware_image, tflite_models):
    """At shift=1 an instruction lasts 2 ns: the same work reads twice the ticks, so the firmware's
    timer counts executed instructions (1 tick = 40 instructions at shift=0), not host time."""
    blob = tflite_to_blob(tflite_models["cnn"])
    x = np.zeros((49, 10), np.int8)
    counts = {}
    for shift in (0, 1):
        with EmulatedBoard(image=firmware_image, icount_shift=shift) as emulated:
            emulated.load(blob)
            counts[shift] = emulated.infer(x, count=2).stages["network"]
    assert abs(counts[1] / counts[0] - 2.0) < 0.001


def test_killed_qemu_mid_inference_gives_a_clear_board_error(firmware_image, tflite_models):
    emulated = EmulatedBoard(image=firmware_image, timeout_s=60)
    emulated.open()
    try:
        emulated.load(tflite_models["ds_cnn"])
        threading.Timer(0.5, emulated.process.kill).start()
        start = time.monotonic()
        with pytest.raises(BoardError, match="QEMU exited with code -9"):
            emulated.infer(np.zeros((49, 10), np.int8), count=5000)
        assert time.monotonic() - start < 10
    finally:
        emulated.close()


def test_a_silent_port_fails_within_the_ready_timeout():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        from nas.board.serial_board import SerialBoard

        silent = SerialBoard(f"socket://127.0.0.1:{server.getsockname()[1]}", ready_timeout_s=1.0)
        start = time.monotonic()
        with pytest.raises(BoardError, match="no answer to `name%`"):
            silent.open()
        silent.close()
        assert time.monotonic() - start < 3


def test_an_unreachable_port_fails_after_retries():
    from nas.board.serial_board import SerialBoard

    with pytest.raises(BoardError, match="cannot open after 3 attempts"):
        SerialBoard(f"socket://127.0.0.1:{free_tcp_port()}", retries=3).open()


def test_on_board_mfcc_and_stages_match_the_front_end_and_the_host_interpreter(board, tflite_models):
    import torch

    from nas.data.frontend import MfccFrontEnd

    clips = sorted(__import__("pathlib").Path("/work/shared/data/speech_commands_test_v2_half_a").glob("yes/*.wav"))
    if clips:
        import wave

        with wave.open(str(clips[0])) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        pcm = np.pad(pcm, (0, max(0, 16000 - len(pcm))))[:16000]
    else:  # a chirp, when the real clips are absent
        t = np.arange(16000) / 16000
        pcm = (6000 * np.sin(2 * np.pi * (200 + 1500 * t) * t)).astype(np.int16)
    fe = MfccFrontEnd()
    expected_features = fe.quantize_int8(fe(torch.from_numpy(pcm.astype(np.float32) / 32768)[None])).numpy().reshape(-1)
    on_board = board.features(pcm)
    assert np.abs(on_board.astype(int) - expected_features).max() <= 1
    # Loud noise too: the board's FFT (assembly on this core) over every bin at full scale.
    noise = np.random.default_rng(5).normal(0, 8000, 16000).clip(-32768, 32767).astype(np.int16)
    expected_noise = fe.quantize_int8(fe(torch.from_numpy(noise.astype(np.float32) / 32768)[None])).numpy().reshape(-1)
    assert np.abs(board.features(noise).astype(int) - expected_noise).max() <= 1
    on_board = board.features(pcm)  # the clip stays on the board for the stages below

    board.load(tflite_models["ds_cnn"])
    measurement = board.stages(None, count=2, warmup=1)  # the clip features() sent
    np.testing.assert_array_equal(measurement.outputs, run_tflm(tflite_models["ds_cnn"], on_board[None])[0])
    assert set(measurement.stages) == {"features", "network", "post"}
    assert all(v > 0 for v in measurement.stages.values())
    assert measurement.stages["features"] > 10 * measurement.stages["post"]
    # post-processing is RecognizeCommands (micro_speech defaults): one result per 980 ms clip leaves
    # two in its 1000 ms window, fewer than its minimum count of 3, so no decision yet
    assert (measurement.extra["top_class"], measurement.extra["top_score"]) == (0, 0)
    assert measurement.extra["frames_per_inference"] == 49

    # Streaming, 5 new frames per inference: the stream is the clip over and over, so after
    # 10 inferences (50 frames, one period of 16,000 samples) the last 49 frames are the clip's again.
    streaming = board.stages(None, count=9, warmup=1, new_frames=5)
    assert streaming.extra["frames_per_inference"] == 5
    assert streaming.extra["top_score"] > 0  # ten results 100 ms apart: a decision
    np.testing.assert_array_equal(streaming.outputs, measurement.outputs)
    assert streaming.stages["features"] < measurement.stages["features"] / 6
    assert board.command("stages 1 0 51").errors[0].startswith("e-[frames-per-inference-exceed-the-clip: got 51, expected 50")


RESET = b"\x18"  # KWS_PROTO_RESET (firmware/src/protocol.h)


def _send_raw(board, data: bytes) -> list[str]:
    board._write(data, "test")
    return board._collect(repr(data), time.monotonic() + 10).lines


def test_reset_byte_drops_a_partial_command_and_abandons_the_upload(board):
    assert _send_raw(board, b"db load 4%") == ["m-[Expecting 4 bytes]"]
    assert _send_raw(board, b"db 0102%") == []
    assert _send_raw(board, b"db lo" + RESET) == ["m-reset-done"]
    assert board.command("db 03").errors[0].startswith("e-[db-without-load")
    assert board.command("name").lines == ["m-name-dut-[kws-nas mps2_an500]"]


def test_an_abandoned_or_refused_model_upload_keeps_the_running_model(board, tflite_models):
    summary = board.load(tflite_models["cnn"])
    x = np.random.default_rng(3).integers(-128, 128, size=(49, 10)).astype(np.int8)
    before = board.infer(x).outputs
    assert _send_raw(board, b"model load 5000%") == ["m-[Expecting 5000 bytes]"]
    assert _send_raw(board, b"db " + b"00" * 38 + b"%") == []
    assert _send_raw(board, RESET) == ["m-reset-done"]
    np.testing.assert_array_equal(board.infer(x).outputs, before)
    with pytest.raises(BoardError, match="model-magic"):
        board.load(b"\0" * 100)
    np.testing.assert_array_equal(board.infer(x).outputs, before)
    assert board.command("profile").lines[1] == f"m-model-[{summary['name']}]"


def test_serial_board_open_resyncs_what_an_earlier_host_left_half_sent(firmware_image):
    from nas.board.serial_board import SerialBoard

    emulated = EmulatedBoard(image=firmware_image)
    emulated.start()
    try:
        earlier = SerialBoard(emulated.url)
        earlier.open()
        earlier.command("db load 4").raise_for_error()
        earlier._write(b"db 0102%db 03", "test")  # an upload and a command, both unfinished
        earlier.close()
        later = SerialBoard(emulated.url)
        later.open()
        assert later.command("db 04").errors[0].startswith("e-[db-without-load")
        later.close()
    finally:
        emulated.close()
