"""What a search space YAML may say about one parameter, and the one place that asks Optuna for it."""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any, Sequence

from nas.errors import ConfigError


@dataclass(frozen=True)
class IntRange:
    """An integer range ``{low, high, log?, step?}`` from a search space YAML."""

    low: int
    high: int
    log: bool = False
    step: int = 1

    @classmethod
    def parse(cls, field: str, value: Any) -> "IntRange":
        """Reads ``value`` (a mapping) for ``field``; one ConfigError naming the field otherwise."""
        # Mapping, not dict: Hydra may hand over a DictConfig when instantiated without _convert_.
        if not isinstance(value, Mapping) or not {"low", "high"} <= set(value):
            raise ConfigError(f"search space: {field} must be a mapping with low and high, got {value!r}")
        unknown = set(value) - {"low", "high", "log", "step"}
        if unknown:
            raise ConfigError(f"search space: {field} has unknown keys {sorted(unknown)}")
        rng = cls(**dict(value))
        if not (isinstance(rng.low, int) and isinstance(rng.high, int) and 1 <= rng.low <= rng.high):
            raise ConfigError(f"search space: {field} needs integers 1 <= low <= high, got {value!r}")
        if rng.log and rng.step != 1:
            raise ConfigError(f"search space: {field}: a log range must have step 1")
        return rng

    def bounds(self, cap: int | None = None) -> tuple[int, int]:
        """(low, high) a trial draws from when the value may not exceed ``cap`` (the input size)."""
        high = self.high if cap is None else min(self.high, cap)
        low = min(self.low, high)
        if self.step > 1:  # keep the upper bound on the step grid
            high = low + (high - low) // self.step * self.step
        return low, high

    def values(self, cap: int | None = None) -> range:
        """Every value a trial can draw under ``cap``, lowest first."""
        low, high = self.bounds(cap)
        return range(low, high + 1, self.step)


def parse_choices(field: str, value: Any) -> tuple:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise ConfigError(f"search space: {field} must be a non-empty list of choices, got {value!r}")
    return tuple(value)


class Draw:
    """Asks an Optuna trial (or FixedTrial) for values, capping ranges by the current input size.

    Capping (rather than resampling) keeps every sample valid in one pass; Optuna allows an integer
    distribution's upper bound to change between trials.
    """

    def __init__(self, trial: Any) -> None:
        self.trial = trial

    def int(self, name: str, rng: IntRange, cap: int | None = None) -> int:
        low, high = rng.bounds(cap)
        return self.trial.suggest_int(name, low, high, log=rng.log, step=rng.step)

    def choice(self, name: str, choices: Sequence) -> Any:
        return self.trial.suggest_categorical(name, list(choices))
