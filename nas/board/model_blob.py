"""int8 ``.tflite`` → the firmware's model description (firmware/src/model.h, interpreter.h).

Uploaded over serial into RAM rather than compiled in: one firmware build then serves every
candidate of a search (no cross-compilation per trial), and any valid int8 .tflite whose ops the
firmware supports can be measured. The host does all the arithmetic TFLite's ``Prepare`` does
(requantisation multipliers and shifts, paddings, activation clamps, softmax constants) and plans
the activation arena by tensor lifetimes, so the board only checks and runs.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nas.errors import ConfigError

MAGIC = 0x4D53574B  # "KWSM"
VERSION = 1
MAX_OP_TENSORS = 8
ARENA_ALIGN = 16
HEADER = struct.Struct("<8I16s")
TENSOR = struct.Struct("<4B4iIIif")
OP = struct.Struct("<I4B8h8hII")

# firmware/src/interpreter.h kws_opcode_t
OPCODES = {
    "CONV_2D": 1, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 3, "AVERAGE_POOL_2D": 4,
    "SOFTMAX": 5, "RESHAPE": 6,
}
_TYPE_CODES = {"int8": 0, "int16": 1, "int32": 2}


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: real = multiplier · 2^(shift − 31), multiplier in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    fraction, shift = math.frexp(real)
    fixed = math.floor(fraction * (1 << 31) + 0.5)  # std::round: half away from zero (positive here)
    if fixed == 1 << 31:
        fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return fixed, shift


@dataclass
class Tensor:
    index: int
    name: str
    dtype: str
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
        return int(np.prod(self.shape, dtype=np.int64)) * {"int8": 1, "int16": 2, "int32": 4}[self.dtype]


@dataclass
class Op:
    name: str
    inputs: list[int]
    outputs: list[int]
    options: object


@dataclass
class Graph:
    """The subgraph of a .tflite as plain Python (flatbuffer read once)."""

    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]
    source: str = ""
    extra_records: list[bytes] = field(default_factory=list)


_TFLITE_TYPES = {9: "int8", 7: "int16", 2: "int32"}


def read_tflite(path: Path) -> Graph:
    """Parse a .tflite with TensorFlow's flatbuffer schema; refuse non-integer tensors."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"model {path}: no such file")
    try:
        model = flatbuffer_utils.read_model(str(path))
    except Exception as err:  # the flatbuffer reader raises assorted errors on garbage
        raise ConfigError(f"model {path}: not a readable .tflite flatbuffer ({err})") from None
    if len(model.subgraphs) != 1:
        raise ConfigError(f"model {path}: {len(model.subgraphs)} subgraphs; the firmware runs exactly one")
    graph = model.subgraphs[0]
    op_names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    tensors = []
    for i, t in enumerate(graph.tensors):
        dtype = _TFLITE_TYPES.get(t.type)
        if dtype is None:
            raise ConfigError(
                f"model {path}: tensor {i} ({t.name.decode(errors='replace')}) has TFLite type {t.type}; "
                "expected a full-int8 model (int8 activations and weights, int32 biases)"
            )
        buffer = model.buffers[t.buffer].data if t.buffer < len(model.buffers) else None
        q = t.quantization
        scales = np.asarray(q.scale if q is not None and q.scale is not None else [], dtype=np.float32)
        zps = np.asarray(q.zeroPoint if q is not None and q.zeroPoint is not None else [], dtype=np.int64)
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        data = bytes(np.asarray(buffer, dtype=np.uint8)) if buffer is not None and len(buffer) else None
        tensors.append(Tensor(i, t.name.decode(errors="replace"), dtype, shape, scales, zps, data))
    ops = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
        ops.append(Op(op_names.get(builtin, f"BUILTIN_{builtin}"), [int(i) for i in op.inputs],
                      [int(i) for i in op.outputs], op.builtinOptions))
    return Graph(tensors, ops, [int(i) for i in graph.inputs], [int(i) for i in graph.outputs], str(path))


# ---- op records (firmware/src/interpreter.h) ----

