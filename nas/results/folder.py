"""Open a results folder and answer which trials are each budget class's models: the one reader that
``report``, ``export``, ``evaluate`` and ``quant-sweep`` share.

A folder is read from the first of these it holds:

1. ``study.json`` (the marker ``kws-nas search`` writes): the study in the storage it names;
2. ``study.db`` alone: the one study in that SQLite file;
3. sub-folders with ``study.json`` (a multirun's ``results_dir``): all their studies;
4. ``trials.csv`` (a copied table): its rows, with ``best.json`` beside it for the dataset;
5. ``best.json`` alone (e.g. a copied multirun parent): one trial per class.

Trials are ranked by ``nas.results.trials.ranked``: the accuracy objective the study optimised, then
memory, then trial number; a class whose candidates were retrained (``nas.results.retrain``) puts its
best retrained validation mean first. Every verb therefore picks the same trial as ``best.json``.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd

from nas.errors import ConfigError, DataError
from nas.results.place import DB_FILE, MARKER, read_marker
from nas.results.retrain import candidates_frame, final_choice, load_retrain, runs_frame
from nas.results.storage import load_study, place_in_db_file
from nas.results.trials import (
    COLUMNS, front_flags, json_number, shortlists, size_info_text, text_column, trials_frame, with_accuracy,
)

TRIALS_CSV = "trials.csv"
BEST_JSON = "best.json"
UNRECORDED_DATASET = "unrecorded dataset"


@dataclass(frozen=True)
class LoadedStudy:
    """A study read from its storage, and the folder holding its checkpoints."""

    folder: Path
    study: optuna.Study


@dataclass(frozen=True)
class TrainedTrial:
    """A completed feasible trial with a checkpoint: a candidate for its budget class's model."""

    budget_class: str
    study: str
    trial: int
    arch: str
    model_size_info: str  # as the trials table writes it ("64 64"); "" when unknown
    accuracy: float  # the accuracy objective its study optimised
    accuracy_objective: str  # "float" or "int8"
    val_acc: float | None
    val_acc_int8: float | None
    test_acc: float | None
    memory_bytes: float | None
    ops: float | None
    latency_ms: float | None
    checkpoint: Path

    def metadata(self) -> dict:
        """Everything but the checkpoint, JSON-safe (what ``evaluate`` reports beside its score)."""
        return {"study": self.study, "trial": self.trial, "arch": self.arch, "accuracy": self.accuracy,
                "accuracy_objective": self.accuracy_objective, "val_acc": self.val_acc,
                "val_acc_int8": self.val_acc_int8, "test_acc": self.test_acc, "memory_bytes": self.memory_bytes,
                "ops": self.ops, "latency_ms": self.latency_ms}


