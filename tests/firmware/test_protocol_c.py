"""The firmware's command parser (firmware/src/protocol.c) compiled for the host and driven via ctypes."""
from __future__ import annotations

import ctypes
import shutil
import subprocess

import pytest

from nas.board.firmware_build import FIRMWARE_DIR

MAX_LINE, MAX_DATA = 80, 38
READY, TOO_LONG, PENDING = 1, 2, 0
# kws_cmd_kind_t / kws_parse_status_t / kws_load_status_t values in protocol.h
CMD = {"name": 0, "profile": 1, "timestamp": 2, "help": 3, "results": 4, "db_load": 5, "db_data": 6,
       "db_print": 7, "infer": 8, "model_load": 9, "audio_load": 10, "mfcc": 11, "stages": 12,
       "model_mem": 13, "stream_start": 14, "stream_push": 15}
OK, EMPTY, UNKNOWN, ARGS, NUMBER, HEX = range(6)
LOAD_MORE, LOAD_DONE, LOAD_IDLE, LOAD_OVERFLOW, LOAD_TOO_BIG, LOAD_ZERO = range(6)


class Line(ctypes.Structure):
    _fields_ = [("text", ctypes.c_char * (MAX_LINE + 1)), ("len", ctypes.c_uint32), ("overflow", ctypes.c_uint8)]


class Cmd(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int), ("count", ctypes.c_uint32), ("warmup", ctypes.c_uint32),
                ("data", ctypes.c_uint8 * MAX_DATA), ("data_len", ctypes.c_uint32), ("frames", ctypes.c_uint32),
                ("seq", ctypes.c_uint32), ("post", ctypes.c_uint32 * 4)]


class Loader(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("expected", ctypes.c_uint32), ("received", ctypes.c_uint32),
                ("target", ctypes.c_int)]


@pytest.fixture(scope="module")
def lib():
    if shutil.which("cc") is None or shutil.which("make") is None:
        pytest.skip("host C compiler or make missing")
    subprocess.run(["make", "-C", str(FIRMWARE_DIR), "host-protocol"], check=True, capture_output=True)
    return ctypes.CDLL(str(FIRMWARE_DIR / "build/host/libkws_protocol.so"))


def feed(lib, stream: bytes) -> list[tuple[int, bytes]]:
    """Feeds bytes; returns (status, text) for every completed command."""
    line = Line()
    lib.kws_line_reset(ctypes.byref(line))
    done = []
    for byte in stream:
        status = lib.kws_line_feed(ctypes.byref(line), ctypes.c_char(bytes([byte])))
        if status != PENDING:
            done.append((status, line.text[: line.len]))
            lib.kws_line_reset(ctypes.byref(line))
    return done


def parse(lib, text: bytes) -> tuple[int, Cmd]:
    cmd = Cmd()
    return lib.kws_parse(text, len(text), ctypes.byref(cmd)), cmd


def test_line_assembly_splits_on_percent_ignores_newlines_and_flags_oversize(lib):
    long = b"db " + b"a" * 100
    done = feed(lib, b"name%\r\nprofile%" + long + b"%timestamp%")
    assert done == [(READY, b"name"), (READY, b"profile"), (TOO_LONG, long[:MAX_LINE]), (READY, b"timestamp")]
    assert feed(lib, b"x" * MAX_LINE + b"%") == [(READY, b"x" * MAX_LINE)]


@pytest.mark.parametrize("text, kind, count, warmup", [
    (b"name", "name", 0, 0), (b"  infer   10 2 ", "infer", 10, 2), (b"infer 5", "infer", 5, 0),
    (b"db load 490", "db_load", 490, 0), (b"model load 70000", "model_load", 70000, 0),
    (b"audio load 32000", "audio_load", 32000, 0), (b"stages 3 1", "stages", 3, 1), (b"db print", "db_print", 0, 0),
])
def test_commands_parse_with_their_numbers(lib, text, kind, count, warmup):
    status, cmd = parse(lib, text)
    assert status == OK
    assert (cmd.kind, cmd.count, cmd.warmup) == (CMD[kind], count, warmup)


def test_stages_takes_new_frames_per_inference_for_streaming(lib):
    status, cmd = parse(lib, b"stages 3 1 5")
    assert status == OK and (cmd.kind, cmd.count, cmd.warmup, cmd.frames) == (CMD["stages"], 3, 1, 5)
    assert parse(lib, b"stages 3 1")[1].frames == 0  # the whole clip
    assert parse(lib, b"stages 3 1 0")[0] == NUMBER
    assert parse(lib, b"stages 3 1 x")[0] == NUMBER
    assert parse(lib, b"infer 3 1 5")[0] == ARGS


