"""Does the search beat the hand-designed model? One verdict per cell (architecture × budget class).

Computed from the stored retraining runs (``nas.results.retrain``) only. In each cell, Hello Edge's
configuration (the search's ``hello_edge`` trial, retrained with the same seeds and recipe) is compared
with the searched candidate of best retrained validation mean among those at most its memory and at
most its ops (and latency, when a board measured both); with no such candidate, the best searched one.
That candidate *dominates* when it also has the higher validation mean. Δ accuracy is paired by seed:
the mean ± std over the seeds both ran of (candidate − Hello Edge). ``MARGIN`` (1 point) is the
acceptance bar of the issue that asked for this comparison; it is reported beside the verdict.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from nas.results.retrain import candidates_frame, finished_runs

MARGIN = 0.01  # one accuracy point


@dataclass(frozen=True)
class CellVerdict:
    """Searched candidate vs Hello Edge's configuration in one cell, from retrained means."""

    study: str
    arch: str
    budget_class: str
    hello_edge_trial: int
    searched_trial: int | None  # None: no searched candidate was retrained
    hello_edge_val_mean: float
    hello_edge_val_std: float
    searched_val_mean: float | None
    searched_val_std: float | None
    delta_mean: float | None  # paired by seed: mean of (searched − Hello Edge) validation accuracy
    delta_std: float | None
    seeds: int  # seeds both ran
    memory_ratio: float | None  # searched / Hello Edge
    ops_ratio: float | None
    latency_ratio: float | None  # None without a board
    cheaper: bool  # at most Hello Edge's memory and ops (and latency)
    dominates: bool  # cheaper and a higher validation mean
    margin_met: bool  # dominates by at least MARGIN

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line for people: the verdict and the numbers it rests on."""
        head = f"{self.arch} {self.budget_class}"
        if self.searched_trial is None:
            return f"{head}: no searched candidate retrained"
        verdict = ("dominates" if self.dominates else "does not dominate") + " Hello Edge's configuration"
        if self.dominates:
            verdict += f" ({'≥' if self.margin_met else '<'} 1 point)"
        latency = f", latency ×{self.latency_ratio:.2f}" if self.latency_ratio is not None else ""
        return (f"{head}: trial {self.searched_trial} {verdict}: Δ accuracy {100 * self.delta_mean:+.1f} ± "
                f"{100 * self.delta_std:.1f} points over {self.seeds} seeds, memory ×{self.memory_ratio:.2f}, "
                f"ops ×{self.ops_ratio:.2f}{latency}")


def cell_verdicts(runs: pd.DataFrame) -> list[CellVerdict]:
    """The verdict of every study in ``runs`` (``nas.results.retrain.runs_frame`` rows) that retrained
    Hello Edge's configuration; studies without it have nothing to compare with and are left out."""
    verdicts = []
    candidates = candidates_frame(runs)
    done = finished_runs(runs)
    for study, cell in candidates.groupby("study", sort=True):
        mine = cell[cell["hello_edge"]]
        if mine.empty:
            continue
        verdicts.append(_verdict(mine.iloc[0], cell[~cell["hello_edge"]], done[done["study"] == study]))
    return verdicts


def _verdict(hello: pd.Series, searched: pd.DataFrame, runs: pd.DataFrame) -> CellVerdict:
    base = dict(study=str(hello["study"]), arch=str(hello["arch"]), budget_class=str(hello["budget_class"]),
                hello_edge_trial=int(hello["source_trial"]), hello_edge_val_mean=float(hello["val_mean"]),
                hello_edge_val_std=float(hello["val_std"]))
    if searched.empty:
        return CellVerdict(**base, searched_trial=None, searched_val_mean=None, searched_val_std=None,
                           delta_mean=None, delta_std=None, seeds=0, memory_ratio=None, ops_ratio=None,
                           latency_ratio=None, cheaper=False, dominates=False, margin_met=False)
    cheaper = searched[_at_most(searched, hello)]
    pick = (cheaper if len(cheaper) else searched).iloc[0]  # both sorted by validation mean, best first
    delta_mean, delta_std, seeds = _paired_delta(runs, int(pick["source_trial"]), int(hello["source_trial"]))
    is_cheaper = bool(len(cheaper))
    dominates = is_cheaper and float(pick["val_mean"]) > float(hello["val_mean"])
    return CellVerdict(
        **base, searched_trial=int(pick["source_trial"]), searched_val_mean=float(pick["val_mean"]),
        searched_val_std=float(pick["val_std"]), delta_mean=delta_mean, delta_std=delta_std, seeds=seeds,
        memory_ratio=_ratio(pick["memory_bytes"], hello["memory_bytes"]), ops_ratio=_ratio(pick["ops"], hello["ops"]),
        latency_ratio=_ratio(pick["latency_ms"], hello["latency_ms"]), cheaper=is_cheaper, dominates=dominates,
        margin_met=dominates and float(pick["val_mean"]) - float(hello["val_mean"]) >= MARGIN - 1e-12,
    )


def _at_most(searched: pd.DataFrame, hello: pd.Series) -> pd.Series:
    """Which searched candidates cost at most Hello Edge's configuration on every measured axis."""
    mask = (searched["memory_bytes"] <= hello["memory_bytes"]) & (searched["ops"] <= hello["ops"])
    if pd.notna(hello["latency_ms"]):
        mask &= searched["latency_ms"] <= hello["latency_ms"]
    return mask


def _paired_delta(runs: pd.DataFrame, searched: int, hello: int) -> tuple[float, float, int]:
    """(mean, std, count) over the seeds both ran of searched − Hello Edge validation accuracy."""
    by_seed = runs.pivot_table(index="seed", columns="source_trial", values="val_acc", aggfunc="first")
    both = by_seed[[searched, hello]].dropna()
    diff = (both[searched] - both[hello]).to_numpy(float)
    if not len(diff):
        return float("nan"), float("nan"), 0
    return float(diff.mean()), float(diff.std(ddof=1)) if len(diff) > 1 else 0.0, len(diff)


def _ratio(value, reference) -> float | None:
    value, reference = float(value), float(reference)
    if np.isnan(value) or np.isnan(reference) or reference == 0:
        return None
    return value / reference


def dominance_line(verdicts: list[CellVerdict]) -> str:
    """'dominates k of N cells (m by ≥ 1 point)' over the cells that retrained Hello Edge's configuration."""
    wins = sum(v.dominates for v in verdicts)
    margin = sum(v.margin_met for v in verdicts)
    return f"dominates {wins} of {len(verdicts)} cells ({margin} by ≥ 1 point)"
