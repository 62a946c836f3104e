"""The final retraining's runs, read back from the storage: one row per (candidate, seed), then mean ± std.

``kws-nas search`` (and ``kws-nas retrain``) keep them in a second Optuna study in the same storage,
named ``<study>.retrain``: one trial per (screened trial, seed), its value the run's best validation
accuracy, and user attributes naming the source trial, the seed, whether the candidate is Hello Edge's
configuration, its costs and the recipe (``nas.search.retrain`` writes them). Everything here is
computed from those stored numbers, so ``kws-nas report`` rebuilds it without training anything.
"""
from __future__ import annotations

import numpy as np
import optuna
import pandas as pd

from nas.results.storage import study_names
from nas.results.trials import size_info_text

RETRAIN_SUFFIX = ".retrain"
COMPARED_STAGE = "seeds"  # a run's ``stage`` attribute when it counts in the means (``nas.search.retrain``)
SHORTLIST_STAGE = "shortlist"  # a run that chose a candidate, at a seed the comparison never uses
# One student distilled from the ensemble of a candidate's compared seeds (nas.train.Ensemble): the
# model best.json exports when it validates at least as well as the best seed. Never in the means: the
# comparison stays one recipe, seed for seed.
DISTILLED_STAGE = "distilled"

RUN_COLUMNS = [
    "study", "source_trial", "seed", "stage", "state", "hello_edge", "arch", "budget_class", "model_size_info",
    "val_acc", "test_acc", "screening_accuracy", "memory_bytes", "ops", "latency_ms", "epochs", "best_epoch",
    "train_seconds", "checkpoint", "fail_reason", "teachers",
]
CANDIDATE_COLUMNS = [
    "study", "source_trial", "hello_edge", "arch", "budget_class", "model_size_info", "seeds",
    "val_mean", "val_std", "test_mean", "test_std", "screening_accuracy", "memory_bytes", "ops", "latency_ms",
    "checkpoint", "distilled_val", "distilled_test", "distilled_teachers", "distilled_exported",
]


def retrain_name(study_name: str) -> str:
    """The retraining study of the search study ``study_name`` (same storage)."""
    return study_name + RETRAIN_SUFFIX


def load_retrain(study: optuna.Study) -> optuna.Study | None:
    """The retraining study of ``study`` from its own storage, or None when none was run."""
    storage = study._storage  # the search study's storage: the retraining study lives beside it
    name = retrain_name(study.study_name)
    if name not in study_names(storage):
        return None
    return optuna.load_study(study_name=name, storage=storage)


def runs_frame(retrain: optuna.Study, study_name: str, budget_class: str) -> pd.DataFrame:
    """One row per retraining run that started (waiting ones are not runs yet), by source trial and seed."""
    rows = []
    for t in retrain.get_trials(deepcopy=False):
        a = t.user_attrs
        if t.state == optuna.trial.TrialState.WAITING or "source_trial" not in a:
            continue
        rows.append({
            "study": study_name, "source_trial": int(a["source_trial"]), "seed": int(a["seed"]),
            "stage": a.get("stage", COMPARED_STAGE), "state": t.state.name, "hello_edge": bool(a.get("hello_edge", False)), "arch": a.get("arch", ""),
            "budget_class": budget_class, "model_size_info": size_info_text(a.get("candidate", {})),
            "val_acc": t.value if t.state == optuna.trial.TrialState.COMPLETE else np.nan,
            "test_acc": a.get("test_acc", np.nan), "screening_accuracy": a.get("screening_accuracy", np.nan),
            "memory_bytes": a.get("memory_bytes", np.nan), "ops": a.get("ops", np.nan),
            "latency_ms": a.get("latency_ms", np.nan), "epochs": a.get("epochs", np.nan),
            "best_epoch": a.get("best_epoch", np.nan), "train_seconds": a.get("train_seconds", np.nan),
            "checkpoint": a.get("checkpoint", ""),
            "fail_reason": a.get("fail_reason", ""),
            "teachers": len(a.get("teachers", [])),  # a distilled run's ensemble size; 0 for the others
        })
    return pd.DataFrame(rows, columns=RUN_COLUMNS).sort_values(["source_trial", "seed"], kind="stable").reset_index(drop=True)


def finished_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The completed runs of the comparison, one per (study, source trial, seed): a duplicate (two workers
    enqueued the same run at once) counts once, its first completion. Shortlist runs, which chose the
    candidates, are left out."""
    done = runs[(runs["state"] == "COMPLETE") & (runs["stage"] == COMPARED_STAGE)]
    return done.drop_duplicates(["study", "source_trial", "seed"], keep="first")


def candidates_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per retrained candidate: validation and test accuracy mean ± std over its finished seeds
    (std with ddof=1; 0 for a single seed) and the model to export: its best seed's by validation accuracy,
    or its distilled student's when one finished and validates at least as well (``distilled_*``: the
    student's accuracies, NaN without one); best validation mean first."""
    done = finished_runs(runs)
    if done.empty:
        return pd.DataFrame(columns=CANDIDATE_COLUMNS)
    first = ["hello_edge", "arch", "budget_class", "model_size_info", "screening_accuracy", "memory_bytes", "ops",
             "latency_ms"]
    grouped = done.groupby(["study", "source_trial"], sort=True)
    table = grouped[first].first()
    table["seeds"] = grouped["seed"].count()
    for column, name in (("val_acc", "val"), ("test_acc", "test")):
        table[f"{name}_mean"] = grouped[column].mean()
        table[f"{name}_std"] = grouped[column].std(ddof=1).fillna(0.0)
    best_seed = done.sort_values(["val_acc", "seed"], ascending=[False, True], kind="stable")
    best = best_seed.groupby(["study", "source_trial"], sort=True)[["checkpoint", "val_acc"]].first()
    table["checkpoint"] = best["checkpoint"]
    students = runs[(runs["state"] == "COMPLETE") & (runs["stage"] == DISTILLED_STAGE)]
    # the latest: a rerun with more seeds distils again from the larger ensemble
    students = students.drop_duplicates(["study", "source_trial"], keep="last").set_index(["study", "source_trial"])
    students = students.reindex(table.index)
    table["distilled_val"], table["distilled_test"] = students["val_acc"], students["test_acc"]
    table["distilled_teachers"] = students["teachers"]
    # A short recipe's student can land below its best seed (the demo's 4 epochs: README); validation decides.
    table["distilled_exported"] = students["val_acc"].ge(best["val_acc"]).fillna(False).astype(bool)
    table["checkpoint"] = students["checkpoint"].where(table["distilled_exported"], table["checkpoint"])
    table = table.reset_index()[CANDIDATE_COLUMNS]
    return table.sort_values(["val_mean", "memory_bytes", "source_trial"], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)


def final_choice(candidates: pd.DataFrame) -> dict[str, pd.Series]:
    """Budget class → its retrained candidate with the best validation mean (never the test accuracy)."""
    return {str(budget_class): group.iloc[0] for budget_class, group in candidates.groupby("budget_class", sort=True)}
