"""Op parameter records of the firmware's model description (firmware/src/interpreter.h).

The host does the arithmetic TFLite Micro's ``Prepare`` does — requantisation multipliers and
shifts (double precision, as in C++), paddings, activation clamps, softmax and sigmoid constants —
so the board only checks sizes and calls the kernels. Each record function takes the parsed graph,
the op and the blob's data-section writer (for per-channel tables) and returns the record bytes.
"""
from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

import numpy as np

from nas.errors import ConfigError

if TYPE_CHECKING:
    from nas.board.model_blob import DataWriter
    from nas.tflite_model import Graph, Op, Tensor

# TFLite fixes these ops' int8 output quantisation (scale, zero point); the kernels assume it.
_FIXED_OUTPUT_QUANT = {"LOGISTIC": (1.0 / 256, -128), "TANH": (1.0 / 128, 0)}


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


def nhwc(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
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


def _conv_like_record(graph: Graph, op: Op, w: DataWriter, depthwise: bool) -> bytes:
    inp, weights, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    o = op.options
    _, in_h, in_w, in_c = nhwc(inp.shape)
    _, k_h, k_w, _ = nhwc(weights.shape)
    _, out_h, out_w, out_c = nhwc(out.shape)
    pad_h = _same_padding(in_h, k_h, o.strideH, o.dilationHFactor, out_h, o.padding)
    pad_w = _same_padding(in_w, k_w, o.strideW, o.dilationWFactor, out_w, o.padding)
    act = _activation_range(o.fusedActivationFunction, out)
    mults, shifts = _channel_quant(inp, weights, out, out_c)
    head = [-inp.zero_point, out.zero_point]
    if depthwise:
        head.append(out_c // in_c)
    fields = head + [o.strideW, o.strideH, pad_w, pad_h, o.dilationWFactor, o.dilationHFactor, *act]
    return struct.pack(f"<{len(fields)}i2I", *fields, w.ints(mults), w.ints(shifts))


def _fc_record(graph: Graph, op: Op, w: DataWriter) -> bytes:
    inp, weights, out = (graph.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    act = _activation_range(op.options.fusedActivationFunction, out)
    fields = [-inp.zero_point, -weights.zero_point, out.zero_point, *act]
    units = weights.shape[0]
    if weights.scales.size > 1:
        mults, shifts = _channel_quant(inp, weights, out, units)
        return struct.pack("<5iIiiII", *fields, 1, 0, 0, w.ints(mults), w.ints(shifts))
    m, sh = quantize_multiplier(float(inp.scale) * float(weights.scale) / float(out.scale))
    return struct.pack("<5iIiiII", *fields, 0, m, sh, 0, 0)


def _pool_record(graph: Graph, op: Op, w: DataWriter) -> bytes:
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    o = op.options
    _, in_h, in_w, _ = nhwc(inp.shape)
    _, out_h, out_w, _ = nhwc(out.shape)
    pad_h = _same_padding(in_h, o.filterHeight, o.strideH, 1, out_h, o.padding)
    pad_w = _same_padding(in_w, o.filterWidth, o.strideW, 1, out_w, o.padding)
    act = _activation_range(o.fusedActivationFunction, out)
    return struct.pack("<8i", o.strideW, o.strideH, pad_w, pad_h, *act, o.filterHeight, o.filterWidth)


def _softmax_record(graph: Graph, op: Op, w: DataWriter) -> bytes:
    """TFLite Micro's int8 softmax Prepare: beta·input_scale in Q5.26 terms, and diff_min."""
    inp = graph.tensors[op.inputs[0]]
    integer_bits = 5
    real = min(op.options.beta * float(inp.scale) * (1 << (31 - integer_bits)), float((1 << 31) - 1))
    multiplier, left_shift = quantize_multiplier(real)
    radius = ((1 << integer_bits) - 1) * float(1 << (31 - integer_bits)) / float(1 << left_shift)
    return struct.pack("<3i", multiplier, left_shift, -int(math.floor(radius)))


def _no_record(graph: Graph, op: Op, w: DataWriter) -> bytes:
    return b""


def _pad_record(graph: Graph, op: Op, w: DataWriter) -> bytes:
    """Paddings (constant input 1, [rank, 2]) right-aligned to [N, H, W, C]; fill = output zero point."""
    inp, paddings, out = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    if paddings.data is None or op.name != "PAD":
        raise ConfigError(f"model {graph.source}: PAD with non-constant paddings; the firmware needs them constant")
    pads = np.frombuffer(paddings.data, dtype="<i4").reshape(-1, 2)
    if len(pads) > 4:
        raise ConfigError(f"model {graph.source}: PAD of rank {len(pads)}; the firmware pads rank <= 4")
    pads = np.concatenate([np.zeros((4 - len(pads), 2), np.int64), pads])
    if inp.zero_point != out.zero_point or not np.isclose(inp.scale, out.scale):
        raise ConfigError(f"model {graph.source}: PAD changes quantisation; TFLite requires input == output")
    return struct.pack("<9i", *pads[:, 0], *pads[:, 1], out.zero_point)


def _pack_record(graph: Graph, op: Op, w: DataWriter) -> bytes:
    """[outer, count, inner] around the (un)packed axis of the single side."""
    whole = graph.tensors[op.inputs[0] if op.name == "UNPACK" else op.outputs[0]]
    count = len(op.outputs) if op.name == "UNPACK" else len(op.inputs)
    axis = op.options.axis % len(whole.shape)
    if whole.shape[axis] != count:
        raise ConfigError(f"model {graph.source}: {op.name} of {count} tensors along an axis of {whole.shape[axis]}")
    outer = int(np.prod(whole.shape[:axis], dtype=np.int64))
    inner = int(np.prod(whole.shape[axis + 1:], dtype=np.int64))
    return struct.pack("<3i", outer, count, inner)


def _check_suffix_broadcast(graph: Graph, op: Op) -> None:
    """The kernels broadcast by repeating an input ([1, H] with [H], scalars): its shape, leading 1s
    dropped, must be the output shape's tail."""
    out_shape = graph.tensors[op.outputs[0]].shape
    for index in op.inputs:
        shape = list(graph.tensors[index].shape)
        while shape and shape[0] == 1:
            shape.pop(0)
        if shape and tuple(shape) != tuple(out_shape[len(out_shape) - len(shape):]):
            raise ConfigError(f"model {graph.source}: {op.name} broadcasts {graph.tensors[index].shape} to "
                              f"{out_shape}; the firmware repeats an input only as a trailing block")


def _add_record(graph: Graph, op: Op, w: DataWriter) -> bytes:
    """TFLite Micro's int8 ADD / SUB Prepare (left shift 20, both inputs on twice the larger scale)."""
    _check_suffix_broadcast(graph, op)
    a, b, out = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    twice_max = 2.0 * max(a.scale, b.scale)
    left_shift = 20
    m1, s1 = quantize_multiplier(a.scale / twice_max)
    m2, s2 = quantize_multiplier(b.scale / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << left_shift) * out.scale))
    act = _activation_range(op.options.fusedActivationFunction, out)
    return struct.pack("<12i", -a.zero_point, -b.zero_point, out.zero_point, left_shift, m1, s1, m2, s2, mo, so, *act)


def _mul_record(graph: Graph, op: Op, w: DataWriter) -> bytes:
    _check_suffix_broadcast(graph, op)
    a, b, out = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    m, sh = quantize_multiplier(a.scale * b.scale / out.scale)
    act = _activation_range(op.options.fusedActivationFunction, out)
    return struct.pack("<7i", -a.zero_point, -b.zero_point, out.zero_point, m, sh, *act)


def _sigmoid_record(graph: Graph, op: Op, w: DataWriter) -> bytes:
    """TFLite Micro's int8 LOGISTIC / TANH Prepare: input rescaled to Q4.27 (frexp without
    renormalisation) and the radius beyond which the output saturates."""
    inp, out = graph.tensors[op.inputs[0]], graph.tensors[op.outputs[0]]
    scale, zero_point = _FIXED_OUTPUT_QUANT[op.name]
    if out.zero_point != zero_point or not math.isclose(out.scale, scale, rel_tol=1e-6):
        raise ConfigError(f"model {graph.source}: {op.name} output quantisation ({out.scale}, {out.zero_point}); "
                          f"TFLite's int8 kernel needs ({scale}, {zero_point})")
    integer_bits = 4
    fraction, exponent = math.frexp(inp.scale * (1 << (31 - integer_bits)))
    multiplier = math.floor(fraction * (1 << 31) + 0.5)
    radius = math.floor(((1 << integer_bits) - 1) * float(1 << (31 - integer_bits)) / math.ldexp(1.0, exponent))
    return struct.pack("<4i", inp.zero_point, radius, multiplier, exponent)


# one record builder per op of nas.tflite_model.FIRMWARE_OPCODES (a test checks the keys agree)
RECORDS = {
    "CONV_2D": lambda g, op, w: _conv_like_record(g, op, w, depthwise=False),
    "DEPTHWISE_CONV_2D": lambda g, op, w: _conv_like_record(g, op, w, depthwise=True),
    "FULLY_CONNECTED": _fc_record,
    "AVERAGE_POOL_2D": _pool_record,
    "SOFTMAX": _softmax_record,
    "RESHAPE": _no_record,
    "PAD": _pad_record,
    "UNPACK": _pack_record,
    "PACK": _pack_record,
    "ADD": _add_record,
    "SUB": _add_record,
    "MUL": _mul_record,
    "LOGISTIC": _sigmoid_record,
    "TANH": _sigmoid_record,
}


def supported_ops() -> list[str]:
    return sorted(RECORDS)


