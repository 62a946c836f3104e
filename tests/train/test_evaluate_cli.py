"""`kws-nas evaluate`: a checkpoint or a results folder, scored on generated and real Speech Commands."""
from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
import torch

from nas.cli import main
from nas.data.cache import load_features
from nas.data.frontend_config import FrontEndConfig
from nas.data.speech_commands import LABELS
from nas.spaces import build_model, candidate_from_model_size_info
from nas.train import evaluate, save_checkpoint

# A narrow DS-CNN on a 25-frame front end: its own front end must reach the features it is fed.
FRONTEND = FrontEndConfig(stride_ms=40.0)
SPEC = [2, 16, 10, 4, 2, 2, 16, 3, 3, 1, 1]


def _checkpoint(path, seed: int = 0):
    candidate = candidate_from_model_size_info("ds_cnn", SPEC, FRONTEND)
    torch.manual_seed(seed)
    model = build_model(candidate).eval()
    save_checkpoint(path, model, candidate.to_dict(), {"trial": seed})
    return model


def _run_json(capsys, *argv) -> dict:
    assert main(["evaluate", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_checkpoint_is_scored_on_the_split_with_its_own_front_end(tmp_path, capsys, tiny_dataset_dir):
    model = _checkpoint(tmp_path / "model.pt")
    out = _run_json(capsys, tmp_path / "model.pt", "--data", tiny_dataset_dir, "--cache-dir", tmp_path / "cache")

    expected = evaluate(model, load_features(tiny_dataset_dir, FRONTEND, "test", cache_dir=tmp_path / "cache"))
    assert out["accuracy"] == pytest.approx(expected["accuracy"])
    assert out["confusion"] == expected["confusion"]
    assert list(out["per_class"]) == LABELS
    assert out["split"] == "test" and out["data"] == str(tiny_dataset_dir)
    assert out["clips"] == sum(map(sum, out["confusion"])) > 0
    assert "generated speech" in out["data_kind"]


def test_a_results_folder_scores_the_best_model_of_each_budget_class(tmp_path, capsys, tiny_dataset_dir):
    study = tmp_path / "results" / "ds_cnn_small"
    _checkpoint(study / "trials" / "3" / "model.pt", seed=3)
    best = {"dataset": "generated", "classes": {"small": {
        "study": "ds_cnn_small", "trial": 3, "arch": "ds_cnn", "val_acc": 0.5, "checkpoint": "trials/3/model.pt"}}}
    (study / "best.json").write_text(json.dumps(best))

    out = _run_json(capsys, study, "--data", tiny_dataset_dir, "--cache-dir", tmp_path / "cache", "--split", "validation")
    assert list(out["classes"]) == ["small"]
    small = out["classes"]["small"]
    assert small["trial"] == 3 and small["checkpoint"] == str(study / "trials" / "3" / "model.pt")
    assert out["split"] == "validation"
    assert 0.0 <= small["accuracy"] <= 1.0

    assert main(["evaluate", str(study), "--data", str(tiny_dataset_dir), "--cache-dir", str(tmp_path / "cache")]) == 0
    text = capsys.readouterr().out
    assert "generated speech" in text and "trial 3" in text and "accuracy" in text


def test_without_best_json_trials_csv_picks_the_best_feasible_trial(tmp_path, capsys, tiny_dataset_dir):
    study = tmp_path / "study"
    for number in (1, 2, 4):
        _checkpoint(study / "trials" / str(number) / "model.pt", seed=number)
    rows = [  # trial 1: most accurate but infeasible; 2 and 4 tie on accuracy, 4 needs less memory
        dict(study="s", number=1, state="COMPLETE", feasible=False, arch="ds_cnn", budget_class="small", val_acc=0.99, memory_bytes=1e5),
        dict(study="s", number=2, state="COMPLETE", feasible=True, arch="ds_cnn", budget_class="small", val_acc=0.80, memory_bytes=7e4),
        dict(study="s", number=4, state="COMPLETE", feasible=True, arch="ds_cnn", budget_class="small", val_acc=0.80, memory_bytes=6e4),
        dict(study="s", number=5, state="PRUNED", feasible=True, arch="ds_cnn", budget_class="small", val_acc=0.95, memory_bytes=5e4),
    ]
    with open(study / "trials.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, [*rows[0], "checkpoint"])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "checkpoint": f"trials/{row['number']}/model.pt" if row["number"] != 5 else ""})

    out = _run_json(capsys, study, "--data", tiny_dataset_dir, "--cache-dir", tmp_path / "cache", "--budget-class", "small")
    assert out["trial"] == 4
    assert "accuracy" in out and "classes" not in out


def test_bad_targets_give_one_clear_error(tmp_path, capsys, tiny_dataset_dir):
    assert main(["evaluate", str(tmp_path / "nothing.pt"), "--data", str(tiny_dataset_dir)]) == 2
    assert "no such checkpoint or results folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", str(tmp_path / "empty"), "--data", str(tiny_dataset_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kws-nas evaluate: error:") and "not a kws-nas results folder" in err
    _checkpoint(tmp_path / "model.pt")
    assert main(["evaluate", str(tmp_path / "model.pt"), "--data", str(tmp_path / "no-data")]) == 2
    assert "--data" in capsys.readouterr().err


def test_real_test_archive_layout_is_scored_clip_for_clip(tmp_path, capsys, real_data_dir):
    _checkpoint(tmp_path / "model.pt")
    out = _run_json(capsys, tmp_path / "model.pt", "--data", real_data_dir, "--cache-dir", tmp_path / "cache")
    with open(real_data_dir / "manifest.csv", newline="") as handle:
        per_label = Counter(row["label"] for row in csv.DictReader(handle))
    assert [sum(row) for row in out["confusion"]] == [per_label[label] for label in LABELS]
    assert out["data_kind"].startswith("recorded speech")
