"""Which filters the model description stores sparse, in which format and loop order.

The firmware's sparse kernels (firmware/src/kernels/kws_sparse_s8.h) skip pruned weights of a conv,
pointwise conv or fully connected layer in three formats (element, 1×4 block, N:M) and two loop
orders. Each pays only above a break-even sparsity that depends on both: finding a kept weight costs
instructions a dense SMLAD does not spend. So the host packs each eligible filter in every format
its zeros allow, predicts the speed-up over the dense DSP kernel from the measured curves below at
the sparsity the packed filter really has (its stored weights, quad and block padding included), and
stores it sparse only where the best prediction beats dense (``sparse="auto"``). ``"never"`` keeps
every layer dense; ``"always"`` stores every eligible filter in its best format (tests use both).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from nas.errors import ConfigError
from nas.firmware.bench.sparse_speedup import break_even
from nas.firmware.sparse_format import FORMAT_CODE, MAX_M, SparseFilter, pack
from nas.tflite_model import Graph

MODES = ("auto", "never", "always")
ORDER_CODE = {"input-stationary": 0, "weight-prioritised": 1}
RECORD = struct.Struct("<4B6I")  # kws_blob_sparse_t (firmware/src/model.h)

# Speed-up of the sparse kernel over the dense DSP kernel on the same pruned weights, by layer kind,
# format and loop order: (sparsity, speed-up) points, the sparsity being the pruned fraction of the
# format's units (elements, 1×4 blocks, or 1 - N/M). Source: benchmarks/bench_sparse_kernels.py
# --board mps2_an500 (QEMU -icount shift=0: emulated instructions; run of 2026-12-03), the smaller
# speed-up of its two layers of each kind, so a layer goes sparse only where both paid. conv: DS-CNN
# pointwise 64→64 on 25×5 and CNN conv 10×4; fc (batch 1, both loop orders one loop): 64→12, whose
# call overhead makes it the smaller, and 144→144.
MEASURED_SPEED_UP: dict[tuple[str, str, str], tuple[tuple[float, float], ...]] = {
    ("conv", "block", "input-stationary"):
        ((0.2, 0.99), (0.35, 1.19), (0.5, 1.39), (0.7, 1.82), (0.75, 2.04), (0.9, 2.68), (0.95, 3.17)),
    ("conv", "block", "weight-prioritised"):
        ((0.2, 0.92), (0.35, 1.11), (0.5, 1.33), (0.7, 1.62), (0.75, 1.93), (0.9, 2.51), (0.95, 2.65)),
    ("conv", "element", "input-stationary"):
        ((0.2, 0.42), (0.35, 0.48), (0.5, 0.62), (0.7, 0.86), (0.75, 1.00), (0.9, 1.43), (0.95, 1.83)),
    ("conv", "element", "weight-prioritised"):
        ((0.2, 0.44), (0.35, 0.53), (0.5, 0.67), (0.7, 1.03), (0.75, 1.19), (0.9, 1.94), (0.95, 2.48)),
    ("conv", "nm", "input-stationary"):
        ((0.3333, 0.55), (0.5, 0.71), (0.7143, 0.99), (0.75, 1.14), (0.9, 1.63), (0.95, 2.08)),
    ("conv", "nm", "weight-prioritised"):
        ((0.3333, 0.53), (0.5, 0.69), (0.7143, 1.09), (0.75, 1.21), (0.9, 1.93), (0.95, 2.46)),
    ("fc", "block", "input-stationary"):
        ((0.2, 0.59), (0.35, 0.70), (0.5, 0.77), (0.7, 0.88), (0.75, 0.98), (0.9, 1.14), (0.95, 1.21)),
    ("fc", "block", "weight-prioritised"):
        ((0.2, 0.59), (0.35, 0.70), (0.5, 0.77), (0.7, 0.88), (0.75, 0.99), (0.9, 1.14), (0.95, 1.21)),
    ("fc", "element", "input-stationary"):
        ((0.2, 0.31), (0.35, 0.37), (0.5, 0.47), (0.7, 0.62), (0.75, 0.70), (0.9, 0.92), (0.95, 1.09)),
    ("fc", "element", "weight-prioritised"):
        ((0.2, 0.31), (0.35, 0.37), (0.5, 0.47), (0.7, 0.62), (0.75, 0.70), (0.9, 0.92), (0.95, 1.09)),
    ("fc", "nm", "input-stationary"):
        ((0.3333, 0.41), (0.5, 0.51), (0.7143, 0.65), (0.75, 0.74), (0.9, 0.91), (0.95, 1.05)),
    ("fc", "nm", "weight-prioritised"):
        ((0.3333, 0.41), (0.5, 0.51), (0.7143, 0.65), (0.75, 0.74), (0.9, 0.91), (0.95, 1.05)),
}


BREAK_EVEN = {key: break_even(points) for key, points in MEASURED_SPEED_UP.items()}
LOWEST_MEASURED = min(points[0][0] for points in MEASURED_SPEED_UP.values())


def predicted_speed_up(kind: str, fmt: str, order: str, sparsity: float) -> float:
    """Interpolated from MEASURED_SPEED_UP; below its lowest sparsity nothing was measured: 0 (dense wins)."""
    points = MEASURED_SPEED_UP[kind, fmt, order]
    if sparsity < points[0][0]:
        return 0.0
    return float(np.interp(sparsity, [p[0] for p in points], [p[1] for p in points]))


@dataclass(frozen=True)
class SparseChoice:
    """How one filter tensor is stored: its packed form, its loop order, and the prediction behind them."""

    tensor: int
    kind: str  # "conv" or "fc"
    filter: SparseFilter
    order: str
    sparsity: float  # 1 - stored weights / dense weights
    speed_up: float  # predicted over the dense kernel

    def record(self) -> bytes:
        """kws_blob_sparse_t then its arrays, each 4-byte aligned, offsets from the record's start."""
        f = self.filter
        arrays, offsets, at = [], [], RECORD.size
        for array in (f.row_units, f.index, f.offsets, f.values):
            data = array.astype(array.dtype.newbyteorder("<")).tobytes()
            offsets.append(at if data else 0)
            padded = data + bytes(-len(data) % 4)
            arrays.append(padded)
            at += len(padded)
        head = RECORD.pack(FORMAT_CODE[f.format], ORDER_CODE[self.order], f.n, f.m, f.rows, f.taps, *offsets)
        return head + b"".join(arrays)


