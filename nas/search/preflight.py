"""Checks that refuse a search that cannot work, before its study is opened or anything is written.

Each failure is one ConfigError or BudgetError line naming the key and what was expected; the dataset
itself is checked by loading the first trial's features (``CachedFeatures.check``).
"""
from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from nas.errors import BudgetError, ConfigError
from nas.results.storage import check_storage_url


def check_config(cfg: DictConfig) -> None:
    """Values that make no sense: counts and seconds below their least, a storage or results_dir that
    cannot hold a study."""
    if cfg.trials < 1:
        raise ConfigError(f"trials: expected a positive number of trained trials, got {cfg.trials}")
    for key, least in (("max_rejected_in_a_row", 1), ("heartbeat_interval", 1), ("grace_period", 1),
                       ("max_retry", 0), ("data.augment_copies", 0)):
        value = OmegaConf.select(cfg, key)
        if value < least:
            raise ConfigError(f"{key}: expected a whole number >= {least}, got {value}")
    if cfg.timeout is not None and cfg.timeout <= 0:
        raise ConfigError(f"timeout: expected seconds > 0 (or null: no limit), got {cfg.timeout:g}")
    check_results_dir_writable(Path(cfg.results_dir) / cfg.study_name)
    if cfg.storage is not None:
        check_storage_url(cfg.storage)


def check_results_dir_writable(folder: Path) -> None:
    """The study folder exists as a writable folder, or its nearest existing parent is one."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"results_dir: {existing} is a file; expected a folder (or a path to create)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"results_dir: {existing} is read-only; expected a folder the search can write "
                          f"{folder} in")


def check_budget_reachable(space, budget, space_name: str, constraints_name: str, estimate=None) -> None:
    """BudgetError when the space's cheapest candidate for some limit (memory, ops, flash, RAM, latency:
    the least of each, which may come from different candidates) already exceeds it.

    A budget whose each limit some candidate meets, but no single one meets all, is not decided here:
    the search's rejected-samples guard (``max_rejected_in_a_row``) catches it. ``estimate``: the
    search's (with its board's predicted latency), default ``nas.cost.estimate``.
    """
    if estimate is None:
        from nas.cost import estimate

    costs = [(candidate, estimate(candidate)) for candidate in space.cheapest_candidates()]
    over = []
    for name in budget.constraints(costs[0][1]):
        candidate, cost = min(costs, key=lambda pair: budget.constraints(pair[1])[name])
        excess = budget.constraints(cost)[name]
        if excess > 0:
            over.append(f"{name} {excess:+.1%}: the least {name} is {candidate.describe()} with "
                        f"{budget.memory_of(cost)} B memory, {cost.ops} ops")
    if over:
        limits = ", ".join(f"{unit} <= {value:.0f}" for unit, value in budget.plot_limits().items())
        raise BudgetError(
            f"constraints={constraints_name}{f' ({limits})' if limits else ''}: no candidate of "
            f"search_space={space_name} can meet it: {'; '.join(over)}; choose a larger constraints class"
        )
