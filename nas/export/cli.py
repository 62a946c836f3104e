"""`kws-nas export RESULTS_DIR [--data DIR] [--real-data DIR] [--out DIR] [--arduino]`: the best int8 model per
budget class, as a bundle. ``--real-data`` also scores the winner on a real Speech Commands set's test split
(either layout), for its model card.

Selection rule (per budget class): RESULTS_DIR is read by ``nas.results.folder`` (a study's folder, a
folder holding only ``study.db``, a multirun parent, or a copied ``trials.csv``/``best.json``); among the
completed, feasible trials with a checkpoint, the ``--top`` best by the accuracy objective the study
optimised (int8 validation accuracy after ``objective.accuracy=int8``, else float) are converted to full
int8; the one with the highest int8 validation accuracy measured here wins, ties going to less memory
(Hello Edge convention), then to the lower trial number. A folder with only ``best.json`` offers its
one trial per class.

Errors: a class with trials but no feasible one (or a class named by ``--classes`` with none) →
BudgetError after the other classes are written; a checkpoint whose spec differs from its trial's →
ConfigError; an op the converter refuses → ConversionError naming the op and the architecture.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from nas.errors import BudgetError, ConfigError

if TYPE_CHECKING:  # the reader imports pandas and Optuna: not at `kws-nas --help` time
    from nas.results.folder import TrainedTrial


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results_dir", type=Path, help="a kws-nas search results folder (a study's, a multirun's, or a trials.csv/best.json)")
    parser.add_argument("--data", type=Path, default=None,
                        help="the Speech Commands folder the study trained on (default: the one the study recorded)")
    parser.add_argument("--real-data", type=Path, default=None,
                        help="a real Speech Commands folder (either layout): its test split scores each exported "
                             "model for the model card")
    parser.add_argument("--out", type=Path, default=None, help="bundle folder (default: RESULTS_DIR/export)")
    parser.add_argument("--top", type=int, default=3,
                        help="trials per class converted to int8 before choosing (default: 3)")
    parser.add_argument("--classes", default=None, help="comma-separated classes that must be exported")
    parser.add_argument("--arduino", action="store_true",
                        help="also write <class>/arduino/kws_<class>/, a sketch for the Arduino TFLite Micro library")


def _check_entry(entry: TrainedTrial, candidate) -> None:
    from nas.results.trials import size_info_text

    if candidate.arch != entry.arch or (entry.model_size_info and size_info_text(candidate.to_dict()) != entry.model_size_info):
        raise ConfigError(
            f"checkpoint {entry.checkpoint}: holds {candidate.describe()} but trial {entry.study}#{entry.trial} "
            f"is {entry.arch} [{entry.model_size_info}]")


def export_class(shortlist: list[TrainedTrial], data_root, top: int) -> tuple:
    """(winning trial, candidate, int8 .tflite bytes, accuracy dict) for one class; ``shortlist`` best first."""
    from nas.data.cache import load_features
    from nas.export.accuracy import int8_accuracy, load_model

    scored = []
    for entry in shortlist[:top]:
        model, candidate = load_model(entry.checkpoint)
        _check_entry(entry, candidate)
        splits = {s: load_features(data_root, candidate.frontend, s) for s in ("validation", "test")}
        train = load_features(data_root, candidate.frontend, "train")
        with tempfile.TemporaryDirectory() as tmp:
            accuracy = int8_accuracy(model, candidate, splits, Path(tmp) / "model.tflite", calibration=train)
            model_bytes = (Path(tmp) / "model.tflite").read_bytes()
        scored.append((entry, candidate, model_bytes, {s: accuracy[s] for s in ("validation", "test")}))
    return max(scored, key=lambda s: (s[3]["validation"]["int8"], -(s[0].memory_bytes or 0.0), -s[0].trial))


def real_speech_accuracy(entry: TrainedTrial, candidate, model_bytes: bytes, real_data: Path) -> dict:
    """The exported model's accuracy (float, int8 in TFLite Micro and TFLite) on ``real_data``'s test split."""
    from nas.data.cache import load_features
    from nas.export.accuracy import load_model, score_int8_model

    model, _ = load_model(entry.checkpoint)
    test = load_features(real_data, candidate.frontend, "test")
    return {"data": str(real_data), "split": "test", **score_int8_model(model, model_bytes, candidate, {"test": test})["test"]}


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from nas.export.bundle import BundleInfo, write_bundle
    from nas.results.folder import open_results

    results_dir: Path = args.results_dir
    if args.top < 1:
        raise ConfigError(f"--top must be >= 1, got {args.top}")
    results = open_results(results_dir)
    entries, seen = results.shortlist(), results.classes()
    for flag, folder in (("--data", args.data), ("--real-data", args.real_data)):
        if folder is not None and not folder.is_dir():
            raise ConfigError(f"{flag} {folder}: no such dataset folder")
    data_root = args.data or results.recorded_dataset()
    wanted = set(args.classes.split(",")) if args.classes else set()
    out = args.out or results_dir / "export"
    written = []
    for budget_class in tqdm(sorted(entries), desc="export", unit="class"):
        entry, candidate, model_bytes, accuracy = export_class(entries[budget_class], data_root, args.top)
        real = real_speech_accuracy(entry, candidate, model_bytes, args.real_data) if args.real_data else None
        info = BundleInfo(budget_class, candidate, accuracy, results.dataset or str(args.data),
                          {"study": entry.study, "trial": entry.trial, "checkpoint": str(entry.checkpoint)},
                          entry.latency_ms, scored_on=str(data_root), real_speech=real)
        folder = write_bundle(out, model_bytes, info, arduino=args.arduino)
        written.append(folder)
        print(f"{budget_class}: {candidate.describe()} int8 val {100 * accuracy['validation']['int8']:.2f} % "
              f"(float {100 * accuracy['validation']['float']:.2f} %) → {folder}")
    missing = sorted((seen | wanted) - set(entries))
    if missing:
        raise BudgetError(f"{results_dir}: no feasible trial with a checkpoint for class(es) {missing}"
                          + (f"; exported {[p.name for p in written]}" if written else ""))
    return 0
