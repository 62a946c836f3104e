"""Tables of a search, built from the Optuna storage alone (pandas).

* ``trials.csv``: one row per trial (also infeasible, pruned and failed ones), sorted by number.
* ``summary.md``: Hello Edge's table shape (architecture, class, accuracy, memory, ops) for the best
  feasible trial, then the Pareto front.
* ``best.json``: the best feasible trial per budget class, the file ``evaluate`` and ``export`` read::

      {"dataset": "...", "classes": {"small": {"study": "ds_cnn_small", "trial": 7, "arch": "ds_cnn",
       "val_acc": 0.91, "test_acc": 0.90, "memory_bytes": 61234, "ops": 5.1e6, "latency_ms": null,
       "checkpoint": "trials/7/model.pt", "candidate": {...}}}}

  ``checkpoint`` is relative to the folder holding ``best.json``. "Best" = highest validation
  accuracy; ties go to less memory. A multirun parent folder has one of the same shape across studies.
"""
from __future__ import annotations

import json
import math

import numpy as np
import optuna
import pandas as pd

from nas.search.pareto import pareto_mask

COLUMNS = [
    "study", "number", "state", "feasible", "trained", "arch", "budget_class", "hello_edge", "accuracy", "val_acc", "test_acc",
    "val_acc_float", "val_acc_int8", "val_acc_int8_tflite",
    "memory_bytes", "ops", "latency_ms", "params", "macs", "memory_hello_edge_bytes", "memory_deploy_bytes",
    "tflite_flash_bytes", "tflite_arena_bytes", "memory_deploy_measured_bytes",
    "violation", "epochs", "best_epoch", "pruned_at_epoch", "train_seconds", "model_size_info", "n_mfcc",
    "window_ms", "stride_ms", "stage", "fail_reason", "checkpoint", "tflite", "pareto",
]


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per finished or running trial of ``study`` (waiting ones are not trials yet)."""
    budget_class = study.user_attrs.get("constraints", "")
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
        best_val_acc = a.get("best_val_acc", max((h["val_acc"] for h in history), default=np.nan))
        rows.append({
            "study": study.study_name,
            "number": t.number,
            "state": t.state.name,
            "feasible": bool(a.get("feasible", False)),
            "trained": bool(history),
            "arch": a.get("arch", ""),
            "budget_class": budget_class,
            "hello_edge": "hello_edge" in a,
            "accuracy": a.get("val_acc_int8", np.nan) if study.user_attrs.get("accuracy_objective") == "int8" else best_val_acc,
            "val_acc": best_val_acc,
            "test_acc": a.get("test_acc", np.nan),
            # objective.accuracy=int8 only: float and TFLite Micro / TFLite int8 accuracy on the same clips
            "val_acc_float": a.get("val_acc_float", np.nan),
            "val_acc_int8": a.get("val_acc_int8", np.nan),
            "val_acc_int8_tflite": a.get("val_acc_int8_tflite", np.nan),
            "memory_bytes": a.get("memory_bytes", np.nan),
            "ops": a.get("ops", np.nan),
            "latency_ms": a.get("latency_ms", np.nan),
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
            "model_size_info": _size_info(cand),
            "n_mfcc": fe.get("n_mfcc", np.nan),
            "window_ms": fe.get("window_ms", np.nan),
            "stride_ms": fe.get("stride_ms", np.nan),
            "stage": a.get("stage", ""),
            "fail_reason": a.get("fail_reason", ""),
            "checkpoint": a.get("checkpoint", ""),
            "tflite": a.get("tflite", ""),
        })
    df = pd.DataFrame(rows, columns=COLUMNS[:-1])
    df["pareto"] = _front_flags(df)
    return df.sort_values("number", kind="stable").reset_index(drop=True)


def _size_info(candidate: dict) -> str:
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


def _front_flags(df: pd.DataFrame) -> pd.Series:
    flags = pd.Series(False, index=df.index)
    done = completed_feasible(df)
    if len(done):
        pts = done[["val_acc", "memory_bytes", third_objective(df)]].to_numpy(float)
        flags.loc[done.index] = pareto_mask(pts, [True, False, False])
    return flags


def best_per_class(df: pd.DataFrame) -> dict[str, dict]:
    """The best feasible trial of each budget class in ``df`` (see the module docstring)."""
    best = {}
    done = completed_feasible(df)
    for budget_class, group in done.groupby("budget_class", sort=True):
        row = group.sort_values(["val_acc", "memory_bytes"], ascending=[False, True], kind="stable").iloc[0]
        best[str(budget_class)] = row
    return best


def best_json(df: pd.DataFrame, candidates: dict[tuple[str, int], dict], dataset: str, prefix: dict[str, str],
              dataset_root: str | None = None) -> dict:
    """The ``best.json`` object; ``prefix`` maps study → its folder relative to best.json ('' = same).

    ``dataset`` describes the data for people; ``dataset_root`` is its folder, for the verbs that
    reload it (export, quant-sweep), or None when the studies used different folders.
    """
    classes = {}
    for budget_class, row in best_per_class(df).items():
        classes[budget_class] = {
            "study": row["study"], "trial": int(row["number"]), "arch": row["arch"],
            "val_acc": _num(row["val_acc"]), "test_acc": _num(row["test_acc"]), "val_acc_int8": _num(row["val_acc_int8"]),
            "memory_bytes": _num(row["memory_bytes"]), "ops": _num(row["ops"]), "latency_ms": _num(row["latency_ms"]),
            "checkpoint": f"{prefix.get(row['study'], '')}{row['checkpoint']}",
            "candidate": candidates.get((row["study"], int(row["number"])), {}),
        }
    return {"dataset": dataset, "dataset_root": dataset_root, "classes": classes}


def summary_markdown(df: pd.DataFrame, title: str, dataset: str) -> str:
    """Hello Edge-shaped table of the best feasible trial per (architecture, class), then the fronts."""
    third = third_objective(df)
    lines = [f"# {title}", "", f"Accuracy is measured on: {dataset}.", ""]
    lines += [
        "| Architecture | Class | Val accuracy (%) | Test accuracy (%) | Memory (KB) | "
        + ("Latency (ms)" if third == "latency_ms" else "Ops (MOps)") + " | Trial |",
        "|---|---|---|---|---|---|---|",
    ]
    done = completed_feasible(df)
    for (arch, budget_class), group in done.groupby(["arch", "budget_class"], sort=True):
        row = group.sort_values(["val_acc", "memory_bytes"], ascending=[False, True], kind="stable").iloc[0]
        lines.append(
            f"| {arch} | {budget_class} | {_pct(row['val_acc'])} | {_pct(row['test_acc'])} | "
            f"{row['memory_bytes'] / 1000:.1f} | {_third(row, third)} | {row['study']}#{int(row['number'])} |"
        )
    counts = df["state"].value_counts()
    infeasible = int(((df["state"] == "COMPLETE") & ~df["feasible"]).sum())
    lines += [
        "",
        f"Trials: {int(counts.get('COMPLETE', 0)) - infeasible} trained, {infeasible} infeasible (never trained), "
        f"{int(counts.get('PRUNED', 0))} pruned, {int(counts.get('FAIL', 0))} failed, "
        f"{int(counts.get('RUNNING', 0))} running.",
        "",
        "## Pareto front (feasible trials; accuracy ↑, memory ↓, " + ("latency" if third == "latency_ms" else "ops") + " ↓)",
        "",
        "| Study | Trial | Architecture | model_size_info | MFCC × window × stride | Val acc (%) | Memory (KB) | "
        + ("Latency (ms)" if third == "latency_ms" else "Ops (MOps)") + " |",
        "|---|---|---|---|---|---|---|---|",
    ]
    front = df[df["pareto"]].sort_values(["study", "memory_bytes", "number"], kind="stable")
    for _, row in front.iterrows():
        lines.append(
            f"| {row['study']} | {int(row['number'])} | {row['arch']} | {row['model_size_info']} | "
            f"{_int(row['n_mfcc'])} × {row['window_ms']:g} ms × {row['stride_ms']:g} ms | {_pct(row['val_acc'])} | "
            f"{row['memory_bytes'] / 1000:.1f} | {_third(row, third)} |"
        )
    return "\n".join(lines) + "\n"


def _third(row, third: str) -> str:
    return f"{row['latency_ms']:.2f}" if third == "latency_ms" else f"{row['ops'] / 1e6:.2f}"


def _pct(value) -> str:
    return "–" if _num(value) is None else f"{100 * value:.1f}"


def _int(value) -> str:
    return "–" if _num(value) is None else str(int(value))


def _num(value):
    """A JSON-safe number: None for NaN."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value
