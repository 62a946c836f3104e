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
    alone = _run_json(capsys, study / "trials" / "3" / "model.pt", "--data", tiny_dataset_dir,
                      "--cache-dir", tmp_path / "cache", "--split", "validation")
    assert small["accuracy"] == alone["accuracy"]  # this run's score, not the one the search recorded
    assert small["search_accuracy"] == 0.5

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


def test_text_mode_prints_the_confusion_matrix_and_json_names_its_labels(tmp_path, capsys, tiny_dataset_dir):
    _checkpoint(tmp_path / "model.pt")
    args = [tmp_path / "model.pt", "--data", tiny_dataset_dir, "--cache-dir", tmp_path / "cache"]
    out = _run_json(capsys, *args)
    assert out["labels"] == LABELS and len(out["confusion"]) == len(LABELS)
    assert main(["evaluate", *map(str, args)]) == 0
    text = capsys.readouterr().out
    assert "confusion (rows: true label, columns: predicted)" in text
    lines = text.splitlines()
    header = lines[lines.index("  confusion (rows: true label, columns: predicted)") + 1]
    assert header.split() == [label.strip("_")[:5] for label in LABELS]  # silen unkno yes no ...
    for label, row in zip(LABELS, out["confusion"]):  # each true label's row, count for count
        assert any(line.split() == [label, *map(str, row)] for line in text.splitlines())


@pytest.fixture(scope="module")
def int8_trial(tmp_path_factory, tiny_dataset_dir):
    """A trial folder as an int8 search leaves it: model.pt and its model.tflite side by side."""
    from nas.export.tflite import convert

    folder = tmp_path_factory.mktemp("trial")
    model = _checkpoint(folder / "model.pt", seed=1)
    train = load_features(tiny_dataset_dir, FRONTEND, "train", cache_dir=folder / "cache")
    (folder / "model.tflite").write_bytes(convert(model, FRONTEND, train.features.numpy(), "ds_cnn"))
    return folder


def test_a_tflite_is_scored_int8_in_tflite_micro(int8_trial, capsys, tiny_dataset_dir):
    import numpy as np

    from nas.export.tflite import quantize_features, run_tflm

    out = _run_json(capsys, int8_trial / "model.tflite", "--data", tiny_dataset_dir, "--cache-dir", int8_trial / "cache")
    test = load_features(tiny_dataset_dir, FRONTEND, "test", cache_dir=int8_trial / "cache")
    predicted = run_tflm((int8_trial / "model.tflite").read_bytes(), quantize_features(test.features.numpy(), FRONTEND)).argmax(1)
    assert out["accuracy"] == pytest.approx(float(np.mean(predicted == test.labels.numpy())))
    assert out["clips"] == len(predicted) and out["runtime"] == "int8, TFLite Micro" and out["arch"] == "ds_cnn"
    assert [sum(r[i] for r in out["confusion"]) for i in range(len(LABELS))] == \
        [int((predicted == i).sum()) for i in range(len(LABELS))]


def test_a_tflite_finds_its_front_end_in_a_model_card_or_from_the_flag(int8_trial, tmp_path, capsys, tiny_dataset_dir):
    import shutil

    lone = tmp_path / "lone" / "kws.tflite"
    lone.parent.mkdir()
    shutil.copy(int8_trial / "model.tflite", lone)
    data = ["--data", str(tiny_dataset_dir), "--cache-dir", str(int8_trial / "cache")]
    assert main(["evaluate", str(lone), *data]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot tell which front end feeds it" in err and "--frontend" in err
    assert "[25, 10]" in err  # what the model itself says: 25 frames of 10 MFCC

    expected = _run_json(capsys, int8_trial / "model.tflite", *data)["accuracy"]
    assert _run_json(capsys, lone, *data, "--frontend", int8_trial / "model.pt")["accuracy"] == expected
    candidate = candidate_from_model_size_info("ds_cnn", SPEC, FRONTEND)
    (lone.parent / "model_card.json").write_text(json.dumps({"candidate": candidate.to_dict()}))
    assert _run_json(capsys, lone, *data)["accuracy"] == expected  # an export bundle's layout

    other = candidate_from_model_size_info("ds_cnn", SPEC, FrontEndConfig(stride_ms=20.0))
    (lone.parent / "model_card.json").write_text(json.dumps({"candidate": other.to_dict()}))
    assert main(["evaluate", str(lone), *data]) == 2
    assert "its input is [25, 10]" in capsys.readouterr().err


def test_frontend_flag_is_for_a_tflite_only(tmp_path, capsys, tiny_dataset_dir):
    _checkpoint(tmp_path / "model.pt")
    assert main(["evaluate", str(tmp_path / "model.pt"), "--data", str(tiny_dataset_dir),
                 "--frontend", str(tmp_path / "model.pt")]) == 2
    assert "--frontend applies to a .tflite" in capsys.readouterr().err
