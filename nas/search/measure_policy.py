"""Which trained trials a board measures (``board.measure``); the others trust the latency model.

- ``all``: every trained feasible trial is measured (the default).
- ``sample``: a ``sample_fraction`` of them, drawn per trial number from ``sample_seed`` (the same
  trials whichever worker trains them, and on a resumed study).
- ``front``: only a trial whose (accuracy, memory, predicted latency) no finished trial dominates,
  i.e. one that would enter the Pareto front when it finishes.

A trial not measured has the board's predicted latency as its third objective, recorded as
predicted (``latency_source``), never as measured.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

import optuna

from nas.errors import ConfigError
from nas.results.pareto import pareto_mask

LATENCY_SOURCE = "latency_source"  # trial attribute: "measured" or "predicted"


class MeasureMode(str, Enum):
    all = "all"
    sample = "sample"
    front = "front"


@dataclass(frozen=True)
class MeasurePolicy:
    mode: MeasureMode = MeasureMode.all
    sample_fraction: float = 0.25
    sample_seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.sample_fraction <= 1:
            raise ConfigError(f"board.sample_fraction: expected a fraction in (0, 1], got {self.sample_fraction}")

    @property
    def trusts_predictions(self) -> bool:
        return self.mode != MeasureMode.all

    def should_measure(self, trial: optuna.Trial, accuracy: float, memory: float, predicted_ms: float | None) -> bool:
        """Whether to measure this trained trial; a trial with no prediction is always measured."""
        if self.mode == MeasureMode.all or predicted_ms is None:
            return True
        if self.mode == MeasureMode.sample:
            return random.Random(f"{self.sample_seed}:{trial.number}").random() < self.sample_fraction
        done = [t.values for t in trial.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
                if t.values is not None and t.user_attrs.get("feasible")]
        return bool(pareto_mask([*done, [accuracy, memory, predicted_ms]], [True, False, False])[-1])
