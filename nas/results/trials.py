"""The trials table of a study, built from the Optuna storage alone (pandas), and what is read from it.

* ``trials_frame``: one row per trial (also infeasible, pruned and failed ones), sorted by number;
  ``trials.csv`` holds it. ``accuracy`` is the accuracy objective the study optimised
  (``accuracy_objective``: "int8" → the int8 model's validation accuracy in TFLite Micro,
  ``val_acc_int8``; "float" → the float model's best validation accuracy, ``val_acc``); the Pareto
  flags, "best per class", ``summary.md``, ``best.json`` and the curves of the best all rank by it.
* ``best_json``: the best feasible trial per budget class, the file ``evaluate`` and ``export`` also read::

      {"dataset": "...", "dataset_root": "...", "classes": {"small": {"study": "ds_cnn_small", "trial": 7,
       "arch": "ds_cnn", "accuracy": 0.90, "accuracy_objective": "int8", "val_acc": 0.91, "val_acc_int8": 0.90,
       "test_acc": 0.90, "memory_bytes": 61234, "ops": 5.1e6, "latency_ms": null,
       "checkpoint": "trials/7/model.pt", "candidate": {...}}}}

  ``checkpoint`` is relative to the folder holding ``best.json``. "Best" = among the completed feasible
  trials with a checkpoint, highest ``accuracy``; ties go to less memory, then to the lower trial number. A multirun parent folder has one of the same
  shape across studies.
"""
from __future__ import annotations

import json
import math

import numpy as np
import optuna
import pandas as pd

from nas.results.pareto import pareto_mask

COLUMNS = [
    "study", "number", "state", "feasible", "trained", "hello_edge", "duplicate_of", "arch", "budget_class",
    "accuracy", "accuracy_objective", "val_acc", "test_acc",
    "val_acc_float", "val_acc_int8", "val_acc_int8_tflite",
    "memory_bytes", "ops", "latency_ms", "latency_source", "latency_ms_predicted", "params", "macs", "memory_hello_edge_bytes", "memory_deploy_bytes",
    "tflite_flash_bytes", "tflite_arena_bytes", "memory_deploy_measured_bytes",
    "violation", "epochs", "best_epoch", "pruned_at_epoch", "train_seconds", "model_size_info", "n_mfcc",
    "window_ms", "stride_ms", "stage", "fail_reason", "checkpoint", "tflite", "pareto",
]


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per finished or running trial of ``study`` (waiting ones are not trials yet)."""
    budget_class = study.user_attrs.get("constraints", "")
    objective = study.user_attrs.get("accuracy_objective", "")  # "": a study run before it was recorded
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state == optuna.trial.TrialState.WAITING:
            continue
        a = t.user_attrs
        cost = a.get("cost", {})
        cand = a.get("candidate", {})
        fe = cand.get("frontend", {})
        violation = sum(max(v, 0.0) for v in t.constraints.values())
        history = a.get("history", [])
        rows.append({
            "study": study.study_name,
            "number": t.number,
            "state": t.state.name,
            "feasible": bool(a.get("feasible", False)),
            "trained": bool(history),
            "hello_edge": "hello_edge" in a,
            # a proposal of a candidate trained before: that trial's number (its results were reused)
            "duplicate_of": a.get("duplicate_of", np.nan),
            "arch": a.get("arch", ""),
            "budget_class": budget_class,
            "accuracy_objective": objective,
            "val_acc": a.get("best_val_acc", max((h["val_acc"] for h in history), default=np.nan)),
            "test_acc": a.get("test_acc", np.nan),
            # objective.accuracy=int8 only: float and TFLite Micro / TFLite int8 accuracy on the same clips
            "val_acc_float": a.get("val_acc_float", np.nan),
            "val_acc_int8": a.get("val_acc_int8", np.nan),
            "val_acc_int8_tflite": a.get("val_acc_int8_tflite", np.nan),
            "memory_bytes": a.get("memory_bytes", np.nan),
            "ops": a.get("ops", np.nan),
            # the trained trial's latency objective: measured on the board, or (board.measure=sample or
            # front) the prediction it trusted instead; latency_source says which
            "latency_ms": a.get("latency_ms_predicted" if a.get("latency_source") == "predicted" else "latency_ms", np.nan),
            "latency_source": a.get("latency_source", "measured" if "latency_ms" in a else ""),
            "latency_ms_predicted": a.get("latency_ms_predicted", np.nan),  # the board's latency model
            "params": cost.get("params", np.nan),
            "macs": cost.get("macs", np.nan),
            "memory_hello_edge_bytes": cost.get("memory_hello_edge_bytes", np.nan),
            "memory_deploy_bytes": cost.get("memory_deploy_bytes", np.nan),
            "tflite_flash_bytes": a.get("deploy_footprint", {}).get("flash_bytes", np.nan),
            "tflite_arena_bytes": a.get("deploy_footprint", {}).get("arena_bytes", np.nan),
            "memory_deploy_measured_bytes": a.get("memory_deploy_measured_bytes", np.nan),
            "violation": violation,
            "epochs": len(history),
            "best_epoch": a.get("best_epoch", np.nan),
            "pruned_at_epoch": a.get("pruned_at_epoch", np.nan),
            "train_seconds": a.get("train_seconds", np.nan),
            "model_size_info": size_info_text(cand),
            "n_mfcc": fe.get("n_mfcc", np.nan),
            "window_ms": fe.get("window_ms", np.nan),
            "stride_ms": fe.get("stride_ms", np.nan),
            "stage": a.get("stage", ""),
            "fail_reason": a.get("fail_reason", ""),
            "checkpoint": a.get("checkpoint", ""),
            "tflite": a.get("tflite", ""),
        })
    df = with_accuracy(pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("accuracy", "pareto")]))
    df["pareto"] = front_flags(df)
    return df[COLUMNS].sort_values("number", kind="stable").reset_index(drop=True)


def with_accuracy(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``accuracy_objective`` filled in and ``accuracy`` taken from it.

    A study whose objective was not recorded (run before the loop recorded it; or a hand-made table)
    optimised int8 accuracy exactly when its trials carry ``val_acc_int8``: only the int8 stage stores it.
    """
    df = df.copy()
    if "accuracy_objective" not in df:
        df["accuracy_objective"] = ""
    objective = text_column(df["accuracy_objective"])
    scored_int8 = df["val_acc_int8"].notna().groupby(df["study"]).transform("any")
    df["accuracy_objective"] = objective.where(objective != "", scored_int8.map({True: "int8", False: "float"}))
    df["accuracy"] = df["val_acc_int8"].where(df["accuracy_objective"] == "int8", df["val_acc"])
    return df


