"""int8 ``.tflite`` → the firmware's model description (firmware/src/model.h, interpreter.h).

Uploaded over serial into RAM: one firmware build then serves every candidate of a search (no
cross-compilation per trial), and any valid int8 .tflite whose ops the firmware supports can be
measured. A board whose RAM cannot hold it gets it compiled into a flash-mode image instead
(:mod:`nas.board.flash_image`). The host does all the arithmetic TFLite's ``Prepare`` does
(requantisation multipliers and shifts, paddings, activation clamps, softmax constants) and plans
the activation arena by tensor lifetimes, so the board only checks and runs. A pruned conv or fully
connected filter is stored sparse where the firmware's sparse kernel is measured faster
(nas.board.sparse_layers); its dims stay dense.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from nas.board.op_records import RECORDS, nhwc, quantize_multiplier, supported_ops
from nas.board.sparse_layers import sparse_plan
from nas.errors import ConfigError
from nas.tflite_model import FIRMWARE_OPCODES, Graph, read_model

__all__ = ["quantize_multiplier", "supported_ops", "graph_to_blob", "tflite_to_blob", "plan_arena"]

MAGIC = 0x4D53574B  # "KWSM"
VERSION = 3  # 3: sparse filters; the firmware still loads version 2 (no sparse tensors)
MAX_OP_TENSORS = 256  # firmware/src/model.h: one UNPACK output per time step
MAX_TENSORS = MAX_OPS = 4096  # firmware/src/model.c: a board refuses more (`e-[model-counts]`)
ARENA_ALIGN = 16
HEADER = struct.Struct("<8I16s")
TENSOR = struct.Struct("<4B4iIIif")
OP = struct.Struct("<I2H3I")


_TYPE_CODES = {"int8": 0, "int16": 1, "int32": 2}


def _check_integer_model(graph: Graph) -> None:
    """The firmware runs one subgraph of int8 activations and weights with int32 biases."""
    if graph.subgraphs != 1:
        raise ConfigError(f"model {graph.source}: {graph.subgraphs} subgraphs; the firmware runs exactly one")
    for t in graph.tensors:
        if t.dtype not in _TYPE_CODES:
            raise ConfigError(
                f"model {graph.source}: tensor {t.index} ({t.name}) has TFLite type {t.dtype}; "
                "expected a full-int8 model (int8 activations and weights, int32 biases)"
            )


class DataWriter:
    """The data section: appends aligned byte strings, returns their blob offsets.

    Identical strings are stored once: an unrolled recurrent layer's T nodes share one weight
    matrix (and one requantisation table), which would otherwise be uploaded T times.
    """

    def __init__(self, start: int) -> None:
        self.start = start
        self.chunks: list[bytes] = []
        self.size = 0
        self._offsets: dict[tuple[bytes, int], int] = {}

    def add(self, data: bytes, align: int = 4) -> int:
        key = (data, align)
        if key in self._offsets:
            return self._offsets[key]
        self._offsets[key] = offset = self._append(data, align)
        return offset

    def _append(self, data: bytes, align: int) -> int:
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

def graph_to_blob(graph: Graph, name: str = "model", sparse: str = "auto") -> bytes:
    """Serialise a parsed graph; ConfigError names any op or tensor the firmware cannot run.

    ``sparse``: "auto" stores a pruned filter sparse where that is predicted faster, "never" keeps
    every filter dense, "always" stores every eligible filter sparse (nas.board.sparse_layers)."""
    unsupported = sorted({op.name for op in graph.ops} - set(RECORDS))
    if unsupported:
        raise ConfigError(
            f"model {graph.source}: ops {unsupported} are not supported by the firmware; supported: {supported_ops()}"
        )
    _check_integer_model(graph)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise ConfigError(f"model {graph.source}: expected one input and one output tensor")
    for t in graph.inputs + graph.outputs:
        if graph.tensors[t].dtype != "int8":
            raise ConfigError(f"model {graph.source}: input/output tensor {graph.tensors[t].name} must be int8")
    if len(graph.tensors) > MAX_TENSORS or len(graph.ops) > MAX_OPS:
        raise ConfigError(f"model {graph.source}: {len(graph.ops)} ops and {len(graph.tensors)} tensors; the firmware "
                          f"holds at most {MAX_OPS} of each (an unrolled recurrent model of many steps and layers)")
    for op in graph.ops:
        if len(op.inputs) > MAX_OP_TENSORS or len(op.outputs) > MAX_OP_TENSORS:
            raise ConfigError(f"model {graph.source}: {op.name} has more than {MAX_OP_TENSORS} inputs/outputs")
    plan = sparse_plan(graph, sparse)
    offsets, arena_bytes = plan_arena(graph)
    tables = HEADER.size + TENSOR.size * len(graph.tensors) + OP.size * len(graph.ops)
    writer = DataWriter(tables)
    tensor_rows = []
    for t in graph.tensors:
        stored, is_sparse = t.nbytes, t.index in plan
        if is_sparse:
            record = plan[t.index].record()
            offset, is_const, stored = writer.add(record, 16), 1, len(record)
        elif t.data is not None:
            offset, is_const = writer.add(t.data, 16), 1
        else:
            offset, is_const = offsets.get(t.index, 0), 0
        tensor_rows.append(TENSOR.pack(_TYPE_CODES[t.dtype], len(t.shape), is_const, int(is_sparse), *nhwc(t.shape),
                                       offset, stored, t.zero_point, t.scale))
    op_rows = []
    for op in graph.ops:
        record = RECORDS[op.name](graph, op, writer)
        record_offset = writer.add(record) if record else 0
        indices = writer.add(np.asarray(op.inputs + op.outputs, dtype="<i2").tobytes())
        op_rows.append(OP.pack(FIRMWARE_OPCODES[op.name], len(op.inputs), len(op.outputs), indices, record_offset,
                               len(record)))
    body = b"".join(tensor_rows) + b"".join(op_rows) + b"".join(writer.chunks)
    total = HEADER.size + len(body)
    header = HEADER.pack(MAGIC, VERSION, len(graph.tensors), len(graph.ops), graph.inputs[0], graph.outputs[0],
                         arena_bytes, total, name.encode("ascii", "replace")[:15])
    return header + body


def tflite_to_blob(model: bytes | Path, name: str | None = None, sparse: str = "auto") -> bytes:
    """Read an int8 .tflite (bytes or a path) and return its model description for the firmware."""
    default = "model" if isinstance(model, (bytes, bytearray)) else Path(model).stem[:15]
    return graph_to_blob(read_model(model), name or default, sparse)
