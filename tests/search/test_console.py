"""The search's console in a --multirun: each cell's lines say where the grid stands."""
import pytest

from nas.cli import main
from nas.search.console import cell_label


@pytest.mark.parametrize("job_num, cells, workers, worker, expected", [
    (0, 21, 1, 0, "cell 1/21 ds_cnn small"),
    (20, 21, 1, 0, "cell 21/21 ds_cnn small"),
    (5, 3, 2, 1, "cell 3/3 ds_cnn small worker 2/2"),  # a cell's workers are consecutive jobs
    (4, None, 1, 0, "cell 5 ds_cnn small"),
])
def test_the_cell_label_counts_cells_not_jobs(job_num, cells, workers, worker, expected):
    assert cell_label(job_num, cells, workers, worker, "ds_cnn", "small") == expected


@pytest.mark.slow
def test_each_cell_of_a_multirun_prefixes_its_lines_with_its_place_in_the_grid(tmp_path, tiny_dataset_dir, capsys):
    assert main(["search", "--multirun", "search_space=dnn", "constraints=small,medium", "trials=1",
                 "train.epochs=1", "retrain.enabled=false", "pruner.enabled=false", f"data.root={tiny_dataset_dir}",
                 f"data.cache_dir={tmp_path / 'cache'}", f"results_dir={tmp_path / 'results'}", "progress=false"]) == 0
    err = capsys.readouterr().err
    assert "cell 1/2 dnn small: trial 0: accuracy" in err and "cell 2/2 dnn medium: trial 0: accuracy" in err
