"""The pure Python side of the serial grammar: encoding limits and reply parsing."""
import pytest

from nas.board import protocol
from nas.errors import BoardError


def test_commands_end_with_percent_and_refuse_what_the_board_would_reject():
    assert protocol.encode_command("infer 10 1") == b"infer 10 1%"
    with pytest.raises(ValueError, match="at most 80"):
        protocol.encode_command("x" * 81)
    for bad in ("na%me", "name\n", "näme"):
        with pytest.raises(ValueError):
            protocol.encode_command(bad)


def test_upload_splits_into_db_chunks_that_fit_one_command_and_reassemble():
    data = bytes(range(256)) * 3
    commands = protocol.upload_commands("model", data)
    assert commands[0] == b"model load 768%"
    assert all(len(c) - 1 <= protocol.MAX_COMMAND_CHARS for c in commands)
    payload = b"".join(bytes.fromhex(c[3:-1].decode()) for c in commands[1:])
    assert payload == data
    with pytest.raises(ValueError):
        protocol.upload_commands("flash", data)


def test_infer_reply_gives_mlperf_latency_and_outputs():
    response = protocol.Response("infer 4 1", [
        "m-warmup-start-1", "m-warmup-done", "m-infer-start-4", "m-lap-us-1000", "m-lap-us-1400",
        "m-infer-done", "m-elapsed-instructions-400000", "m-results-[0.5,-1.25]", "m-output-int8-[3,-7]",
    ])
    reply = protocol.parse_infer(response, 4)
    assert reply.latency_us == 100.0
    assert (reply.unit, reply.elapsed) == ("instructions", 400000)
    assert reply.scores == [0.5, -1.25] and reply.outputs == [3, -7]


def test_error_lines_become_board_errors_naming_the_command():
    response = protocol.Response("infer 1 0", ["e-[no-model]"])
    with pytest.raises(BoardError, match=r"infer 1 0%.*no-model"):
        protocol.parse_infer(response, 1)
    with pytest.raises(BoardError, match="m-infer-done"):
        protocol.parse_infer(protocol.Response("infer 1 0", ["m-lap-us-1"]), 1)


def test_stages_reply_and_malformed_lists():
    response = protocol.Response("stages 2 0", [
        "m-stage-unit-[instructions]", "m-stage-features-100", "m-stage-network-2000", "m-stage-post-30",
        "m-top-[3,191]", "m-results-[0.1,0.75]", "m-output-int8-[-100,64]",
    ])
    reply = protocol.parse_stages(response)
    assert reply.stages == {"features": 100, "network": 2000, "post": 30}
    assert (reply.unit, reply.top_class, reply.top_score) == ("instructions", 3, 191)
    assert reply.frames_per_inference is None  # firmware that does not say
    streaming = protocol.Response("stages 2 0 5", ["m-stage-frames-per-inference-5", *response.lines])
    assert protocol.parse_stages(streaming).frames_per_inference == 5
    with pytest.raises(BoardError, match="malformed"):
        protocol.parse_list("[1,x]", int)
    with pytest.raises(BoardError, match="bracketed"):
        protocol.parse_list("1,2")


def test_stream_commands_and_reply():
    assert protocol.stream_start_command(5, 1000, 200, 1500, 3) == "stream start 5 1000 200 1500 3"
    with pytest.raises(ValueError):
        protocol.stream_start_command(5, -1, 200, 1500, 3)
    pcm = bytes(range(100))
    commands = protocol.stream_push_commands(7, pcm)
    assert commands[0] == b"stream push 7 100%"
    assert b"".join(bytes.fromhex(c[3:-1].decode()) for c in commands[1:]) == pcm
    for bad in (b"", b"\0" * 3, b"\0" * (protocol.MAX_STREAM_CHUNK_BYTES + 2)):
        with pytest.raises(ValueError, match="stream push"):
            protocol.stream_push_commands(0, bad)
    reply = protocol.parse_stream(protocol.Response("db 00", [
        "m-load-done", "m-stream-out-1000-[-3,4]", "m-stream-detect-1000-1-201", "m-stream-out-1100-[5,-6]"]))
    assert reply.outputs == [(1000, [-3, 4]), (1100, [5, -6])] and reply.detections == [(1000, 1, 201)]
    with pytest.raises(BoardError, match="malformed stream line"):
        protocol.parse_stream(protocol.Response("db 00", ["m-stream-detect-1000-x"]))
    with pytest.raises(BoardError, match="stream-out-of-order"):
        protocol.parse_stream(protocol.Response("stream push 1 2", ["e-[stream-out-of-order: got 1, expected 0]"]))
