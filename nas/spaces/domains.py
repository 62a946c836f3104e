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
        high = rng.high if cap is None else min(rng.high, cap)
        low = min(rng.low, high)
        if rng.step > 1:  # keep the upper bound on the step grid
            high = low + (high - low) // rng.step * rng.step
        return self.trial.suggest_int(name, low, high, log=rng.log, step=rng.step)

    def choice(self, name: str, choices: Sequence) -> Any:
        return self.trial.suggest_categorical(name, list(choices))
