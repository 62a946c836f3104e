"""`kws-nas export RESULTS_DIR --data DIR [--out DIR] [--arduino]`: the best int8 model per budget class, as a bundle.

Selection rule (per budget class): among the completed, feasible trials with a checkpoint, the ``--top``
best by validation accuracy are converted to full int8 — by the int8 (TFLite Micro) validation
accuracy where the search recorded one (``objective.accuracy=int8``: column ``val_acc_int8``), else by
the float one; the one with the highest int8 validation accuracy measured here wins, ties going to
less memory (Hello Edge convention), then to the lower trial number. Candidates come from ``RESULTS_DIR/trials.csv`` (one study); a folder with
only ``best.json`` (a multirun parent) offers its one entry per class.

Errors: a class with trials but no feasible one (or a class named by ``--classes`` with none) →
BudgetError after the other classes are written; a checkpoint whose spec differs from its trial's →
ConfigError; an op the converter refuses → ConversionError naming the op and the architecture.
"""
from __future__ import annotations

import argparse
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nas.errors import BudgetError, ConfigError


@dataclass
class Entry:
    """One trial that may become a class's model."""

    budget_class: str
    study: str
    trial: int
    arch: str
    model_size_info: list[int] | None
    val_acc: float
    memory_bytes: float
    checkpoint: Path
    latency_ms: float | None = None
    val_acc_int8: float | None = None  # recorded by an objective.accuracy=int8 search

    @property
    def rank_accuracy(self) -> float:
        """The shortlist key: int8 validation accuracy when recorded, else float."""
        return self.val_acc if self.val_acc_int8 is None else self.val_acc_int8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results_dir", type=Path, help="a kws-nas search results folder (trials.csv or best.json)")
    parser.add_argument("--data", type=Path, default=None,
                        help="the Speech Commands folder the study trained on (default: the one best.json records)")
    parser.add_argument("--out", type=Path, default=None, help="bundle folder (default: RESULTS_DIR/export)")
    parser.add_argument("--top", type=int, default=3,
                        help="trials per class converted to int8 before choosing (default: 3)")
    parser.add_argument("--classes", default=None, help="comma-separated classes that must be exported")
    parser.add_argument("--arduino", action="store_true",
                        help="also write <class>/arduino/kws_<class>/, a sketch for the Arduino TFLite Micro library")


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN → None


def _from_trials_csv(results_dir: Path) -> tuple[dict[str, list[Entry]], set[str]]:
    import pandas as pd

    df = pd.read_csv(results_dir / "trials.csv")
    needed = {"study", "number", "state", "feasible", "arch", "budget_class", "val_acc", "memory_bytes", "checkpoint"}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise ConfigError(f"{results_dir / 'trials.csv'}: missing columns {missing}")
    seen = {str(c) for c in df["budget_class"].dropna().unique()}
    ok = df[(df["state"] == "COMPLETE") & df["feasible"].astype(bool) & df["checkpoint"].notna() & df["val_acc"].notna()]
    entries: dict[str, list[Entry]] = {}
    for _, row in ok.iterrows():
        msi = [int(v) for v in re.findall(r"-?\d+", str(row.get("model_size_info", "")))] or None
        entries.setdefault(str(row["budget_class"]), []).append(Entry(
            str(row["budget_class"]), str(row["study"]), int(row["number"]), str(row["arch"]), msi,
            float(row["val_acc"]), float(row["memory_bytes"]), results_dir / str(row["checkpoint"]),
            _number(row.get("latency_ms")), _number(row.get("val_acc_int8"))))
    return entries, seen


def _from_best_json(results_dir: Path, best: dict) -> dict[str, list[Entry]]:
    entries = {}
    for budget_class, item in best.get("classes", {}).items():
        candidate = item.get("candidate") or {}
        msi = None
        if candidate:
            from nas.spaces import Candidate

            msi = Candidate.from_dict(candidate).spec.to_model_size_info()
        entries[budget_class] = [Entry(budget_class, str(item.get("study", "")), int(item.get("trial", -1)),
                                       str(item.get("arch", "")), msi, float(item.get("val_acc") or 0.0),
                                       float(item.get("memory_bytes") or 0.0),
                                       results_dir / str(item["checkpoint"]), _number(item.get("latency_ms")),
                                       _number(item.get("val_acc_int8")))]
    return entries