def test_stream_start_and_push(lib):
    status, cmd = parse(lib, b"stream start 5 1000 200 1500 3")
    assert status == OK and (cmd.kind, cmd.frames, list(cmd.post)) == (CMD["stream_start"], 5, [1000, 200, 1500, 3])
    status, cmd = parse(lib, b"stream push 7 3200")
    assert status == OK and (cmd.kind, cmd.seq, cmd.count) == (CMD["stream_push"], 7, 3200)
    for text, expected in [(b"stream start 5 1000 200 1500", ARGS), (b"stream start 5 1000 200 1500 3 9", ARGS),
                           (b"stream start 5 1000 -1 1500 3", NUMBER), (b"stream push 1", ARGS),
                           (b"stream push x 2", NUMBER), (b"stream push 0 2 2", ARGS), (b"stream", ARGS),
                           (b"stages 1 0 5 6", ARGS)]:
        assert parse(lib, text)[0] == expected, text


def test_hex_payload_decodes_exactly(lib):
    payload = bytes(range(200, 238))
    status, cmd = parse(lib, b"db " + payload.hex().upper().encode())
    assert status == OK and cmd.kind == CMD["db_data"]
    assert bytes(cmd.data[: cmd.data_len]) == payload


@pytest.mark.parametrize("text, status", [
    (b"", EMPTY), (b"   ", EMPTY), (b"reboot", UNKNOWN), (b"name now", ARGS), (b"infer", ARGS),
    (b"infer 0", NUMBER), (b"infer -1 0", NUMBER), (b"infer 99999999999", NUMBER), (b"infer 2147483648", NUMBER),
    (b"infer 1 2 3", ARGS), (b"db abc", HEX), (b"db zz", HEX), (b"db " + b"00" * (MAX_DATA + 1), HEX),
    (b"db load", ARGS), (b"db load x", NUMBER), (b"model 12", ARGS), (b"a b c d e f g h", ARGS),
])
def test_malformed_commands_get_a_specific_status(lib, text, status):
    assert parse(lib, text)[0] == status


def test_loader_accepts_exactly_the_announced_bytes(lib):
    buf = (ctypes.c_uint8 * 16)()
    ld = Loader()
    assert lib.kws_loader_begin(ctypes.byref(ld), 1, buf, 16, 17) == LOAD_TOO_BIG
    assert lib.kws_loader_begin(ctypes.byref(ld), 1, buf, 16, 0) == LOAD_ZERO
    assert lib.kws_loader_append(ctypes.byref(ld), b"\x01", 1) == LOAD_IDLE
    assert lib.kws_loader_begin(ctypes.byref(ld), 1, buf, 16, 5) == LOAD_MORE
    assert lib.kws_loader_append(ctypes.byref(ld), b"\x01\x02", 2) == LOAD_MORE
    assert lib.kws_loader_append(ctypes.byref(ld), b"\x03\x04\x05", 3) == LOAD_DONE
    assert bytes(buf[:5]) == b"\x01\x02\x03\x04\x05"
    assert lib.kws_loader_append(ctypes.byref(ld), b"\x06", 1) == LOAD_IDLE
    assert lib.kws_loader_begin(ctypes.byref(ld), 1, buf, 16, 2) == LOAD_MORE
    assert lib.kws_loader_append(ctypes.byref(ld), b"\x01\x02\x03", 3) == LOAD_OVERFLOW
    assert lib.kws_loader_append(ctypes.byref(ld), b"\x01", 1) == LOAD_IDLE  # abandoned


RESET_BYTE, LINE_RESET = b"\x18", 3  # KWS_PROTO_RESET, KWS_LINE_RESET


def test_reset_byte_discards_a_partial_or_oversize_command(lib):
    assert feed(lib, b"db lo" + RESET_BYTE + b"name%") == [(LINE_RESET, b""), (READY, b"name")]
    assert feed(lib, b"x" * 200 + RESET_BYTE + b"name%") == [(LINE_RESET, b""), (READY, b"name")]


def test_loader_abort_refuses_the_rest_of_the_upload(lib):
    buf = (ctypes.c_uint8 * 16)()
    ld = Loader()
    assert lib.kws_loader_begin(ctypes.byref(ld), 1, buf, 16, 4) == LOAD_MORE
    assert lib.kws_loader_append(ctypes.byref(ld), b"\x01\x02", 2) == LOAD_MORE
    lib.kws_loader_abort(ctypes.byref(ld))
    assert lib.kws_loader_append(ctypes.byref(ld), b"\x03\x04", 2) == LOAD_IDLE
