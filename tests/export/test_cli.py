"""`kws-nas export` on a real (tiny) results folder: bundles per class, and its three errors."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from nas.cli import main
from nas.export import c_array
from nas.export.bundle import BUNDLE_FILES


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory, tiny_dataset_dir):
    import torch

    from nas.data.cache import load_features
    from nas.data.frontend_config import FrontEndConfig
    from nas.spaces import build_model, candidate_from_model_size_info
    from nas.train import save_checkpoint

    folder = tmp_path_factory.mktemp("results")
    export_frontend = FrontEndConfig(stride_ms=40.0)  # whole 1 s clips, 24 frames
    train = load_features(tiny_dataset_dir, export_frontend, "train")
    rows = []
    trials = [(0, "small", "ds_cnn", [2, 8, 3, 4, 2, 2, 8, 3, 3, 1, 1], 0.5, 9000),
              (1, "medium", "dnn", [32, 32], 0.6, 30000),
              (2, "medium", "dnn", [16], 0.4, 20000)]
    for number, budget_class, arch, msi, val_acc, memory in trials:
        candidate = candidate_from_model_size_info(arch, msi, export_frontend)
        torch.manual_seed(number)
        model = build_model(candidate)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(30):
            loss = torch.nn.functional.cross_entropy(model(train.features), train.labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        save_checkpoint(folder / f"trials/{number}/model.pt", model.eval(), candidate.to_dict(), {"trial": number})
        rows.append({"study": "s", "number": number, "state": "COMPLETE", "feasible": True, "arch": arch,
                     "budget_class": budget_class, "val_acc": val_acc, "memory_bytes": memory,
                     "checkpoint": f"trials/{number}/model.pt", "model_size_info": " ".join(map(str, msi)),
                     "latency_ms": None})
    rows.append({"study": "s", "number": 3, "state": "COMPLETE", "feasible": False, "arch": "dnn",
                 "budget_class": "large", "val_acc": None, "memory_bytes": 9e6, "checkpoint": None,
                 "model_size_info": "900", "latency_ms": None})
    pd.DataFrame(rows).to_csv(folder / "trials.csv", index=False)
    return folder


def test_export_writes_a_bundle_per_feasible_class_and_names_the_missing_one(results_dir, tiny_dataset_dir,
                                                                           tmp_path, capsys):
    out = tmp_path / "bundles"
    code = main(["export", str(results_dir), "--data", str(tiny_dataset_dir), "--out", str(out), "--top", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "no feasible trial" in err and "'large'" in err  # the class without a feasible trial
    for budget_class in ("small", "medium"):
        folder = out / budget_class
        assert sorted(p.name for p in folder.iterdir()) == sorted(BUNDLE_FILES)
        model = (folder / "model.tflite").read_bytes()
        assert c_array.parse_c_array((folder / "model_data.cc").read_text()) == model
        assert (folder / "labels.txt").read_text().splitlines()[2] == "yes"
        card = json.loads((folder / "model_card.json").read_text())
        for split in ("validation", "test"):
            assert {"float", "int8", "int8_tflite"} <= set(card["accuracy"][split])
        assert card["memory"]["tflite_flash_bytes"] == len(model)
        assert "#define KWS_MFCC_INT8_FRAC_BITS" in (folder / "frontend_config.h").read_text()
    medium = json.loads((out / "medium" / "model_card.json").read_text())
    assert medium["arch"] == "dnn" and medium["source"]["trial"] in (1, 2)


def test_the_model_card_names_its_data_date_build_and_use_and_scores_a_real_set_when_given(
        results_dir, tiny_dataset_dir, tmp_path):
    from datetime import datetime, timezone

    from nas import __version__
    from nas.export.bundle import source_commit

    out = tmp_path / "bundles"
    before = datetime.now(timezone.utc).replace(microsecond=0)
    # The tiny set stands in for a real one: scored twice, its test split must give the card's test figures.
    main(["export", str(results_dir), "--data", str(tiny_dataset_dir), "--real-data", str(tiny_dataset_dir),
          "--out", str(out), "--classes", "small,medium"])
    card = json.loads((out / "small" / "model_card.json").read_text())
    assert card["scored_on"] == str(tiny_dataset_dir)
    real = card["real_speech"]
    assert real["data"] == str(tiny_dataset_dir) and real["split"] == "test"
    assert {k: real[k] for k in ("float", "int8", "int8_tflite", "n")} == card["accuracy"]["test"]
    assert before <= datetime.fromisoformat(card["exported_utc"]) <= datetime.now(timezone.utc)
    assert card["kws_nas"] == {"version": __version__, "commit": source_commit()}
    assert len(card["kws_nas"]["commit"].removesuffix("-dirty")) == 40  # tests run from a git checkout
    text = (out / "small" / "model_card.md").read_text()
    assert f"Scored on: {tiny_dataset_dir}" in text and f"{real['n']} clips of the test split" in text
    assert card["kws_nas"]["commit"] in text and "## Intended use" in text and "Cortex-M" in card["intended_use"]

    main(["export", str(results_dir), "--data", str(tiny_dataset_dir), "--out", str(out), "--classes", "small,medium"])
    card = json.loads((out / "small" / "model_card.json").read_text())
    assert card["real_speech"] is None
    assert "Real speech: not scored" in (out / "small" / "model_card.md").read_text()


def test_export_refuses_a_checkpoint_whose_spec_does_not_match(results_dir, tiny_dataset_dir, tmp_path, capsys):
    df = pd.read_csv(results_dir / "trials.csv")
    df.loc[df["number"] == 0, "model_size_info"] = "2 8 3 4 2 2 8 3 3 2 2"
    bad = tmp_path / "bad"
    bad.mkdir()
    df[df["number"] == 0].to_csv(bad / "trials.csv", index=False)
    (bad / "trials").symlink_to(results_dir / "trials")
    code = main(["export", str(bad), "--data", str(tiny_dataset_dir), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "holds ds_cnn" in err and "trial s#0" in err
    assert not (tmp_path / "o" / "small").exists()


def test_export_without_data_and_no_recorded_dataset_says_to_pass_it(results_dir, tmp_path, capsys):
    assert main(["export", str(results_dir), "--out", str(tmp_path / "o")]) == 2
    assert "records no dataset folder; pass --data DIR" in capsys.readouterr().err


def test_export_without_results_is_one_clear_error(tmp_path, tiny_dataset_dir, capsys):
    assert main(["export", str(tmp_path), "--data", str(tiny_dataset_dir)]) == 2
    assert "not a kws-nas results folder" in capsys.readouterr().err