@dataclass(frozen=True)
class ResultsFolder:
    """A results folder as one trials table (``nas.results.trials.COLUMNS``).

    Attributes:
        path: the folder opened.
        table: its trials; ``checkpoint`` is relative to the study's folder in ``study_dirs``.
        study_dirs: study name → the folder its checkpoints are relative to (default: ``path``).
        dataset: the data the accuracies were measured on, for people.
        dataset_root: the dataset folder the studies recorded (None: unrecorded, or several).
    """

    path: Path
    table: pd.DataFrame
    study_dirs: dict[str, Path]
    dataset: str
    dataset_root: str | None
    split_test_archive: bool  # dataset_root is the test-set archive, which the studies split by speaker
    # class → (study, trial, checkpoint relative to the study's folder) of the retrained choice
    retrained: dict[str, tuple[str, int, str]] = dataclasses.field(default_factory=dict)

    def classes(self) -> set[str]:
        """Every budget class the folder's trials were sampled for (also those with no feasible trial)."""
        return {str(c) for c in self.table["budget_class"].dropna().unique() if str(c)}

    def shortlist(self) -> dict[str, list[TrainedTrial]]:
        """Budget class → its trained feasible trials with a checkpoint, best first."""
        out = {}
        for budget_class, group in shortlists(self.table).items():
            trials = [self._trained(row) for _, row in group.iterrows()]
            if budget_class in self.retrained:
                study, trial, checkpoint = self.retrained[budget_class]
                trials = [dataclasses.replace(t, checkpoint=self.study_dirs.get(study, self.path) / checkpoint)
                          if (t.study, t.trial) == (study, trial) and checkpoint else t for t in trials]
                trials.sort(key=lambda t: (t.study, t.trial) != (study, trial))  # stable: the rest keep their order
            out[budget_class] = trials
        return out

    def best(self) -> dict[str, TrainedTrial]:
        """Budget class → its best trial (the one ``best.json`` names)."""
        return {budget_class: trials[0] for budget_class, trials in self.shortlist().items()}

    def recorded_dataset(self) -> Any:
        """The dataset the studies trained on, for verbs given no ``--data``: its folder, or the
        ``SpeechCommands`` of the test-set archive split by speaker as the search split it (both are
        what ``nas.data.cache.load_features`` takes).

        Raises:
            ConfigError: none recorded, or it is gone.
        """
        if not self.dataset_root:
            raise ConfigError(f"--data: {self.path} records no dataset folder; pass --data DIR "
                              "(the Speech Commands folder the study trained on)")
        if not Path(self.dataset_root).is_dir():
            raise ConfigError(f"--data: the study trained on {self.dataset_root}, which is gone; pass --data DIR")
        if self.split_test_archive:
            from nas.data.speech_commands import SpeechCommands

            return SpeechCommands(self.dataset_root, split_test_archive=True)
        return Path(self.dataset_root)

    def _trained(self, row: pd.Series) -> TrainedTrial:
        return TrainedTrial(
            str(row["budget_class"]), str(row["study"]), int(row["number"]), str(row["arch"]),
            str(row["model_size_info"]), float(row["accuracy"]), str(row["accuracy_objective"]),
            json_number(row["val_acc"]), json_number(row["val_acc_int8"]), json_number(row["test_acc"]),
            json_number(row["memory_bytes"]), json_number(row["ops"]), json_number(row["latency_ms"]),
            self.study_dirs.get(str(row["study"]), self.path) / str(row["checkpoint"]),
        )


def study_folders(parent: Path) -> list[Path]:
    """The study folders (with ``study.json``) directly under ``parent``."""
    return sorted(p for p in Path(parent).iterdir() if (p / MARKER).is_file())


def open_studies(path: str | Path) -> list[LoadedStudy]:
    """The studies of a folder (sources 1-3 of the module docstring); [] when it names none.

    Raises:
        DataError: a marker or ``study.db`` that does not lead to exactly one study.
    """
    path = Path(path)
    if (path / MARKER).is_file():
        return [LoadedStudy(path, load_study(read_marker(path)))]
    if (path / DB_FILE).is_file():
        return [LoadedStudy(path, load_study(place_in_db_file(path)))]
    return [LoadedStudy(folder, load_study(read_marker(folder))) for folder in study_folders(path)]


def recorded_data(studies: list[optuna.Study]) -> tuple[str, str | None, bool]:
    """(what the studies' accuracy was measured on, their common dataset folder or None, whether they
    split it as the test-set archive)."""
    datasets = {s.user_attrs.get("dataset", UNRECORDED_DATASET) for s in studies}
    roots = {(s.user_attrs.get("dataset_root"), bool(s.user_attrs.get("split_test_archive", False))) for s in studies}
    root, split = roots.pop() if len(roots) == 1 else (None, False)
    return "; ".join(sorted(datasets)), root, split


def retrained_choice(studies: list[optuna.Study]) -> dict[str, tuple[str, int, str]]:
    """Budget class → (study, trial, its best seed's checkpoint) of the best retrained validation mean
    across ``studies``' retraining."""
    frames = []
    for study in studies:
        retrain = load_retrain(study)
        if retrain is not None:
            frames.append(runs_frame(retrain, study.study_name, study.user_attrs.get("constraints", "")))
    if not frames:
        return {}
    chosen = final_choice(candidates_frame(pd.concat(frames, ignore_index=True)))
    return {c: (str(row["study"]), int(row["source_trial"]), str(row["checkpoint"])) for c, row in chosen.items()}


