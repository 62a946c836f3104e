"""Pruning weak trials of a multi-objective study from their per-epoch validation accuracy.

Optuna's pruners cannot serve here: ``Trial.report`` and ``Trial.should_prune`` raise
NotImplementedError as soon as a study has more than one direction (checked in optuna 5.0.0,
``optuna/trial/_trial.py``). So each trial keeps its own curve in the user attribute ``val_curve``, and
this pruner reads the curves of finished trials from the storage (so it works across workers).

A plain median rule would be wrong for a Pareto search: a small model with modest accuracy may be
Pareto-optimal, and would be killed for being below the median of bigger models. So a trial is compared
only with its *peers*: finished trials that cost no more in memory and in ops. If a trial's accuracy at
epoch ``e`` is below the median of its peers' accuracy at ``e``, those cheaper trials are already doing
better, so it is most likely dominated and stops.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

CURVE_ATTR = "val_curve"


@dataclass(frozen=True)
class DominanceMedianPruner:
    """Median pruning among cheaper-or-equal finished trials.

    Args:
        warmup_epochs: epochs a trial always trains before it can be pruned.
        min_peers: finished peers (with a curve reaching the epoch) needed before any comparison.
    """

    warmup_epochs: int = 2
    min_peers: int = 3

    def peer_median(self, study: optuna.Study, number: int, epoch: int, memory: float, ops: float) -> float | None:
        """Median validation accuracy at ``epoch`` (1-based) of this trial's peers; None if too few."""
        values = []
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)):
            curve = t.user_attrs.get(CURVE_ATTR)
            if t.number == number or not curve or len(curve) < epoch:
                continue
            if t.user_attrs.get("memory_bytes", float("inf")) <= memory and t.user_attrs.get("ops", float("inf")) <= ops:
                values.append(curve[epoch - 1])
        return statistics.median(values) if len(values) >= self.min_peers else None

    def should_prune(
        self, study: optuna.Study, number: int, epoch: int, val_acc: float, memory: float, ops: float
    ) -> bool:
        if epoch < self.warmup_epochs:
            return False
        median = self.peer_median(study, number, epoch, memory, ops)
        return median is not None and val_acc < median
