"""The pruning sweep: every (method, granularity, norm, sparsity) point measured as pruned and again
after a short fine-tune, plus the unpruned model as the baseline row.

Each point starts from the trained model (one-shot, not iterative). Unstructured points keep the
model's shape with zeros in it: the cost model's int8 flash and RAM are the dense layout's (``footprint``
says so), while the board stores a pruned filter sparse where its sparse kernel is predicted faster
(`nas.board.sparse_layers`), which ``mcu_ms`` measures. Structured points are smaller dense models: the
cost model's figures for their new spec are what the board runs.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
from torch import nn

from nas.cost import estimate
from nas.errors import ConfigError
from nas.prune import channels, masks
from nas.prune.measure import cpu_latency_ms, effective_macs, finetune, nonzero_params

METHODS = {"unstructured": ("element", "block", "nm"), "structured": ("channel",)}
COLUMNS = ["method", "granularity", "pattern", "norm", "scope", "sparsity", "finetuned", "weight_sparsity", "nonzero_params",
           "macs", "spec", "val_acc", "test_acc", "val_acc_int8", "cpu_ms", "mcu_ms", "flash_bytes", "ram_bytes",
           "footprint", "cliff"]


@dataclass(frozen=True)
class Series:
    """One curve: a method, a granularity (with its block shape or N:M patterns), a norm."""

    method: str
    granularity: str
    norm: str
    block: tuple[int, int] = (1, 4)
    nm: tuple[tuple[int, int], ...] = ((2, 4),)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"--method: expected one of {list(METHODS)}, got {self.method!r}")
        if self.granularity not in METHODS[self.method]:
            raise ConfigError(f"--granularity {self.granularity}: {self.method} pruning takes "
                              f"{'|'.join(METHODS[self.method])}")
        masks.check_norm(self.norm)

    @property
    def label(self) -> str:
        shape = {"block": f" {self.block[0]}x{self.block[1]}"}.get(self.granularity, "")
        return f"{self.method} {self.granularity}{shape} {self.norm}"

    def pattern(self, sparsity: float) -> str:
        """The block shape or the N:M pattern of a point ('' for element and channel)."""
        if self.granularity == "block":
            return f"{self.block[0]}x{self.block[1]}"
        if self.granularity == "nm":
            return "{}:{}".format(*self._nm_at(sparsity))
        return ""

    def _nm_at(self, sparsity: float) -> tuple[int, int]:
        return next(p for p in self.nm if abs(masks.nm_sparsity(*p) - sparsity) < 1e-12)

    def levels(self, sparsities: list[float]) -> list[float]:
        """The sparsities of this curve: N:M takes its own from the patterns (1 − N/M)."""
        if self.granularity == "nm":
            return [masks.nm_sparsity(n, m) for n, m in self.nm]
        return [masks.check_sparsity(s) for s in sparsities]

    def prune(self, model: nn.Module, candidate, sparsity: float, scope: str):
        """(pruned model, its candidate, masks): channels removed (structured; masks None), or an
        untouched copy and the masks that prune it (unstructured: `masks.apply_masks` attaches them)."""
        if self.method == "structured":
            return (*channels.prune_channels(candidate, model, sparsity, self.norm, scope), None)
        if self.granularity == "nm":
            found = masks.nm_masks(model, *self._nm_at(sparsity), self.norm)
        else:
            block = self.block if self.granularity == "block" else (1, 1)
            found = masks.block_masks(model, sparsity, self.norm, scope, block)
        return copy.deepcopy(model), candidate, found


@dataclass
class SweepConfig:
    """How every point is measured. ``int8``: convert each model to int8 TFLite and score it in TFLite
    Micro (``val_acc_int8``); ``board(tflite bytes) -> ms``: time it on a board (``mcu_ms``; implies the
    conversion). Off: those columns stay empty."""

    sparsities: list[float]
    scope: str = "layer"
    finetune_steps: int = 200
    finetune_lr: float = 5e-4
    cpu_repeats: int = 30
    cliff_points: float = 2.0
    int8: bool = False
    board: Callable | None = None
    progress: Callable[[str], None] = field(default=lambda label: None)


def measure(model: nn.Module, candidate, sets: dict, config: SweepConfig, zeros_stored: bool) -> dict:
    """The measured columns of one (already permanent) model; ``zeros_stored``: its pruned weights are
    zeros in a dense layout (the footprint is the dense model's)."""
    from nas.train.evaluation import evaluate

    cost = estimate(candidate)
    row = {"weight_sparsity": masks.weight_sparsity(model), "nonzero_params": nonzero_params(model),
           "macs": effective_macs(model, candidate.input_shape), "spec": " ".join(map(str, candidate.spec.to_model_size_info())),
           "val_acc": evaluate(model, sets["validation"])["accuracy"], "test_acc": evaluate(model, sets["test"])["accuracy"],
           "cpu_ms": cpu_latency_ms(model, candidate.input_shape, config.cpu_repeats),
           "flash_bytes": cost.flash_bytes, "ram_bytes": cost.ram_bytes,
           "footprint": "cost model, dense layout (zeros stored)" if zeros_stored else "cost model of this spec",
           "val_acc_int8": None, "mcu_ms": None}
    if config.int8 or config.board is not None:
        from nas.export.accuracy import convert_trained, score_int8_model

        tflite = convert_trained(model, candidate, sets["train"])
        scored = score_int8_model(model, tflite, candidate, {"validation": sets["validation"]})
        row["val_acc_int8"] = scored["validation"]["int8"]
        if config.board is not None:
            row["mcu_ms"] = config.board(tflite)
    return row


def sweep(model: nn.Module, candidate, series: list[Series], sets: dict, config: SweepConfig) -> pd.DataFrame:
    """prune.csv's table: the baseline, then each series' points, without and with fine-tuning."""
    rows = [{"method": "none", "granularity": "", "pattern": "", "norm": "", "scope": "", "sparsity": 0.0, "finetuned": False,
             **measure(model.eval(), candidate, sets, config, zeros_stored=False)}]
    config.progress("baseline")
    for s in series:
        for sparsity in s.levels(config.sparsities):
            pruned, pruned_candidate, found = s.prune(model, candidate, sparsity, config.scope)
            base = {"method": s.method, "granularity": s.granularity, "pattern": s.pattern(sparsity), "norm": s.norm,
                    "scope": "per group" if s.granularity == "nm" else config.scope, "sparsity": sparsity}
            zeros_stored = s.method == "unstructured"
            plain = copy.deepcopy(pruned)
            if found is not None:
                masks.make_permanent(masks.apply_masks(plain, found))
                masks.apply_masks(pruned, found)  # kept through fine-tuning
            rows.append({**base, "finetuned": False, **measure(plain, pruned_candidate, sets, config, zeros_stored)})
            config.progress(f"{s.label} {sparsity:g}")
            tuned = finetune(pruned, sets["train"], config.finetune_steps, config.finetune_lr)
            masks.make_permanent(tuned)
            rows.append({**base, "finetuned": True, **measure(tuned, pruned_candidate, sets, config, zeros_stored)})
            config.progress(f"{s.label} {sparsity:g} fine-tuned")
    return name_cliffs(pd.DataFrame(rows), config.cliff_points)[COLUMNS]


def name_cliffs(df: pd.DataFrame, points: float) -> pd.DataFrame:
    """Mark each curve's cliff: its first sparsity whose validation accuracy is more than ``points``
    percentage points below the unpruned model's."""
    df = df.copy()
    df["cliff"] = False
    baseline = float(df.loc[df["method"] == "none", "val_acc"].iloc[0])
    curves = df[df["method"] != "none"].groupby(["method", "granularity", "norm", "finetuned"], sort=False)
    for _, curve in curves:
        below = curve[curve["val_acc"] < baseline - points / 100].sort_values("sparsity")
        if len(below):
            df.loc[below.index[0], "cliff"] = True
    return df


def cliff_lines(df: pd.DataFrame, points: float) -> list[str]:
    """One line per curve naming its cliff (or saying it has none within the sparsities tried)."""
    baseline = float(df.loc[df["method"] == "none", "val_acc"].iloc[0])
    lines = []
    for (method, granularity, norm, tuned), curve in df[df["method"] != "none"].groupby(
            ["method", "granularity", "norm", "finetuned"], sort=False):
        name = f"{method} {granularity} {norm}, {'fine-tuned' if tuned else 'not fine-tuned'}"
        cliff = curve[curve["cliff"]]
        if len(cliff):
            row = cliff.iloc[0]
            lines.append(f"{name}: cliff at sparsity {row['sparsity']:.3g} (val {100 * row['val_acc']:.1f} % vs "
                         f"{100 * baseline:.1f} % unpruned, more than {points:g} points lost)")
        else:
            lines.append(f"{name}: no cliff up to sparsity {curve['sparsity'].max():.3g} "
                         f"(within {points:g} points of {100 * baseline:.1f} %)")
    return lines
