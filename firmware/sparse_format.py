"""Packs pruned int8 weights into the sparse formats of firmware/src/kernels/kws_sparse_s8.h.

A filter is a 2-D int8 array [rows, taps]: output channels by the flattened [KH, KW, C_IN] (or DEPTH)
of the dense filter. ``pack`` keeps exactly the non-zero weights (a 1x4 block with any non-zero is
kept whole; N:M refuses a group with more than N non-zeros), ``unpack`` inverts it, ``flash_bytes``
is what the format stores (element: 2 bytes a kept weight, step and value, plus 2 a row; 1x4 block:
6 a kept block plus 2 a row; N:M: 2 a kept weight), and ``prune`` makes a pattern of each
granularity by magnitude (for the kernel tests and benchmarks; ``kws-nas prune`` owns the real
pruning).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FORMATS = ("element", "block", "nm")
FORMAT_CODE = {"element": 0, "block": 1, "nm": 2}
MAX_M = {1: 64, 2: 128}  # N:M offsets from a quad's base fit a byte


def _empty(dtype):
    return field(default_factory=lambda: np.zeros(0, dtype))


@dataclass(frozen=True)
class SparseFilter:
    """The arrays of a kws_sparse_filter (unused ones empty): ``row_units`` quads (element) or blocks
    (block) per row; ``index`` the group (tap / 4) of each block; ``offsets`` per kept weight the step
    from the previous kept tap (element) or the offset from its quad's base (nm); ``values`` the kept
    weights, by quads stored (z0, z2, z1, z3) for element and nm, 4 a block for block."""

    format: str
    rows: int
    taps: int
    n: int = 0
    m: int = 0
    row_units: np.ndarray = _empty(np.uint16)
    index: np.ndarray = _empty(np.uint16)
    offsets: np.ndarray = _empty(np.uint8)
    values: np.ndarray = _empty(np.int8)

    @property
    def flash_bytes(self) -> int:
        """Bytes the format stores (counts, indices, offsets, weights)."""
        return sum(a.nbytes for a in (self.row_units, self.index, self.offsets, self.values))


def _check_weights(weights: np.ndarray) -> np.ndarray:
    weights = np.asarray(weights)
    if weights.ndim != 2 or weights.dtype != np.int8:
        raise ValueError(f"weights: expected a 2-D int8 array [rows, taps], got {weights.dtype} {weights.shape}")
    if weights.shape[1] > 65535:
        raise ValueError(f"weights: at most 65535 taps per row (uint16 indices), got {weights.shape[1]}")
    return weights


def _check_nm(n: int, m: int) -> None:
    if n not in (1, 2) or not n < m <= MAX_M[n]:
        raise ValueError(f"N:M: expected N in (1, 2) and N < M <= {MAX_M.get(n, MAX_M[2])} (64 for N = 1), got {n}:{m}")


def _quad_order(kept: np.ndarray) -> np.ndarray:
    """Kept weights z0 z1 z2 z3 of each quad stored as (z0, z2, z1, z3) (one SXTB16 per pair)."""
    return kept.reshape(-1, 4)[:, [0, 2, 1, 3]].ravel()


def _pad_to_quads(taps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pad = -len(values) % 4
    return np.concatenate([taps, np.zeros(pad, taps.dtype)]), np.concatenate([values, np.zeros(pad, values.dtype)])


def pack(weights: np.ndarray, fmt: str, n: int = 0, m: int = 0) -> SparseFilter:
    """Packs [rows, taps] int8 weights into `fmt` ("element", "block" or "nm" with `n`:`m`)."""
    weights = _check_weights(weights)
    rows, taps = weights.shape
    if fmt == "element":
        units, steps, values = [], [], []
        for row in weights:
            kept_taps, kept_values, last = [], [], 0
            for t in np.flatnonzero(row):
                while t - last > 255:  # a zero weight every 255 taps keeps each step in a byte
                    last += 255
                    kept_taps.append(last)
                    kept_values.append(0)
                kept_taps.append(int(t))
                kept_values.append(int(row[t]))
                last = int(t)
            pad = -len(kept_taps) % 4  # whole quads: step 0, weight 0
            kept_taps += [last] * pad
            kept_values += [0] * pad
            units.append(len(kept_taps) // 4)
            steps.append(np.diff(np.array([0] + kept_taps, np.int64)))
            values.append(_quad_order(np.array(kept_values, np.int8)))
        return SparseFilter("element", rows, taps, row_units=np.array(units, np.uint16),
                            offsets=np.concatenate(steps).astype(np.uint8), values=np.concatenate(values).astype(np.int8))
    if fmt == "block":
        groups = -(-taps // 4)
        blocks = np.zeros((rows, groups * 4), np.int8)
        blocks[:, :taps] = weights
        blocks = blocks.reshape(rows, groups, 4)
        kept = blocks.any(axis=2)
        return SparseFilter("block", rows, taps, row_units=kept.sum(axis=1).astype(np.uint16),
                            index=np.concatenate([np.flatnonzero(k) for k in kept]).astype(np.uint16),
                            values=blocks[kept].ravel().astype(np.int8))
    if fmt == "nm":
        _check_nm(n, m)
        groups = -(-taps // m)
        padded = np.zeros((rows, groups * m), np.int8)
        padded[:, :taps] = weights
        grouped = padded.reshape(rows, groups, m)
        counts = (grouped != 0).sum(axis=2)
        if (counts > n).any():
            row, group = np.argwhere(counts > n)[0]
            raise ValueError(f"N:M {n}:{m}: row {row} group {group} has {counts[row, group]} non-zeros, at most {n} allowed")
        # The N positions of each group: its non-zeros first (stable), then zeros.
        positions = np.argsort(grouped == 0, axis=2, kind="stable")[:, :, :n]
        kept_values = np.take_along_axis(grouped, positions, axis=2).reshape(rows, groups * n)
        kept_taps = (positions + (np.arange(groups) * m)[None, :, None]).reshape(rows, groups * n)
        span = 4 * m // n  # taps a quad of kept weights covers
        offsets, values = [], []
        for t, v in zip(kept_taps, kept_values):
            t, v = _pad_to_quads(t, v)
            base = np.arange(len(t)) // 4 * span
            t = np.where(np.arange(len(t)) < groups * n, t, base)  # padding: offset 0
            offsets.append((t - base).astype(np.uint8))
            values.append(_quad_order(v))
        return SparseFilter("nm", rows, taps, n=n, m=m, offsets=np.concatenate(offsets),
                            values=np.concatenate(values).astype(np.int8))
    raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")


def unpack(f: SparseFilter) -> np.ndarray:
    """The dense [rows, taps] int8 weights of a packed filter."""
    unordered = f.values.reshape(-1, 4)[:, [0, 2, 1, 3]].ravel() if f.format != "block" else f.values
    dense = np.zeros((f.rows, f.taps + 4 * f.m + 4), np.int8)
    if f.format == "element":
        start = 0
        for row, quads in enumerate(f.row_units.astype(np.int64)):
            end = start + 4 * quads
            np.add.at(dense[row], np.cumsum(f.offsets[start:end].astype(np.int64)), unordered[start:end])
            start = end
    elif f.format == "block":
        row_of = np.repeat(np.arange(f.rows), f.row_units.astype(np.int64))
        for j in range(4):
            dense[row_of, f.index.astype(np.int64) * 4 + j] = unordered.reshape(-1, 4)[:, j]
    else:
        per_row = len(f.values) // f.rows
        taps = np.arange(per_row) // 4 * (4 * f.m // f.n) + f.offsets.reshape(f.rows, per_row)
        np.add.at(dense, (np.repeat(np.arange(f.rows), per_row), taps.ravel()), unordered)
    return dense[:, :f.taps]


def prune(weights: np.ndarray, granularity: str, sparsity: float = 0.0, n: int = 0, m: int = 0) -> np.ndarray:
    """Zeroes the smallest-magnitude weights of [rows, taps]: elements, 1x4 blocks (L1) to `sparsity`
    per row, or all but the N largest of every M (granularity "nm")."""
    weights = _check_weights(weights)
    rows, taps = weights.shape
    magnitude = np.abs(weights.astype(np.int32))
    if granularity == "element":
        drop = int(round(sparsity * taps))
        order = np.argsort(magnitude, axis=1, kind="stable")[:, :drop]
        out = weights.copy()
        np.put_along_axis(out, order, 0, axis=1)
        return out
    if granularity == "block":
        groups = -(-taps // 4)
        padded = np.zeros((rows, groups * 4), np.int32)
        padded[:, :taps] = magnitude
        drop = int(round(sparsity * groups))
        order = np.argsort(padded.reshape(rows, groups, 4).sum(axis=2), axis=1, kind="stable")[:, :drop]
        keep = np.ones((rows, groups), bool)
        np.put_along_axis(keep, order, False, axis=1)
        return np.where(np.repeat(keep, 4, axis=1)[:, :taps], weights, 0).astype(np.int8)
    if granularity == "nm":
        _check_nm(n, m)
        groups = -(-taps // m)
        padded = np.full((rows, groups * m), -1, np.int32)
        padded[:, :taps] = magnitude
        order = np.argsort(-padded.reshape(rows, groups, m), axis=2, kind="stable")[:, :, n:]
        keep = np.ones((rows, groups, m), bool)
        np.put_along_axis(keep, order, False, axis=2)
        return np.where(keep.reshape(rows, -1)[:, :taps], weights, 0).astype(np.int8)
    raise ValueError(f"granularity: expected element, block or nm, got {granularity!r}")
