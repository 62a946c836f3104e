"""The one reader of a ``.tflite`` flatbuffer, and the one list of ops the kws-nas firmware runs.

`read_model` turns a .tflite (bytes or a path) into a plain `Graph` of tensors and ops, parsed once
with TensorFlow's flatbuffer schema; the board (the firmware's model description) and export (op and
quantisation checks) both read models through it. Code that rewrites a model in place (input pinning,
buffer merging, float islands in ``nas.export``) keeps TensorFlow's object API but names ops through
`op_name`, the one decoding of an operator code.

`FIRMWARE_OPCODES` mirrors the firmware's ``kws_opcode_t`` (firmware/src/interpreter.h); the set of
ops an exported model may contain and the board's op records derive from it, and a test parses the C
enum to check the two agree.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nas.errors import ConfigError

# firmware/src/interpreter.h kws_opcode_t: TFLite builtin op name → the firmware's opcode
FIRMWARE_OPCODES = {
    "CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 3, "AVERAGE_POOL_2D": 4,
    "SOFTMAX": 5, "RESHAPE": 6, "PAD": 7, "UNPACK": 8, "PACK": 9, "ADD": 10, "SUB": 11, "MUL": 12,
    "LOGISTIC": 13, "TANH": 14,
}
# Ops that move int8 values of their first input without arithmetic: TFLite requires their outputs to
# keep that input's scale and zero point, so an input scale flows through them unchanged and running
# them on int8 bytes is exact wherever they were left in float.
SAME_QUANTIZATION_OPS = frozenset({"RESHAPE", "PAD", "UNPACK"})

_ITEMSIZE = {"int8": 1, "uint8": 1, "int16": 2, "int32": 4, "int64": 8, "float16": 2, "float32": 4, "bool": 1}


def _schema():
    from tensorflow.lite.python import schema_py_generated as schema

    return schema


@functools.cache
def _builtin_op_names() -> dict[int, str]:
    return {v: k for k, v in vars(_schema().BuiltinOperator).items() if not k.startswith("_")}


def op_name(operator_code) -> str:
    """The builtin op name of a flatbuffer ``OperatorCode`` (either API): newer files put codes above
    127 in ``builtinCode`` and keep ``deprecatedBuiltinCode`` for older readers, so the larger is it."""
    code = max(int(operator_code.builtinCode), int(operator_code.deprecatedBuiltinCode))
    return _builtin_op_names().get(code, f"BUILTIN_{code}")


@dataclass
class Tensor:
    index: int
    name: str
    dtype: str  # TFLite's TensorType in lower case: "int8", "int32", "float32", ...
    shape: tuple[int, ...]
    scales: np.ndarray
    zero_points: np.ndarray
    data: bytes | None  # constant bytes, or None for an activation

    @property
    def scale(self) -> float:
        return float(self.scales[0]) if self.scales.size else 0.0

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0]) if self.zero_points.size else 0

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * _ITEMSIZE.get(self.dtype, 4)


@dataclass
class Op:
    name: str
    inputs: list[int]  # -1: an absent optional input
    outputs: list[int]
    options: object  # the op's builtin options (object API), e.g. strides and fused activation


@dataclass
class Graph:
    """The first subgraph of a .tflite as plain Python (tensors in file order, ops in execution order)."""

    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    source: str = ""  # the file, or "<bytes>": what error messages name
    subgraphs: int = 1


def read_model(model: bytes | bytearray | str | Path) -> Graph:
    """Parse a .tflite (its bytes or its path); ConfigError names a missing or unreadable file."""
    from tensorflow.lite.tools import flatbuffer_utils

    if isinstance(model, (bytes, bytearray)):
        source, content = "<bytes>", bytes(model)
    else:
        path = Path(model)
        if not path.is_file():
            raise ConfigError(f"model {path}: no such file")
        source, content = str(path), path.read_bytes()
    try:
        obj = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    except Exception as err:  # the flatbuffer reader raises assorted errors on garbage
        raise ConfigError(f"model {source}: not a readable .tflite flatbuffer ({err})") from None
    if not obj.subgraphs:
        raise ConfigError(f"model {source}: no subgraph")
    types = {v: k.lower() for k, v in vars(_schema().TensorType).items() if not k.startswith("_")}
    graph = obj.subgraphs[0]
    tensors = []
    for i, t in enumerate(graph.tensors):
        buffer = obj.buffers[t.buffer].data if t.buffer < len(obj.buffers) else None
        q = t.quantization
        scales = np.asarray(q.scale if q is not None and q.scale is not None else [], dtype=np.float32)
        zps = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], dtype=np.int64)
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        data = bytes(np.asarray(buffer, dtype=np.uint8)) if buffer is not None and len(buffer) else None
        tensors.append(Tensor(i, (t.name or b"").decode(errors="replace"), types.get(t.type, f"type{t.type}"),
                              shape, scales, zps, data))
    ops = [Op(op_name(obj.operatorCodes[op.opcodeIndex]),
              [int(i) for i in (op.inputs if op.inputs is not None else [])],
              [int(i) for i in (op.outputs if op.outputs is not None else [])], op.builtinOptions)
           for op in (graph.operators or [])]
    return Graph(tensors, ops, [int(i) for i in graph.inputs], [int(i) for i in graph.outputs], source,
                 len(obj.subgraphs))