def _activation_range(fused: int, out: Tensor) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized for NONE / RELU / RELU_N1_TO_1 / RELU6."""
    zp, scale = out.zero_point, out.scale

    def quantize(x: float) -> int:
        q = float(np.float32(x) / np.float32(scale))  # float division, as TFLite does
        return zp + int(math.copysign(math.floor(abs(q) + 0.5), q))  # TfLiteRound: half away from 0

    if fused == 0:
        return -128, 127
    if fused == 1:
        return max(-128, zp), 127
    if fused == 2:
        return max(-128, quantize(-1.0)), min(127, quantize(1.0))
    if fused == 3:
        return max(-128, zp), min(127, quantize(6.0))
    raise ConfigError(f"fused activation {fused} is not supported by the firmware (NONE, RELU, RELU_N1_TO_1, RELU6)")


def _same_padding(in_size: int, filter_size: int, stride: int, dilation: int, out_size: int, padding: int) -> int:
    if padding != 0:  # VALID
        return 0
    effective = (filter_size - 1) * dilation + 1
    return max((out_size - 1) * stride + effective - in_size, 0) // 2


def _nhwc(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    if len(shape) > 4:
        raise ConfigError(f"tensor of rank {len(shape)}: the firmware handles rank <= 4")
    return (1,) * (4 - len(shape)) + tuple(shape)


def _channel_quant(inp: Tensor, weights: Tensor, out: Tensor, channels: int) -> tuple[list[int], list[int]]:
    scales = weights.scales if weights.scales.size > 1 else np.repeat(weights.scales, channels)
    mults, shifts = [], []
    for s in scales:
        m, sh = quantize_multiplier(float(inp.scale) * float(s) / float(out.scale))
        mults.append(m)
        shifts.append(sh)
    return mults, shifts


class _Writer:
    """The data section: appends aligned byte strings, returns their blob offsets."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, data: bytes, align: int = 4) -> int:
        pad = (-(self.start + self.size)) % align
        if pad:
            self.chunks.append(b"\0" * pad)
            self.size += pad
        offset = self.start + self.size
        self.chunks.append(data)
        self.size += len(data)
        return offset

    def ints(self, values: list[int]) -> int:
        return self.add(np.asarray(values, dtype="<i4").tobytes())


