"""Pareto fronts and hypervolume of search results, as plain numpy (no Optuna internals).

Points are rows of objective values; ``maximize`` flags which columns grow better. Both functions
turn every column into a minimisation first, so (accuracy ↑, memory ↓, ops ↓) needs no special case.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def _as_minimization(points, maximize: Sequence[bool]) -> np.ndarray:
    pts = np.asarray(points, dtype=float).reshape(-1, len(maximize))
    return pts * np.where(np.asarray(maximize), -1.0, 1.0)


def pareto_mask(points, maximize: Sequence[bool]) -> np.ndarray:
    """Boolean mask of the non-dominated rows (duplicates of a front point are all kept)."""
    pts = _as_minimization(points, maximize)
    n = len(pts)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        no_worse = np.all(pts <= pts[i], axis=1)
        better = np.any(pts < pts[i], axis=1)
        mask[i] = not np.any(no_worse & better)
    return mask


def hypervolume(points, reference, maximize: Sequence[bool]) -> float:
    """Volume dominated by ``points`` and bounded by ``reference`` (exact, for 1 to 3 objectives).

    Points that do not strictly dominate the reference contribute nothing. Cost is O(n² log n) for
    three objectives: enough for the few hundred trials of a search.
    """
    pts = _as_minimization(points, maximize)
    ref = _as_minimization([reference], maximize)[0]
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[pareto_mask(pts, [False] * pts.shape[1])]
    return float(_hv(pts, ref))


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    dims = pts.shape[1]
    if dims == 1:
        return float(ref[0] - pts[:, 0].min())
    # Sweep the last objective: between consecutive levels, the dominated slice is the
    # (d-1)-dimensional volume of the points at or below that level.
    order = np.argsort(pts[:, -1])
    pts = pts[order]
    levels = np.append(pts[:, -1], ref[-1])
    total = 0.0
    for k in range(len(pts)):
        height = levels[k + 1] - levels[k]
        if height > 0:
            total += height * _hv(pts[: k + 1, :-1], ref[:-1])
    return total
