"""Every verb picks the same "best per class": the trial best by the accuracy objective the study optimised.

The study below is stored in a real SQLite file. Trials 0 and 1 cost the same; trial 0 has the better
float accuracy, trial 1 the better int8 accuracy, so float and int8 disagree on which is best (and on
which dominates the other). With ``accuracy_objective`` int8 every reader must pick trial 1, with
float trial 0: best.json, summary.md, the Pareto flags, export's shortlist and its bundle, evaluate's
targets and quant-sweep's targets; also when the folder holds only study.db or only its tables.
"""
import json
import shutil

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from nas.cli import main
from nas.data.frontend_config import FrontEndConfig
from nas.errors import DataError
from nas.export.quant_cli import _targets
from nas.results.folder import open_results
from nas.results.place import claim_results_dir, place_for
from nas.results.trials import trials_frame
from nas.spaces import build_model, candidate_from_model_size_info
from nas.train import save_checkpoint
from nas.train.evaluate_cli import resolve_targets

FRONTEND = FrontEndConfig(stride_ms=40.0)  # whole 1 s clips, 24 frames: the tiny dataset's clips
# number, model_size_info, float val acc, int8 val acc (same memory and ops for both)
TRAINED = [(0, [16], 0.90, 0.70), (1, [32], 0.80, 0.85)]
BEST = {"float": 0, "int8": 1}


def make_results(root, objective: str):
    """A study folder as `kws-nas search` leaves it: marker, study.db, checkpoints of trials 0 and 1."""
    place = place_for("dnn_small", root, None)
    claim_results_dir(place)
    study = optuna.create_study(study_name=place.name, storage=place.storage_url,
                                directions=["maximize", "minimize", "minimize"])
    for key, value in {"search_space": "dnn", "constraints": "small", "dataset": "generated speech (test)",
                       "accuracy_objective": objective}.items():
        study.set_user_attr(key, value)
    for number, msi, float_acc, int8_acc in TRAINED:
        candidate = candidate_from_model_size_info("dnn", msi, FRONTEND)
        checkpoint = f"trials/{number}/model.pt"
        save_checkpoint(place.results_dir / checkpoint, build_model(candidate).eval(), candidate.to_dict(), {"trial": number})
        attrs = {"candidate": candidate.to_dict(), "arch": "dnn", "feasible": True, "memory_bytes": 50_000.0,
                 "ops": 2e6, "best_val_acc": float_acc, "test_acc": float_acc - 0.05, "val_acc_float": float_acc,
                 "val_acc_int8": int8_acc, "checkpoint": checkpoint, "stage": "done",
                 "history": [{"epoch": 1, "train_loss": 1.0, "train_acc": 0.5, "val_loss": 1.0, "val_acc": float_acc}]}
        accuracy = int8_acc if objective == "int8" else float_acc
        study.add_trial(create_trial(state=TrialState.COMPLETE, values=[accuracy, 50_000.0, 2e6], user_attrs=attrs,
                                     system_attrs={"constraints:memory_bytes": -1.0}))
    infeasible = candidate_from_model_size_info("dnn", [512, 512], FRONTEND)
    study.add_trial(create_trial(state=TrialState.COMPLETE, values=[0.0, 900_000.0, 9e6],
                                 user_attrs={"candidate": infeasible.to_dict(), "arch": "dnn", "feasible": False,
                                             "memory_bytes": 900_000.0, "ops": 9e6},
                                 system_attrs={"constraints:memory_bytes": 800_000.0}))
    return place.results_dir, study


@pytest.fixture(params=["int8", "float"])
def objective(request):
    return request.param


@pytest.fixture
def results(tmp_path, objective):
    folder, study = make_results(tmp_path / "results", objective)
    assert main(["report", str(folder)]) == 0
    return folder, study


