"""The comparison with Hello Edge's published table: numbers from the stored retraining runs, the paper's
from the reference file; a tiny real multirun writes it and `kws-nas report --multirun` rebuilds it."""
import numpy as np
import pandas as pd
import pytest

from nas.cli import main
from nas.report.comparison import comparison_frame, notes
from nas.report.retrain_report import study_runs
from nas.report.study_report import load_reference
from tests.results.retrain_factory import write_study


def test_each_cell_sets_the_paper_beside_its_configuration_and_the_searched_best_retrained(tmp_path):
    # trial 0: the paper's configuration; 1: cheaper than it; 2: better but costlier (not a fair rival)
    study = write_study(f"sqlite:///{tmp_path / 'a.db'}", "dnn_small", {0: [0.80, 0.82], 1: [0.85, 0.83], 2: [0.95, 0.93]})
    [row] = comparison_frame([(study.study_name, study.user_attrs, study_runs(study))], load_reference()).to_dict("records")
    paper = load_reference("dnn", "small").iloc[0]
    assert (row["paper_accuracy"], row["paper_memory_bytes"], row["paper_ops"]) == (
        paper["accuracy"], paper["memory_bytes"], paper["ops"])
    assert row["paper_config_source_trial"] == 0 and row["paper_config_val_mean"] == pytest.approx(0.81)
    assert row["paper_config_val_std"] == pytest.approx(np.std([0.80, 0.82], ddof=1))
    assert row["paper_config_test_mean"] == pytest.approx(0.79)  # the factory's test accuracy: val - 0.02
    assert row["searched_source_trial"] == 1 and row["searched_val_mean"] == pytest.approx(0.84)
    assert (row["searched_memory_bytes"], row["searched_ops"]) == (40_000, 3e6)
    assert row["dominates"]


def test_a_cell_never_retrained_keeps_the_paper_numbers_and_cells_follow_the_papers_order(tmp_path):
    study = write_study(f"sqlite:///{tmp_path / 'a.db'}", "dnn_small", {0: [0.8], 1: [0.7]})
    cells = [("ds_cnn_large", {"search_space": "ds_cnn", "constraints": "large"}, None),
             ("dnn_medium", {"search_space": "dnn", "constraints": "medium"}, None),
             (study.study_name, study.user_attrs, study_runs(study))]
    table = comparison_frame(cells, load_reference())
    assert list(table["study"]) == ["dnn_small", "dnn_medium", "ds_cnn_large"]
    never = table.set_index("study").loc["ds_cnn_large"]
    assert never["paper_accuracy"] == pytest.approx(0.954) and pd.isna(never["searched_val_mean"])
    assert not table.set_index("study").loc["dnn_small", "dominates"]  # 0.7 < 0.8


def test_the_notes_say_generated_speech_only_ranks_and_name_the_recipe_and_seeds():
    text = " ".join(notes("/d (generated speech: it ranks candidates but says little about accuracy on people)",
                          [{"epochs": 12, "batch_size": 100, "lr_phases": [0.003, 0.0001], "schedule": "cosine"}], [0, 1, 2]))
    assert "Speech Commands v1" in text and "ranks candidates against each other" in text
    assert "12 epochs, batch 100, learning rate 0.003 → 0.0001 (cosine)" in text and "seeds 0, 1, 2" in text
    by_steps = " ".join(notes("/d", [{"steps": 100, "epochs": 30, "batch_size": 100}], [0]))
    assert "100 steps, batch 100" in by_steps and "epochs" not in by_steps  # steps decide a run's length


@pytest.mark.slow
def test_a_tiny_multirun_writes_the_comparison_and_report_multirun_rebuilds_it(tmp_path, tiny_dataset_dir, capsys):
    results = tmp_path / "results"
    assert main(["search", "--multirun", "search_space=dnn,ds_cnn", "constraints=small", "trials=2", "train.epochs=2",
                 "retrain.seeds=2", "retrain.train.epochs=2", f"data.root={tiny_dataset_dir}",
                 f"data.cache_dir={tmp_path / 'cache'}", f"results_dir={results}", "progress=false"]) == 0
    table = pd.read_csv(results / "comparison.csv")
    assert list(table["study"]) == ["dnn_small", "ds_cnn_small"]
    runs = pd.read_csv(results / "retrain.csv")
    for _, row in table.iterrows():  # the measured columns are the stored runs' means
        mine = runs[(runs["study"] == row["study"]) & runs["hello_edge"] & (runs["state"] == "COMPLETE")
                    & (runs["stage"] == "seeds")]  # a distilled student is not one of the compared seeds
        assert row["paper_config_val_mean"] == pytest.approx(mine["val_acc"].mean(), abs=1e-5)
        assert row["paper_config_seeds"] == 2
    text = (results / "comparison.md").read_text()
    assert "| dnn small | 84.6 | 80.0 | 0.16 |" in text and "seeds 0, 1" in text
    assert (results / "comparison.png").stat().st_size > 10_000

    written = (results / "comparison.csv").read_bytes()
    for name in ("comparison.csv", "comparison.md", "comparison.html", "comparison.png"):
        (results / name).unlink()
    capsys.readouterr()
    assert main(["report", "--multirun", str(results)]) == 0
    assert (results / "comparison.csv").read_bytes() == written and (results / "comparison.png").is_file()
    assert "comparison.csv" in capsys.readouterr().out
    assert main(["report", "--multirun", str(results / "dnn_small")]) == 2
    err = capsys.readouterr().err
    assert "one study's folder, not a multirun's" in err and len(err.strip().splitlines()) == 1
