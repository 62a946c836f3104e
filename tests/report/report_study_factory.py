"""A small multi-objective study with every kind of trial, built by hand (for report unit tests)."""
import optuna
from optuna.trial import TrialState, create_trial

from nas.data.frontend_config import FrontEndConfig
from nas.search.study import DIRECTIONS_OPS


def _candidate(width: int) -> dict:
    return {"arch": "dnn", "spec": {"widths": [width, width]}, "frontend": FrontEndConfig(stride_ms=40.0).to_dict()}


def _history(accs):
    return [{"epoch": i + 1, "train_loss": 1.0 / (i + 1), "train_acc": a - 0.02, "val_loss": 1.1 / (i + 1),
             "val_acc": a, "seconds": 1.0} for i, a in enumerate(accs)]


def add_trials(study: optuna.Study) -> None:
    """Trials 0-2 trained feasible (0 and 2 on the front), 3 infeasible, 4 pruned, 5 failed."""
    rows = [
        # state, accuracy, memory, ops, constraint, width, curve, extra attrs
        (TrialState.COMPLETE, 0.80, 40_000, 2e6, -1.0, 64, [0.6, 0.8], {}),
        (TrialState.COMPLETE, 0.75, 60_000, 3e6, -1.0, 96, [0.6, 0.75], {}),
        (TrialState.COMPLETE, 0.90, 70_000, 5e6, -0.5, 128, [0.7, 0.9], {}),
        (TrialState.COMPLETE, 0.0, 300_000, 9e6, 220_000.0, 512, None, {}),
        (TrialState.PRUNED, None, 50_000, 2.5e6, -1.0, 80, [0.3, 0.35], {"pruned_at_epoch": 2}),
        (TrialState.FAIL, None, 45_000, 2.2e6, -1.0, 72, None, {"fail_reason": "train: RuntimeError: boom"}),
    ]
    for state, acc, memory, ops, constraint, width, curve, extra in rows:
        attrs = {"candidate": _candidate(width), "arch": "dnn", "memory_bytes": memory, "ops": ops,
                 "cost": {"params": memory - 1000, "memory_hello_edge_bytes": memory, "memory_deploy_bytes": memory + 5000,
                          "macs": ops / 2, "ops": ops},
                 "feasible": constraint <= 0, "stage": "done", **extra}
        if curve:
            attrs.update(history=_history(curve), val_curve=curve)
        if state == TrialState.COMPLETE and curve:
            attrs.update(best_val_acc=acc, best_epoch=2, test_acc=acc - 0.05, checkpoint=f"trials/{len(study.trials)}/model.pt")
        study.add_trial(create_trial(
            state=state, values=[acc, memory, ops] if state == TrialState.COMPLETE else None,
            user_attrs=attrs, system_attrs={"constraints:memory_bytes": constraint},
        ))


def make_study(name="dnn_small", storage=None) -> optuna.Study:
    study = optuna.create_study(study_name=name, storage=storage, directions=DIRECTIONS_OPS)
    study.set_user_attr("search_space", "dnn")
    study.set_user_attr("constraints", "small")
    study.set_user_attr("dataset", "generated speech (test)")
    study.set_user_attr("limits", {"memory_bytes": 80_000, "ops": 6e6})
    add_trials(study)
    return study
