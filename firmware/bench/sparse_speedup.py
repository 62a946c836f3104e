"""Speed-up of the sparse int8 kernels over the dense DSP kernel against sparsity, per granularity and
loop order, measured on the emulated board (`sparse_runner`: QEMU ``-icount shift=0``, so figures are
executed instructions).

A `Layer` is one conv or fully connected layer's shapes, with its own int8 weights or random ones. Its
rows are pruned by magnitude to each granularity and sparsity, packed and run four ways; N:M runs at the
N:M (N = 1 or 2) nearest each sparsity. Used by benchmarks/bench_sparse_kernels.py (Hello Edge sized
layers) and `kws-nas prune` (the pruned model's own layers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nas.firmware.bench.sparse_runner import Case, quantize_multiplier, run
from nas.firmware.sparse_format import pack, prune

GRANULARITIES = ("element", "block", "nm")
ORDERS = {"input-stationary": "sparse_is", "weight-prioritised": "sparse_wp"}
# 0.2 and 0.35 are measured so that a break-even below 0.5 is interpolated, not guessed
SPARSITIES = (0.2, 0.35, 0.5, 0.7, 0.75, 0.9, 0.95)
MIN_TIMED_MACS = 50_000  # small layers run several times so the 40-instruction timer tick is negligible


@dataclass(frozen=True)
class Layer:
    """conv: input [N,H,W,C], filter [OC,KH,KW,C], output [N,OH,OW,OC]; fc: input [N,DEPTH], filter
    [UNITS,DEPTH], output [N,UNITS]. ``weights``: int8 filter values to prune (None: random ones)."""

    op: str
    input: tuple[int, ...]
    filter: tuple[int, ...]
    output: tuple[int, ...]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    weights: np.ndarray | None = None

    @property
    def macs(self) -> int:
        return int(np.prod(self.output)) * int(np.prod(self.filter[1:]))

    @property
    def repeat(self) -> int:
        return max(1, min(50, math.ceil(MIN_TIMED_MACS / self.macs)))


def nearest_nm(sparsity: float) -> tuple[int, int]:
    """The N:M with N in (1, 2) whose sparsity 1 - N/M is nearest (smaller M on a tie)."""
    candidates = [(abs(1 - n / m - sparsity), m, n) for n in (1, 2) for m in range(n + 1, 129)]
    _, m, n = min(candidates)
    return n, m


def layer_case(rng, layer: Layer, granularity: str, sparsity: float) -> tuple[Case, float, str]:
    """(the case, its real pruned fraction, its format label: the granularity or "N:M")."""
    dense = layer.weights if layer.weights is not None else rng.integers(-127, 128, size=layer.filter)
    rows = np.asarray(dense, np.int8).reshape(layer.filter[0], -1)
    n = m = 0
    if granularity == "nm":
        n, m = nearest_nm(sparsity)
        pruned, label = prune(rows, "nm", n=n, m=m), f"{n}:{m}"
    else:
        pruned, label = prune(rows, granularity, sparsity), granularity
    channels = layer.filter[0] if layer.op == "conv" else 1
    quant = [quantize_multiplier(0.0005 + 0.0001 * (c % 7)) for c in range(channels)]
    case = Case(layer.op, rng.integers(-128, 128, size=layer.input).astype(np.int8), pruned.reshape(layer.filter),
                pack(pruned, granularity, n=n, m=m), np.array([q[0] for q in quant]), np.array([q[1] for q in quant]),
                layer.output, bias=rng.integers(-8192, 8192, size=layer.filter[0]),
                input_offset=int(rng.integers(-127, 129)), output_offset=int(rng.integers(-128, 128)),
                stride=layer.stride, padding=layer.padding, print_output=False, repeat=layer.repeat, label=label)
    return case, float((pruned == 0).mean()), label


def measure(layers: dict[str, Layer], board: str = "mps2_an500", sparsities=SPARSITIES, seed: int = 0) -> list[dict]:
    """One row per (layer, granularity, sparsity, loop order): instructions per MAC of the sparse and
    dense DSP kernels (per run: the board divides by the repeats), the speed-up, the packed flash ratio, and whether every output was bit-identical
    to the dense reference kernel's. One emulator boot per layer."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, layer in layers.items():
        cases, meta = [], []
        for granularity in GRANULARITIES:
            for target in sorted(sparsities):
                case, actual, label = layer_case(rng, layer, granularity, target)
                cases.append(case)
                meta.append((granularity, label, target, actual))
        runs = {(r["case"], r["variant"]): r for r in run(cases, board)}
        for index, (granularity, label, target, actual) in enumerate(meta):
            r = {variant: runs[index, variant] for variant in ("dense_ref", "dense_opt", *ORDERS.values())}
            if any(v["failed"] for v in r.values()):
                raise RuntimeError(f"{name} {label} at {target}: a kernel returned an error")
            case, dense = cases[index], r["dense_opt"]["instructions"]
            reference = r["dense_ref"]["checksum"]
            for order, variant in ORDERS.items():
                rows.append(dict(layer=name, op=layer.op, granularity=granularity, format=label, order=order,
                                 target=target, sparsity=round(actual, 3), macs=case.macs,
                                 dense_instr_per_mac=dense / case.macs,
                                 instr_per_mac=r[variant]["instructions"] / case.macs,
                                 speed_up=dense / r[variant]["instructions"],
                                 flash_ratio=case.sparse.flash_bytes / case.dense.size,
                                 bit_identical=r[variant]["checksum"] == reference == r["dense_opt"]["checksum"]))
    return rows


def break_even(points) -> float:
    """Sparsity where the speed-up crosses 1, linear between (sparsity, speed-up) points; the lowest
    sparsity when that is already faster (an upper bound); nan if it never crosses."""
    points = sorted(points)
    if points[0][1] >= 1:
        return points[0][0]
    for (s0, v0), (s1, v1) in zip(points, points[1:]):
        if v0 < 1 <= v1:
            return s0 + (1 - v0) * (s1 - s0) / (v1 - v0)
    return float("nan")