def select_entries(results_dir: Path) -> tuple[dict[str, list[Entry]], set[str], dict]:
    """(class → feasible entries, every class the study tried, best.json or {})."""
    best_path = results_dir / "best.json"
    best = json.loads(best_path.read_text()) if best_path.is_file() else {}
    if (results_dir / "trials.csv").is_file():
        entries, seen = _from_trials_csv(results_dir)
    elif best:
        entries = _from_best_json(results_dir, best)
        seen = set(entries)
    else:
        raise ConfigError(f"{results_dir}: neither trials.csv nor best.json found; expected a kws-nas search results folder")
    return entries, seen, best


def recorded_dataset(best: dict, results_dir: Path) -> Path:
    """The dataset folder ``best.json`` records (``dataset_root``), for verbs given no ``--data``."""
    root = best.get("dataset_root")
    if not root:
        raise ConfigError(f"--data: {results_dir}/best.json records no dataset folder; pass --data DIR "
                          "(the Speech Commands folder the study trained on)")
    if not Path(root).is_dir():
        raise ConfigError(f"--data: the study trained on {root}, which is gone; pass --data DIR")
    return Path(root)


def _check_entry(entry: Entry, candidate) -> None:
    if candidate.arch != entry.arch or (entry.model_size_info and candidate.spec.to_model_size_info() != entry.model_size_info):
        raise ConfigError(
            f"checkpoint {entry.checkpoint}: holds {candidate.describe()} but trial {entry.study}#{entry.trial} "
            f"is {entry.arch} {entry.model_size_info}")


def export_class(entries: list[Entry], data_root: Path, top: int) -> tuple:
    """(winning entry, candidate, int8 .tflite bytes, accuracy dict) for one class."""
    from nas.data.cache import load_features
    from nas.export.accuracy import int8_accuracy, load_model

    ranked = sorted(entries, key=lambda e: (-e.rank_accuracy, e.memory_bytes, e.trial))[:top]
    scored = []
    for entry in ranked:
        model, candidate = load_model(entry.checkpoint)
        _check_entry(entry, candidate)
        splits = {s: load_features(data_root, candidate.frontend, s) for s in ("validation", "test")}
        train = load_features(data_root, candidate.frontend, "train")
        with tempfile.TemporaryDirectory() as tmp:
            accuracy = int8_accuracy(model, candidate, splits, Path(tmp) / "model.tflite", calibration=train)
            model_bytes = (Path(tmp) / "model.tflite").read_bytes()
        scored.append((entry, candidate, model_bytes, {s: accuracy[s] for s in ("validation", "test")}))
    return max(scored, key=lambda s: (s[3]["validation"]["int8"], -s[0].memory_bytes, -s[0].trial))


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from nas.export.bundle import BundleInfo, write_bundle

    results_dir: Path = args.results_dir
    if not results_dir.is_dir():
        raise ConfigError(f"{results_dir}: no such results folder")
    if args.top < 1:
        raise ConfigError(f"--top must be >= 1, got {args.top}")
    entries, seen, best = select_entries(results_dir)
    data_root = args.data or recorded_dataset(best, results_dir)
    if not data_root.is_dir():
        raise ConfigError(f"--data {data_root}: no such dataset folder")
    wanted = set(args.classes.split(",")) if args.classes else set()
    out = args.out or results_dir / "export"
    written = []
    for budget_class in tqdm(sorted(entries), desc="export", unit="class"):
        entry, candidate, model_bytes, accuracy = export_class(entries[budget_class], data_root, args.top)
        info = BundleInfo(budget_class, candidate, accuracy, str(best.get("dataset", data_root)),
                          {"study": entry.study, "trial": entry.trial, "checkpoint": str(entry.checkpoint)},
                          entry.latency_ms)
        folder = write_bundle(out, model_bytes, info, arduino=args.arduino)
        written.append(folder)
        print(f"{budget_class}: {candidate.describe()} int8 val {100 * accuracy['validation']['int8']:.2f} % "
              f"(float {100 * accuracy['validation']['float']:.2f} %) → {folder}")
    missing = sorted((seen | wanted) - set(entries))
    if missing:
        raise BudgetError(f"{results_dir}: no feasible trial with a checkpoint for class(es) {missing}"
                          + (f"; exported {[p.name for p in written]}" if written else ""))
    return 0