def _conv_like_record(graph: Graph, op: Op, w: _Writer, depthwise: bool) -> bytes:
    inp, weights, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    o = op.options
    _, in_h, in_w, in_c = _nhwc(inp.shape)
    _, k_h, k_w, _ = _nhwc(weights.shape)
    _, out_h, out_w, out_c = _nhwc(out.shape)
    pad_h = _same_padding(in_h, k_h, o.strideH, o.dilationHFactor, out_h, o.padding)
    pad_w = _same_padding(in_w, k_w, o.strideW, o.dilationWFactor, out_w, o.padding)
    act = _activation_range(o.fusedActivationFunction, out)
    mults, shifts = _channel_quant(inp, weights, out, out_c)
    head = [-inp.zero_point, out.zero_point]
    if depthwise:
        head.append(out_c // in_c)
    fields = head + [o.strideW, o.strideH, pad_w, pad_h, o.dilationWFactor, o.dilationHFactor, *act]
    return struct.pack(f"<{len(fields)}i2I", *fields, w.ints(mults), w.ints(shifts))


def _fc_record(graph: Graph, op: Op, w: _Writer) -> bytes:
    inp, weights, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    act = _activation_range(op.options.fusedActivationFunction, out)
    fields = [-inp.zero_point, -weights.zero_point, out.zero_point, *act]
    units = weights.shape[0]
    if weights.scales.size > 1:
        mults, shifts = _channel_quant(inp, weights, out, units)
        return struct.pack("<5iIiiII", *fields, 1, 0, 0, w.ints(mults), w.ints(shifts))
    m, sh = quantize_multiplier(float(inp.scale) * float(weights.scale) / float(out.scale))
    return struct.pack("<5iIiiII", *fields, 0, m, sh, 0, 0)


def _pool_record(graph: Graph, op: Op, w: _Writer) -> bytes:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    o = op.options
    _, in_h, in_w, _ = _nhwc(inp.shape)
    _, out_h, out_w, _ = _nhwc(out.shape)
    pad_h = _same_padding(in_h, o.filterHeight, o.strideH, 1, out_h, o.padding)
    pad_w = _same_padding(in_w, o.filterWidth, o.strideW, 1, out_w, o.padding)
    act = _activation_range(o.fusedActivationFunction, out)
    return struct.pack("<8i", o.strideW, o.strideH, pad_w, pad_h, *act, o.filterHeight, o.filterWidth)


def _softmax_record(graph: Graph, op: Op, w: _Writer) -> bytes:
    """TFLite Micro's int8 softmax Prepare: beta·input_scale in Q5.26 terms, and diff_min."""
    inp = graph.tensors[op.inputs[0]]
    integer_bits = 5
    real = min(op.options.beta * float(inp.scale) * (1 << (31 - integer_bits)), float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier(real)
    radius = ((1 << integer_bits) - 1) * float(1 << (31 - integer_bits)) / float(1 << left_shift)
    return struct.pack("<3i", multiplier, left_shift, -int(math.floor(radius)))


def _no_record(graph: Graph, op: Op, w: _Writer) -> bytes:
    return b""


_RECORDS = {
    "CONV_2D": lambda g, op, w: _conv_like_record(g, op, w, depthwise=False),
    "DEPTHWISE_CONV_2D": lambda g, op, w: _conv_like_record(g, op, w, depthwise=True),
    "FULLY_CONNECTED": _fc_record,
    "AVERAGE_POOL_2D": _pool_record,
    "SOFTMAX": _softmax_record,
    "RESHAPE": _no_record,
}


def supported_ops() -> list[str]:
    return sorted(_RECORDS)


# ---- arena planning ----

def plan_arena(graph: Graph) -> tuple[dict[int, int], int]:
    """Greedy first-fit by size over tensor lifetimes (op index of first write .. last read).

    Returns the arena offset of every activation tensor and the arena size.
    """
    n_ops = len(graph.ops)
    first, last = {}, {}
    # The input stays intact for the whole invoke, so `infer N W%` reruns on the same features.
    for t in graph.inputs:
        first[t], last[t] = 0, n_ops
    for i, op in enumerate(graph.ops):
        for t in op.outputs:
            first.setdefault(t, i)
            last[t] = max(last.get(t, i), i)
        for t in op.inputs:
            if t >= 0 and graph.tensors[t].data is None:
                first.setdefault(t, i)
                last[t] = max(last.get(t, i), i)
    for t in graph.outputs:
        last[t] = n_ops
    placed: list[tuple[int, int, int, int]] = []  # (offset, end, first, last)
    offsets = {}
    for t in sorted(first, key=lambda t: (-graph.tensors[t].nbytes, t)):
        size = graph.tensors[t].nbytes
        offset = 0
        for p_off, p_end, p_first, p_last in sorted(placed):
            overlaps_in_time = not (last[t] < p_first or p_last < first[t])
            if overlaps_in_time and offset < p_end and p_off < offset + size:
                offset = p_end + (-p_end) % ARENA_ALIGN
        placed.append((offset, offset + size, first[t], last[t]))
        offsets[t] = offset
    arena = max((end for _, end, _, _ in placed), default=0)
    return offsets, arena + (-arena) % ARENA_ALIGN


# ---- the blob ----

def graph_to_blob(graph: Graph, name: str = "model") -> bytes:
    """Serialise a parsed graph; ConfigError names any op or tensor the firmware cannot run."""
    unsupported = sorted({op.name for op in graph.ops} - set(_RECORDS))
    if unsupported:
        raise ConfigError(
            f"model {graph.source}: ops {unsupported} are not supported by the firmware; supported: {supported_ops()}"
        )
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ConfigError(f"model {graph.source}: expected one input and one output tensor")
    for t in graph.inputs + graph.outputs:
        if graph.tensors[t].dtype != "int8":
            raise ConfigError(f"model {graph.source}: input/output tensor {graph.tensors[t].name} must be int8")
    for op in graph.ops:
        if len(op.inputs) > MAX_OP_TENSORS or len(op.outputs) > MAX_OP_TENSORS:
            raise ConfigError(f"model {graph.source}: {op.name} has more than {MAX_OP_TENSORS} inputs/outputs")
    offsets, arena_bytes = plan_arena(graph)
    tables = HEADER.size + TENSOR.size * len(graph.tensors) + OP.size * len(graph.ops)
    writer = _Writer(tables)
    tensor_rows = []
    for t in graph.tensors:
        if t.data is not None:
            offset, is_const = writer.add(t.data, 16), 1
        else:
            offset, is_const = offsets.get(t.index, 0), 0
        tensor_rows.append(TENSOR.pack(_TYPE_CODES[t.dtype], len(t.shape), is_const, 0, *_nhwc(t.shape),
                                       offset, t.nbytes, t.zero_point, t.scale))
    op_rows = []
    for op in graph.ops:
        record = _RECORDS[op.name](graph, op, writer)
        record_offset = writer.add(record) if record else 0
        ins = op.inputs + [-1] * (MAX_OP_TENSORS - len(op.inputs))
        outs = op.outputs + [-1] * (MAX_OP_TENSORS - len(op.outputs))
        op_rows.append(OP.pack(OPCODES[op.name], len(op.inputs), len(op.outputs), 0, 0, *ins, *outs,
                               record_offset, len(record)))
    body = b"".join(tensor_rows) + b"".join(op_rows) + b"".join(writer.chunks)
    total = HEADER.size + len(body)
    header = HEADER.pack(MAGIC, VERSION, len(graph.tensors), len(graph.ops), graph.inputs[0], graph.outputs[0],
                         arena_bytes, total, name.encode("ascii", "replace")[:15])
    return header + body


def tflite_to_blob(path: Path, name: str | None = None) -> bytes:
    """Read an int8 .tflite and return its model description for the firmware."""
    path = Path(path)
    return graph_to_blob(read_tflite(path), name or path.stem[:15])