def text_column(column: pd.Series) -> pd.Series:
    """``column`` as text, "" where a value is missing (a table read back from CSV has NaN there)."""
    return column.map(lambda v: "" if pd.isna(v) else str(v)).astype(object)


def size_info_text(candidate: dict) -> str:
    """A candidate's ``model_size_info`` as the table writes it ("64 64"), to compare a checkpoint with."""
    if not candidate:
        return ""
    from nas.spaces import Candidate

    try:
        return " ".join(str(v) for v in Candidate.from_dict(candidate).spec.to_model_size_info())
    except Exception:  # a candidate of an architecture this version no longer knows: keep the row
        return json.dumps(candidate.get("spec", {}), sort_keys=True)


def completed_feasible(df: pd.DataFrame) -> pd.DataFrame:
    """Trained feasible trials that finished (the ones a front or a 'best' may come from)."""
    return df[(df["state"] == "COMPLETE") & df["feasible"]]


def third_objective(df: pd.DataFrame) -> str:
    """'latency_ms' when the trials were measured on a board, else 'ops'."""
    return "latency_ms" if df["latency_ms"].notna().any() else "ops"


def measured_latency(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose latency the board measured and the model predicted (the model's check)."""
    return df[(df["latency_source"] == "measured") & df["latency_ms_predicted"].notna()]


def front_flags(df: pd.DataFrame) -> pd.Series:
    """Whether each row is on the Pareto front of (accuracy ↑, memory ↓, ops or latency ↓)."""
    flags = pd.Series(False, index=df.index)
    done = completed_feasible(df)
    if len(done):
        pts = done[["accuracy", "memory_bytes", third_objective(df)]].to_numpy(float)
        flags.loc[done.index] = pareto_mask(pts, [True, False, False])
    return flags


def ranked(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` best first: highest ``accuracy``, then less memory, then the lower trial number."""
    return df.sort_values(["accuracy", "memory_bytes", "number"], ascending=[False, True, True], kind="stable")


def shortlists(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Budget class → its completed feasible trials with a checkpoint and an accuracy, best first."""
    done = completed_feasible(df)
    done = done[(done["checkpoint"] != "") & done["accuracy"].notna()]
    return {str(budget_class): ranked(group) for budget_class, group in done.groupby("budget_class", sort=True)}


def best_per_class(df: pd.DataFrame) -> dict[str, pd.Series]:
    """The best trial of each budget class in ``df`` (see the module docstring)."""
    return {budget_class: group.iloc[0] for budget_class, group in shortlists(df).items()}


def candidates_of(study: optuna.Study) -> dict[tuple[str, int], dict]:
    """(study, trial number) → the trial's candidate dict, for ``best_json``."""
    return {(study.study_name, t.number): t.user_attrs["candidate"]
            for t in study.get_trials(deepcopy=False) if "candidate" in t.user_attrs}


def best_entry(row: pd.Series, candidates: dict[tuple[str, int], dict], prefix: dict[str, str]) -> dict:
    """One class's ``best.json`` entry for the trials-table row ``row``."""
    return {
        "study": row["study"], "trial": int(row["number"]), "arch": row["arch"],
        "accuracy": json_number(row["accuracy"]), "accuracy_objective": row["accuracy_objective"],
        "val_acc": json_number(row["val_acc"]), "test_acc": json_number(row["test_acc"]),
        "val_acc_int8": json_number(row["val_acc_int8"]), "memory_bytes": json_number(row["memory_bytes"]),
        "ops": json_number(row["ops"]), "latency_ms": json_number(row["latency_ms"]),
        "checkpoint": f"{prefix.get(row['study'], '')}{row['checkpoint']}",
        "candidate": candidates.get((row["study"], int(row["number"])), {}),
    }


def best_json(df: pd.DataFrame, candidates: dict[tuple[str, int], dict], dataset: str, prefix: dict[str, str],
              dataset_root: str | None = None, split_test_archive: bool = False) -> dict:
    """The ``best.json`` object; ``prefix`` maps study → its folder relative to best.json ('' = same).

    ``dataset`` describes the data for people; ``dataset_root`` is its folder, for the verbs that
    reload it (export, quant-sweep, prune), or None when the studies used different folders;
    ``split_test_archive``: that folder is the test-set archive, split by speaker (key written only then).
    """
    classes = {budget_class: best_entry(row, candidates, prefix) for budget_class, row in best_per_class(df).items()}
    split = {"split_test_archive": True} if split_test_archive else {}
    return {"dataset": dataset, "dataset_root": dataset_root, **split, "classes": classes}


def json_number(value) -> float | None:
    """A JSON-safe number: None for a missing value (None, NaN, or text that is no number)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number
