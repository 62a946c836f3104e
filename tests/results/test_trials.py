"""The trials table from a study's storage: trials.csv rows, the Pareto flags and best.json."""
import pytest

from nas.results import trials
from tests.report.report_study_factory import make_study


@pytest.fixture
def df():
    return trials.trials_frame(make_study())


def test_one_row_per_trial_with_its_state(df):
    assert list(df["number"]) == list(range(6))
    assert list(df["state"]) == ["COMPLETE"] * 4 + ["PRUNED", "FAIL"]
    assert list(df["feasible"]) == [True, True, True, False, True, True]
    assert list(df["trained"]) == [True, True, True, False, True, False]
    assert df.loc[3, "violation"] == 220_000 and df.loc[0, "violation"] == 0
    assert df.loc[5, "fail_reason"] == "train: RuntimeError: boom"
    assert df.loc[4, "pruned_at_epoch"] == 2 and df.loc[4, "val_acc"] == pytest.approx(0.35)
    assert df.loc[0, "model_size_info"] == "64 64" and df.loc[0, "stride_ms"] == 40.0
    assert df["budget_class"].unique().tolist() == ["small"]


def test_pareto_flags_only_feasible_non_dominated_trials(df):
    # 1 (0.75, 60 KB, 3 MOps) is dominated by 0 (0.80, 40 KB, 2 MOps); 3 is infeasible with accuracy 0.
    assert df.index[df["pareto"]].tolist() == [0, 2]


def test_best_per_class_is_the_most_accurate_feasible_trial(df):
    best = trials.best_json(df, {("dnn_small", 2): {"arch": "dnn"}}, "gen", {})
    entry = best["classes"]["small"]
    assert (entry["trial"], entry["val_acc"], entry["checkpoint"]) == (2, 0.9, "trials/2/model.pt")
    assert entry["candidate"] == {"arch": "dnn"} and entry["latency_ms"] is None
    assert best["dataset"] == "gen"


def test_best_checkpoint_path_gets_the_study_folder_prefix_for_a_parent(df):
    best = trials.best_json(df, {}, "gen", {"dnn_small": "dnn_small/"})
    assert best["classes"]["small"]["checkpoint"] == "dnn_small/trials/2/model.pt"


def test_empty_study_gives_empty_tables():
    import optuna

    s = optuna.create_study(directions=["maximize", "minimize", "minimize"])
    df = trials.trials_frame(s)
    assert df.empty and list(df.columns) == trials.COLUMNS
    assert trials.best_json(df, {}, "d", {})["classes"] == {}


def test_accuracy_is_the_float_objective_and_the_enqueued_hello_edge_trial_is_flagged():
    from optuna.trial import TrialState, create_trial

    study = make_study()
    study.add_trial(create_trial(state=TrialState.COMPLETE, values=[0.7, 30_000, 1e6],
                                 user_attrs={"hello_edge": "small", "feasible": True, "best_val_acc": 0.7,
                                             "memory_bytes": 30_000, "ops": 1e6},
                                 system_attrs={"constraints:memory_bytes": -1.0}))
    df = trials.trials_frame(study)
    assert set(df["accuracy_objective"]) == {"float"}  # nothing recorded, no int8 figures on the trials
    assert df["accuracy"].equals(df["val_acc"])
    assert df["hello_edge"].tolist() == [False] * 6 + [True]