def sparsest_nm(rows: np.ndarray) -> tuple[int, int] | None:
    """The N:M (N = 1 or 2) with the highest 1 - N/M that every group of M consecutive taps obeys."""
    nonzero = rows != 0
    best = None
    for n in (1, 2):
        for m in range(MAX_M[n], n, -1):  # the first M that holds is this N's sparsest
            if best is not None and 1 - n / m <= 1 - best[0] / best[1]:
                break
            groups = -(-rows.shape[1] // m)
            padded = np.zeros((rows.shape[0], groups * m), bool)
            padded[:, :rows.shape[1]] = nonzero
            if (padded.reshape(rows.shape[0], groups, m).sum(axis=2) <= n).all():
                best = (n, m)
                break
    return best


def _eligible_filters(graph: Graph) -> dict[int, str]:
    """Filter tensor → "conv" or "fc", for constant int8 filters that only sparse-capable ops read:
    CONV_2D, and FULLY_CONNECTED with weights of zero point 0 (per-channel ones run as a 1x1 conv)."""
    kinds: dict[int, set[str]] = {}
    for op in graph.ops:
        for position, index in enumerate(op.inputs):
            if index < 0 or graph.tensors[index].data is None:
                continue
            kind = None
            if position == 1 and op.name == "CONV_2D":
                kind = "conv"
            elif position == 1 and op.name == "FULLY_CONNECTED":
                kind = "fc" if not graph.tensors[index].zero_points.any() else None
            kinds.setdefault(index, set()).add(kind)
    return {t: next(iter(k)) for t, k in kinds.items()
            if len(k) == 1 and None not in k and graph.tensors[t].dtype == "int8"}


def choose(graph: Graph, index: int, kind: str) -> SparseChoice:
    """The filter's best format and loop order by predicted speed-up."""
    t = graph.tensors[index]
    rows = np.frombuffer(t.data, np.int8).reshape(t.shape[0], -1)
    packed = [pack(rows, "element"), pack(rows, "block")]
    nm = sparsest_nm(rows)
    if nm is not None:
        packed.append(pack(rows, "nm", *nm))
    best = None
    for f in packed:
        sparsity = 1.0 - f.values.size / rows.size
        for order in ORDER_CODE:
            speed = predicted_speed_up(kind, f.format, order, sparsity)
            if best is None or speed > best.speed_up:
                best = SparseChoice(index, kind, f, order, sparsity, speed)
    return best


def sparse_plan(graph: Graph, sparse: str = "auto") -> dict[int, SparseChoice]:
    """Filter tensor index → how it is stored sparse (tensors absent stay dense)."""
    if sparse not in MODES:
        raise ConfigError(f"sparse: expected one of {list(MODES)}, got {sparse!r}")
    if sparse == "never":
        return {}
    plan = {}
    for index, kind in _eligible_filters(graph).items():
        t = graph.tensors[index]
        zeros = np.count_nonzero(np.frombuffer(t.data, np.int8) == 0) / max(1, len(t.data))
        taps = len(t.data) // t.shape[0]
        # No format stores fewer weights than the non-zeros: a dense filter never pays (and packing
        # it would cost the search's latency probe time for nothing).
        if taps > 65535 or (sparse == "auto" and zeros < LOWEST_MEASURED):
            continue
        choice = choose(graph, index, kind)
        if sparse == "always" or choice.speed_up > 1.0:
            plan[index] = choice
    return plan
