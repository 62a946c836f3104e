"""`kws-nas prune` end to end on the tiny generated dataset: the table, the cliff line and the figures."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from nas.cli import main
from nas.prune.kernels import missing_tools
from nas.spaces import build_model, candidate_from_model_size_info
from nas.train import save_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    candidate = candidate_from_model_size_info("ds_cnn", [2, 8, 10, 4, 2, 2, 8, 3, 3, 1, 1])
    path = tmp_path_factory.mktemp("ckpt") / "model.pt"
    return save_checkpoint(path, build_model(candidate), candidate.to_dict(), {})


def test_prune_writes_one_row_per_point_with_and_without_finetuning(checkpoint, tiny_dataset_dir, tmp_path, capsys):
    out = tmp_path / "prune"
    rc = main(["prune", str(checkpoint), "--data", str(tiny_dataset_dir), "--out", str(out),
               "--sparsities", "0.5,0.9", "--norm", "l1,linf", "--finetune-steps", "3", "--cpu-repeats", "2"])
    assert rc == 0
    table = pd.read_csv(out / "prune.csv")
    for column in ("method", "granularity", "norm", "sparsity", "finetuned", "nonzero_params", "macs",
                   "val_acc", "test_acc", "cpu_ms", "mcu_ms", "flash_bytes", "ram_bytes", "cliff"):
        assert column in table.columns
    # baseline + (element l1 + channel l1 + channel linf) × 2 sparsities × (pruned, fine-tuned)
    assert len(table) == 1 + 3 * 2 * 2
    assert table["mcu_ms"].isna().all()
    element = table[(table["granularity"] == "element") & (table["sparsity"] == 0.9)]
    assert (element["weight_sparsity"] - 0.9).abs().max() < 0.01
    base = table[table["method"] == "none"].iloc[0]
    channel = table[(table["granularity"] == "channel") & (table["sparsity"] == 0.5)]
    assert (channel["nonzero_params"] < base["nonzero_params"]).all()
    assert (channel["flash_bytes"] < base["flash_bytes"]).all()
    assert (element["flash_bytes"] == base["flash_bytes"]).all()  # zeros are still stored by dense kernels
    assert (element["macs"] < 0.2 * base["macs"]).all()
    lines = capsys.readouterr().out
    assert "structured channel linf, fine-tuned:" in lines
    for stem in ("prune_params", "prune_macs", "prune_cpu", "prune_norms"):
        assert (out / f"{stem}.html").is_file()
    assert not (out / "prune_mcu.html").exists()
    if not missing_tools():  # the sparse kernels on the model's own pointwise conv and FC
        kernels = pd.read_csv(out / "kernels.csv")
        assert set(kernels["granularity"]) == {"element", "block", "nm"} and kernels["bit_identical"].all()
        assert (out / "prune_speed_up.png").is_file()
        assert re.search(r"fc 8→12, block: input-stationary (break-even|never faster)", lines)


@pytest.mark.parametrize("argv,message", [
    (["--sparsities", "0.5,1.0"], r"\[0, 1\)"),
    (["--norm", "l3"], "unknown norm 'l3'"),
    (["--method", "structured", "--granularity", "element"], "--granularity element"),
    (["--nm", "4:4", "--granularity", "nm", "--method", "unstructured"], "N must be below M"),
])
def test_bad_input_is_one_error_line(checkpoint, tiny_dataset_dir, tmp_path, capsys, argv, message):
    rc = main(["prune", str(checkpoint), "--data", str(tiny_dataset_dir), "--out", str(tmp_path), *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1
    assert re.search(message, err)


def test_recurrent_model_refuses_channel_granularity(tiny_dataset_dir, tmp_path, capsys):
    candidate = candidate_from_model_size_info("gru", [1, 8])
    path = save_checkpoint(tmp_path / "gru.pt", build_model(candidate), candidate.to_dict(), {})
    rc = main(["prune", str(path), "--data", str(tiny_dataset_dir), "--method", "structured"])
    assert rc == 2
    assert "gru has no channels" in capsys.readouterr().err


def test_results_folder_gives_its_class_best_model_and_recorded_data(checkpoint, tiny_dataset_dir, tmp_path, capsys):
    import json

    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "model.pt").write_bytes(checkpoint.read_bytes())
    entry = {"checkpoint": "model.pt", "arch": "ds_cnn", "val_acc": 0.5, "memory_bytes": 1000.0}
    (folder / "best.json").write_text(json.dumps({"classes": {"small": entry, "large": entry},
                                                  "dataset_root": str(tiny_dataset_dir)}))
    assert main(["prune", str(folder), "--method", "unstructured"]) == 2
    assert "holds classes ['large', 'small']; name one" in capsys.readouterr().err
    assert main(["prune", str(folder), "--budget-class", "small", "--method", "unstructured", "--sparsities", "0.5",
                 "--finetune-steps", "1", "--cpu-repeats", "1"]) == 0
    table = pd.read_csv(folder / "prune" / "prune.csv")
    assert len(table) == 3 and table["model"].str.startswith("small: ds_cnn").all()


def test_block_and_nm_points_name_their_pattern(checkpoint, tiny_dataset_dir, tmp_path):
    out = tmp_path / "prune"
    assert main(["prune", str(checkpoint), "--data", str(tiny_dataset_dir), "--out", str(out), "--method",
                 "unstructured", "--granularity", "block,nm", "--norm", "l2", "--block", "4x1", "--nm", "2:4,1:8",
                 "--sparsities", "0.5", "--finetune-steps", "1", "--cpu-repeats", "1"]) == 0
    table = pd.read_csv(out / "prune.csv", keep_default_na=False)
    block = table[table["granularity"] == "block"]
    assert set(block["pattern"]) == {"4x1"} and (block["weight_sparsity"].astype(float) - 0.5).abs().max() < 0.05
    nm = table[table["granularity"] == "nm"]
    assert sorted(set(zip(nm["pattern"], nm["sparsity"].astype(float)))) == [("1:8", 0.875), ("2:4", 0.5)]
    assert (nm["scope"] == "per group").all()