def open_results(path: str | Path) -> ResultsFolder:
    """Read the results folder ``path`` (see the module docstring for what it may hold).

    Raises:
        ConfigError: no such folder.
        DataError: nothing in it is kws-nas results, or a file in it is malformed.
    """
    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such results folder")
    studies = open_studies(path)
    if studies:
        table = pd.concat([trials_frame(s.study) for s in studies], ignore_index=True)
        dataset, root, split = recorded_data([s.study for s in studies])
        return ResultsFolder(path, table, {s.study.study_name: s.folder for s in studies}, dataset, root, split,
                             retrained_choice([s.study for s in studies]))
    if (path / TRIALS_CSV).is_file():
        best = _read_best_json(path / BEST_JSON) if (path / BEST_JSON).is_file() else {}
        return ResultsFolder(path, _read_trials_csv(path / TRIALS_CSV), {}, best.get("dataset", ""),
                             best.get("dataset_root"), bool(best.get("split_test_archive", False)))
    if (path / BEST_JSON).is_file():
        best = _read_best_json(path / BEST_JSON)
        return ResultsFolder(path, _best_json_table(best), {}, best.get("dataset", ""), best.get("dataset_root"),
                             bool(best.get("split_test_archive", False)))
    raise DataError(f"{path}: not a kws-nas results folder: no {MARKER}, {DB_FILE}, {TRIALS_CSV} or {BEST_JSON} "
                    f"in it, and no study folders under it")


def _read_trials_csv(path: Path) -> pd.DataFrame:
    text_columns = ("study", "state", "arch", "budget_class", "model_size_info", "checkpoint", "accuracy_objective")
    df = pd.read_csv(path, dtype={c: str for c in text_columns})
    needed = {"study", "number", "state", "feasible", "arch", "budget_class", "val_acc", "memory_bytes", "checkpoint"}
    missing = sorted(needed - set(df.columns))
    if missing:
        raise DataError(f"{path}: missing columns {missing}; expected the trials.csv of `kws-nas search`")
    df["feasible"] = df["feasible"].astype(str).str.lower() == "true"
    return _as_table(df)


def _read_best_json(path: Path) -> dict:
    try:
        best = json.loads(path.read_text())
        if not isinstance(best.get("classes"), dict):
            raise TypeError("no 'classes' object")
        return best
    except (ValueError, TypeError, AttributeError) as err:
        raise DataError(f"{path}: expected {{'classes': {{class: {{'checkpoint': relative path, ...}}}}}} ({err})") from err


def _best_json_table(best: dict) -> pd.DataFrame:
    rows = []
    for budget_class, entry in best["classes"].items():
        if not isinstance(entry, dict) or "checkpoint" not in entry:
            raise DataError(f"best.json: class {budget_class!r}: expected an object with 'checkpoint'")
        rows.append({**{k: v for k, v in entry.items() if k != "candidate"}, "number": int(entry.get("trial", -1)),
                     "budget_class": budget_class, "state": "COMPLETE", "feasible": True,
                     "model_size_info": size_info_text(entry.get("candidate") or {})})
    return _as_table(pd.DataFrame(rows))


def _as_table(df: pd.DataFrame) -> pd.DataFrame:
    """A table read from a file, completed to ``COLUMNS`` (accuracy derived where the file predates it)."""
    derive_accuracy = "accuracy" not in df
    df = df.reindex(columns=COLUMNS)
    for column in ("study", "arch", "budget_class", "model_size_info", "checkpoint"):
        df[column] = text_column(df[column])
    if derive_accuracy:
        df = with_accuracy(df)
    if df["pareto"].isna().all():
        df["pareto"] = front_flags(df)
    return df.astype({"pareto": bool})