def test_table_best_json_summary_and_front_follow_the_optimised_accuracy(results, objective):
    folder, study = results
    best = BEST[objective]
    df = trials_frame(study)
    assert list(df["accuracy_objective"]) == [objective] * 3
    assert df.loc[best, "accuracy"] == TRAINED[best][2 if objective == "float" else 3]
    assert df.index[df["pareto"]].tolist() == [best]  # the other trained trial is dominated at equal cost

    entry = json.loads((folder / "best.json").read_text())["classes"]["small"]
    assert (entry["trial"], entry["accuracy_objective"]) == (best, objective)
    assert entry["accuracy"] == df.loc[best, "accuracy"] and entry["val_acc"] == TRAINED[best][2]
    summary = (folder / "summary.md").read_text()
    assert f"| dnn | small | {100 * df.loc[best, 'accuracy']:.1f} |" in summary and f"dnn_small#{best} |" in summary
    assert ("int8 model's validation accuracy" in summary) == (objective == "int8")


def test_evaluate_quant_sweep_and_export_shortlist_pick_the_same_trial(results, objective, tiny_dataset_dir):
    folder, _ = results
    best = BEST[objective]
    checkpoint = folder / f"trials/{best}/model.pt"
    assert open_results(folder).shortlist()["small"][0].trial == best  # export converts these, best first
    assert resolve_targets(folder)["small"]["trial"] == best
    assert resolve_targets(folder)["small"]["checkpoint"] == checkpoint
    assert _targets(folder, tiny_dataset_dir) == ({"small": checkpoint}, tiny_dataset_dir)


def test_export_with_top_one_bundles_the_trial_the_study_optimised(results, objective, tiny_dataset_dir, tmp_path):
    folder, _ = results
    out = tmp_path / "bundles"
    assert main(["export", str(folder), "--data", str(tiny_dataset_dir), "--out", str(out), "--top", "1"]) == 0
    card = json.loads((out / "small" / "model_card.json").read_text())
    assert card["source"]["trial"] == BEST[objective]


def test_a_folder_with_only_its_tables_or_only_study_db_gives_the_same_answer(results, objective, tmp_path, capsys):
    folder, _ = results
    best = BEST[objective]
    tables_only = tmp_path / "tables_only"
    tables_only.mkdir()
    for name in ("trials.csv", "best.json"):
        shutil.copy(folder / name, tables_only / name)
    (tables_only / "trials").symlink_to(folder / "trials")
    assert resolve_targets(tables_only)["small"]["trial"] == best
    assert open_results(tables_only).table["pareto"].tolist() == open_results(folder).table["pareto"].tolist()
    (tables_only / "trials.csv").unlink()  # best.json alone, as a copied multirun parent has
    assert resolve_targets(tables_only)["small"]["trial"] == best

    db_only = tmp_path / "db_only"
    db_only.mkdir()
    shutil.copy(folder / "study.db", db_only / "study.db")
    (db_only / "trials").symlink_to(folder / "trials")
    assert main(["report", str(db_only)]) == 0
    assert "dnn_small" in capsys.readouterr().out
    assert json.loads((db_only / "best.json").read_text()) == json.loads((folder / "best.json").read_text())
    assert (db_only / "trials.csv").read_text() == (folder / "trials.csv").read_text()
    assert resolve_targets(db_only)["small"]["trial"] == best


def test_a_study_db_with_several_studies_is_one_error_naming_them(tmp_path, capsys):
    folder, _ = make_results(tmp_path / "results", "int8")
    optuna.create_study(study_name="gru_large", storage=f"sqlite:///{folder / 'study.db'}")
    (folder / "study.json").unlink()
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "expected exactly one study" in err and "'dnn_small'" in err and "'gru_large'" in err
    with pytest.raises(DataError, match="gru_large"):
        open_results(folder)


def test_a_study_run_before_the_objective_was_recorded_is_read_by_what_its_trials_carry(tmp_path):
    _, study = make_results(tmp_path / "results", "int8")
    study.set_user_attr("accuracy_objective", "")  # as if never recorded: val_acc_int8 says int8
    df = trials_frame(study)
    assert df.loc[0, "accuracy_objective"] == "int8" and df.loc[1, "accuracy"] == 0.85
