"""`kws-nas prune RESULTS_DIR --front`: width vs structured pruning on a class's front, same fine-tuning."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from nas.cli import main
from nas.cost import estimate
from nas.cost.budget import load_budget
from nas.spaces import build_model, candidate_from_model_size_info
from nas.train import save_checkpoint

SPECS = {0: [2, 16, 10, 4, 2, 2, 16, 3, 3, 1, 1], 1: [2, 32, 10, 4, 2, 2, 32, 3, 3, 1, 1],
         2: [2, 24, 10, 4, 2, 2, 24, 3, 3, 1, 1]}


@pytest.fixture(scope="module")
def results(tmp_path_factory, tiny_dataset_dir):
    """A results folder of three small DS-CNN trials: 0 and 1 on the front, 2 dominated by 0."""
    folder = tmp_path_factory.mktemp("results")
    budget = load_budget("small")
    rows = []
    for number, spec in SPECS.items():
        candidate = candidate_from_model_size_info("ds_cnn", spec)
        save_checkpoint(folder / f"trial{number}.pt", build_model(candidate), candidate.to_dict(), {})
        cost = estimate(candidate)
        rows.append({"study": "s", "number": number, "state": "COMPLETE", "feasible": True, "arch": "ds_cnn",
                     "budget_class": "small", "val_acc": {0: 0.5, 1: 0.7, 2: 0.4}[number],
                     "memory_bytes": budget.memory_of(cost), "ops": cost.ops, "checkpoint": f"trial{number}.pt",
                     "model_size_info": " ".join(map(str, spec))})
    pd.DataFrame(rows).to_csv(folder / "trials.csv", index=False)
    (folder / "best.json").write_text(json.dumps({"classes": {}, "dataset_root": str(tiny_dataset_dir)}))
    return folder


def test_front_compares_width_and_pruning_arms_and_names_the_better(results, tmp_path, capsys):
    out = tmp_path / "front"
    rc = main(["prune", str(results), "--front", "--front-ratios", "0.5", "--finetune-steps", "2", "--out", str(out)])
    assert rc == 0
    table = pd.read_csv(out / "front.csv")
    assert sorted(table["trial"].str.split().str[1].astype(int).unique()) == [0, 1]  # the front only, not trial 2
    width, pruned = table[table["arm"] == "width"], table[table["arm"] == "pruning"]
    assert len(width) == 2 and len(pruned) == 2 and (pruned["ratio"] == 0.5).all()
    for trial, rows in table.groupby("trial"):
        assert rows.loc[rows["arm"] == "pruning", "memory_bytes"].iloc[0] < rows.loc[rows["arm"] == "width",
                                                                                     "memory_bytes"].iloc[0]
    printed = capsys.readouterr().out
    assert "front hypervolume" in printed
    assert ("width gave the better front" in printed) or ("pruning gave the better front" in printed) \
        or ("neither arm" in printed)
    assert (out / "prune_front.png").is_file()


@pytest.mark.parametrize("argv,message", [
    (["--front-ratios", "0,0.5"], r"--front-ratios: each ratio must lie in \(0, 1\)"),
    (["--front-top", "0"], "--front-top must be >= 1"),
])
def test_front_rejects_bad_input_in_one_line(results, tmp_path, capsys, argv, message):
    import re

    assert main(["prune", str(results), "--front", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and re.search(message, err)
