"""firmware/src/recognize_commands.c built for the host with gcc and driven through ctypes."""
from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from nas.board.firmware_build import FIRMWARE_DIR
from nas.stream.postprocess import MAX_RESULTS, Decision, PostprocessConfig

MAX_CLASSES = 64  # KWS_RC_MAX_CLASSES


class Config(ctypes.Structure):
    _fields_ = [("average_window_ms", ctypes.c_int32), ("detection_threshold", ctypes.c_int32),
                ("suppression_ms", ctypes.c_int32), ("minimum_count", ctypes.c_int32)]


class State(ctypes.Structure):  # kws_recognize_commands_t
    _fields_ = [("config", Config), ("n_classes", ctypes.c_uint32), ("exp_table", ctypes.POINTER(ctypes.c_uint32)),
                ("scores", (ctypes.c_uint8 * MAX_CLASSES) * MAX_RESULTS), ("times_ms", ctypes.c_int32 * MAX_RESULTS),
                ("first", ctypes.c_uint32), ("count", ctypes.c_uint32), ("latest_time_ms", ctypes.c_int32),
                ("last_class", ctypes.c_int32), ("last_time_ms", ctypes.c_int32), ("has_latest", ctypes.c_uint8),
                ("has_last", ctypes.c_uint8)]


class DecisionC(ctypes.Structure):
    _fields_ = [("top_class", ctypes.c_int32), ("score", ctypes.c_int32), ("is_new_command", ctypes.c_uint8)]


def load_library() -> ctypes.CDLL:
    if shutil.which("cc") is None or shutil.which("make") is None:
        pytest.skip("host C compiler or make missing")
    subprocess.run(["make", "-C", str(FIRMWARE_DIR), "host-recognize"], check=True, capture_output=True)
    return ctypes.CDLL(str(FIRMWARE_DIR / "build/host/libkws_recognize.so"))


def c_decisions(lib: ctypes.CDLL, outputs: np.ndarray, times_ms: np.ndarray, config: PostprocessConfig,
                table: np.ndarray | None) -> list[Decision]:
    """Every inference's decision from the C code."""
    state, decision = State(), DecisionC()
    cfg = Config(config.average_window_ms, config.detection_threshold, config.suppression_ms, config.minimum_count)
    table_c = None if table is None else np.ascontiguousarray(table, dtype=np.uint32)
    pointer = None if table_c is None else table_c.ctypes.data_as(ctypes.POINTER(ctypes.c_uint32))
    status = lib.kws_recognize_commands_init(ctypes.byref(state), ctypes.byref(cfg), outputs.shape[1], pointer)
    assert status == 0, f"init returned {status}"
    rows = np.ascontiguousarray(outputs, dtype=np.int8)
    decisions = []
    for row, t in zip(rows, times_ms):
        status = lib.kws_recognize_commands_process(ctypes.byref(state), row.ctypes.data_as(ctypes.c_void_p),
                                                    ctypes.c_int32(int(t)), ctypes.byref(decision))
        assert status == 0, f"process at {t} ms returned {status}"
        decisions.append(Decision(int(t), decision.top_class, decision.score, bool(decision.is_new_command)))
    return decisions
