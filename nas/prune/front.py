"""Width against pruning under one budget: a post-search stage for a budget class's Pareto front.

The search finds widths directly. Structured pruning is the other way to a narrower model: train wider,
then remove channels. For each of the class's front trials, two arms get the same extra training:
- ``width``: the searched model itself, fine-tuned ``steps`` more (so both arms train as long);
- ``pruning``: the searched model with ``ratio`` of its channels removed (`channels.prune_channels`),
  fine-tuned ``steps`` distilled from the width arm's model (`measure.finetune`, ``teacher``).
Each point is costed by the cost model and checked against the class's budget. `kws-nas prune --front`
compares the arms' fronts of (validation accuracy ↑, memory ↓, ops ↓) by hypervolume, memory and ops as
fractions of the budget's limits, reference point (0, 1, 1): the larger one is the better front.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nas.cost import estimate
from nas.prune.channels import prune_channels
from nas.prune.measure import finetune

ARMS = ("width", "pruning")


@dataclass(frozen=True)
class FrontTrial:
    """One searched front trial: a label for people and its checkpoint."""

    label: str
    checkpoint: Path


def _point(arm: str, label: str, ratio: float, model, candidate, budget, sets) -> dict:
    from nas.train.evaluation import evaluate

    cost = estimate(candidate)
    return {"arm": arm, "trial": label, "ratio": ratio, "spec": candidate.describe(),
            "val_acc": evaluate(model, sets["validation"])["accuracy"],
            "test_acc": evaluate(model, sets["test"])["accuracy"],
            "memory_bytes": float(budget.memory_of(cost)), "ops": float(cost.ops), "feasible": bool(budget.feasible(cost))}


def width_vs_pruning(trials: list[FrontTrial], budget, ratios: list[float], sets: dict, steps: int, lr: float,
                     norm: str = "l1", progress=lambda label: None) -> pd.DataFrame:
    """front.csv: one row per (trial, arm, ratio); ``ratio`` 0 is the width arm."""
    from nas.export.accuracy import load_model

    rows = []
    for trial in trials:
        model, candidate = load_model(trial.checkpoint)
        wide = finetune(copy.deepcopy(model), sets["train"], steps, lr)
        rows.append(_point("width", trial.label, 0.0, wide, candidate, budget, sets))
        progress(f"{trial.label} width")
        for ratio in ratios:
            small, smaller = prune_channels(candidate, model.eval(), ratio, norm, "layer")
            finetune(small, sets["train"], steps, lr, teacher=wide)
            rows.append(_point("pruning", trial.label, ratio, small, smaller, budget, sets))
            progress(f"{trial.label} pruned {ratio:g}")
    return pd.DataFrame(rows)


def objective_points(points: pd.DataFrame, limits: dict[str, float]) -> np.ndarray:
    """The feasible points' (val_acc, memory, ops), memory and ops as fractions of the budget's limits
    (of the largest point's, for a board profile without memory and ops limits)."""
    feasible = points[points["feasible"]]
    memory = limits.get("memory_bytes") or points["memory_bytes"].max()
    ops = limits.get("ops") or points["ops"].max()
    return np.column_stack([feasible["val_acc"], feasible["memory_bytes"] / memory, feasible["ops"] / ops])
