"""`kws-nas report DIR` rebuilds a study's tables from storage alone, identical to the search's own;
a multirun parent folder gets one combined table; folders that are not results are one clear error."""
import json
import shutil

import pytest

from nas.cli import main

TABLES = ("trials.csv", "summary.md", "best.json")


@pytest.fixture(scope="module")
def results(tmp_path_factory, tiny_dataset_dir):
    """Two tiny studies (dnn, cnn under medium) in one results folder, as a multirun leaves them."""
    tmp = tmp_path_factory.mktemp("report")
    for space in ("dnn", "cnn"):
        assert main(["search", f"search_space={space}", "constraints=medium", "trials=2", "train.epochs=1",
                     f"data.root={tiny_dataset_dir}", f"data.cache_dir={tmp / 'cache'}",
                     f"results_dir={tmp / 'results'}", "progress=false", "retrain.enabled=false"]) == 0
    return tmp / "results"


def test_report_rebuilds_identical_tables_from_storage_alone(results, capsys):
    folder = results / "dnn_medium"
    written = {name: (folder / name).read_bytes() for name in TABLES}
    for name in (*TABLES, "pareto.html", "pareto.png", "curves.html", "curves.png"):
        (folder / name).unlink()
    shutil.rmtree(folder / "hydra")  # storage alone: nothing but study.json and study.db is needed
    assert main(["report", str(folder)]) == 0
    assert {name: (folder / name).read_bytes() for name in TABLES} == written
    assert (folder / "pareto.png").is_file() and (folder / "curves.html").is_file()
    assert "dnn_medium" in capsys.readouterr().out


def test_report_of_a_parent_folder_combines_the_studies(results):
    assert main(["report", str(results)]) == 0
    combined = (results / "combined.csv").read_text().splitlines()
    assert {line.split(",")[0] for line in combined[1:]} == {"cnn_medium", "dnn_medium"}
    summary = (results / "summary.md").read_text()
    assert "| cnn | medium |" in summary and "| dnn | medium |" in summary
    best = json.loads((results / "best.json").read_text())
    assert (results / best["classes"]["medium"]["checkpoint"]).is_file()
    assert (results / "pareto.html").is_file() and (results / "pareto.png").is_file()


def test_a_folder_that_is_not_results_is_one_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "kws-nas report: error: " in capsys.readouterr().err


def test_a_folder_whose_storage_holds_another_study_is_refused(results, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(results / "dnn_medium", copy)
    (copy / "study.json").write_text(json.dumps({"study_name": "gru_large", "storage": "sqlite:///study.db"}))
    assert main(["report", str(copy)]) == 2
    assert "belongs to a different study" in capsys.readouterr().err


def test_the_reader_of_a_parent_folder_picks_what_its_best_json_names(results):
    from nas.results.folder import open_results

    assert main(["report", str(results)]) == 0
    named = json.loads((results / "best.json").read_text())["classes"]
    best = open_results(results).best()
    assert sorted(best) == sorted(named) == ["medium"]
    assert (best["medium"].study, best["medium"].trial) == (named["medium"]["study"], named["medium"]["trial"])
    assert best["medium"].checkpoint == results / named["medium"]["checkpoint"]
    assert best["medium"].checkpoint.is_file()
