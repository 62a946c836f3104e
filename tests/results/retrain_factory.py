"""A search study with a Hello Edge trial and its retraining runs, written by hand into a real storage."""
import optuna
from optuna.trial import TrialState, create_trial

from nas.results.retrain import retrain_name
from nas.results.storage import open_storage
from nas.search.study import DIRECTIONS_OPS

# trial number → (memory bytes, ops, is Hello Edge's configuration); trial 2 costs more than Hello Edge
TRIALS = {0: (60_000, 5e6, True), 1: (40_000, 3e6, False), 2: (90_000, 8e6, False)}


def _candidate(width: int) -> dict:
    return {"arch": "dnn", "spec": {"widths": [width]}, "frontend": {}}


def write_study(db_url: str, name: str, accuracies: dict[int, list[float]]) -> optuna.Study:
    """Search study ``name`` (trials ``TRIALS``) and ``<name>.retrain`` with one COMPLETE run per
    (trial, seed) of ``accuracies`` (trial → validation accuracy per seed)."""
    storage = open_storage(db_url)
    study = optuna.create_study(study_name=name, storage=storage, directions=DIRECTIONS_OPS)
    study.set_user_attr("search_space", "dnn")
    study.set_user_attr("constraints", "small")
    for number, (memory, ops, hello) in TRIALS.items():
        attrs = {"candidate": _candidate(64 + number), "arch": "dnn", "memory_bytes": memory, "ops": ops,
                 "feasible": True, "best_val_acc": 0.5, "checkpoint": f"trials/{number}/model.pt",
                 **({"hello_edge": "small"} if hello else {})}
        study.add_trial(create_trial(state=TrialState.COMPLETE, values=[0.5, memory, ops], user_attrs=attrs,
                                     system_attrs={"constraints:memory_bytes": -1.0}))
    retrain = optuna.create_study(study_name=retrain_name(name), storage=storage, direction="maximize")
    for number, per_seed in accuracies.items():
        memory, ops, hello = TRIALS[number]
        for seed, acc in enumerate(per_seed):
            retrain.add_trial(create_trial(state=TrialState.COMPLETE, value=acc, user_attrs={
                "source_trial": number, "seed": seed, "hello_edge": hello, "candidate": _candidate(64 + number),
                "arch": "dnn", "memory_bytes": memory, "ops": ops, "test_acc": acc - 0.02, "epochs": 2}))
    return study
