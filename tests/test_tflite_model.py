"""The one .tflite reader and the one op list: the Python op table is the firmware's C enum, and
every list of supported ops derives from it."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from nas.errors import ConfigError
from nas.paths import FIRMWARE_DIR
from nas.tflite_model import FIRMWARE_OPCODES, SAME_QUANTIZATION_OPS, op_name, read_model
from tests.board.tf_models import cached_tflite


def _c_opcode_enum() -> dict[str, int]:
    """``kws_opcode_t`` as written in firmware/src/interpreter.h."""
    header = (FIRMWARE_DIR / "src" / "interpreter.h").read_text()
    body = re.search(r"typedef\s+enum\s*\{(.*?)\}\s*kws_opcode_t\s*;", header, re.S)
    assert body, "no kws_opcode_t enum in interpreter.h"
    return {name: int(code) for name, code in re.findall(r"KWS_OP_(\w+)\s*=\s*(\d+)", body.group(1))}


def test_the_python_op_table_is_the_firmwares_c_enum_names_and_codes():
    assert _c_opcode_enum() == FIRMWARE_OPCODES


def test_the_firmware_runs_every_op_of_its_enum():
    source = (FIRMWARE_DIR / "src" / "interpreter.c").read_text()
    table = set(re.findall(r"^\s*\{KWS_OP_(\w+),", source, re.M))  # the interpreter's op descriptor rows
    assert table == set(FIRMWARE_OPCODES)


def test_board_records_and_export_checks_derive_from_the_one_list():
    from nas.board.op_records import RECORDS
    from nas.export.tflite import ALLOWED_OPS

    assert set(RECORDS) == set(FIRMWARE_OPCODES)
    assert ALLOWED_OPS == set(FIRMWARE_OPCODES) - {"SOFTMAX"}  # exported models end on logits
    assert SAME_QUANTIZATION_OPS <= set(FIRMWARE_OPCODES)


def test_op_name_takes_the_larger_of_the_two_code_fields():
    from tensorflow.lite.python import schema_py_generated as schema

    ops = schema.BuiltinOperator
    assert op_name(SimpleNamespace(builtinCode=0, deprecatedBuiltinCode=ops.CONV_2D)) == "CONV_2D"  # old files
    assert op_name(SimpleNamespace(builtinCode=ops.CONV_2D, deprecatedBuiltinCode=ops.CONV_2D)) == "CONV_2D"
    # a code above 127 lives only in builtinCode; the deprecated field holds the placeholder 127
    assert ops.BROADCAST_TO > 127
    assert op_name(SimpleNamespace(builtinCode=ops.BROADCAST_TO, deprecatedBuiltinCode=127)) == "BROADCAST_TO"


def test_read_model_gives_the_same_graph_from_bytes_and_from_a_path(pytestconfig):
    path = cached_tflite(Path(pytestconfig.cache.mkdir("kws_board_models")), "ds_cnn")
    from_path, from_bytes = read_model(path), read_model(path.read_bytes())
    assert from_path.source == str(path) and from_bytes.source == "<bytes>"
    assert [op.name for op in from_path.ops] == [op.name for op in from_bytes.ops]
    assert [op.name for op in from_path.ops][-1] == "SOFTMAX" and "DEPTHWISE_CONV_2D" in {op.name for op in from_path.ops}
    assert [(t.dtype, t.shape, t.data) for t in from_path.tensors] == [(t.dtype, t.shape, t.data) for t in from_bytes.tensors]
    inp = from_path.tensors[from_path.inputs[0]]
    assert (inp.dtype, inp.shape) == ("int8", (1, 49, 10)) and inp.scale > 0
    assert from_path.subgraphs == 1


def test_unreadable_models_are_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        read_model(tmp_path / "missing.tflite")
    with pytest.raises(ConfigError, match=r"<bytes>: not a readable \.tflite"):
        read_model(b"\x00" * 64)
