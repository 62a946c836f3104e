"""A multirun on a cluster launcher: submitit_local (the stand-in for SLURM) with several workers per cell
sharing each cell's study on the real PostgreSQL server."""
import os
import subprocess
import sys
import uuid

import pytest
from optuna.trial import TrialState

from nas.cli import main
from nas.results.place import place_for
from nas.results.storage import load_study
from nas.search.study import budget_used

TRIALS = 4


@pytest.mark.postgres
@pytest.mark.slow
def test_submitit_local_runs_two_workers_per_cell_on_postgresql_without_losing_or_repeating_a_trial(
        tmp_path, tiny_dataset_dir):
    url = os.environ.get("KWS_NAS_TEST_PG_URL")
    if not url:
        pytest.skip("KWS_NAS_TEST_PG_URL is not set (scripts/test.sh starts PostgreSQL and sets it)")
    prefix = f"cluster_{uuid.uuid4().hex[:8]}"  # the server outlives the test: fresh study names
    results = tmp_path / "results"
    argv = ["search", "--multirun", "hydra/launcher=submitit_local", "hydra.launcher.timeout_min=15",
            "workers=2", f"storage={url}", "search_space=dnn", "constraints=small,medium",
            f"study_name={prefix}_${{hydra:runtime.choices.constraints}}", f"trials={TRIALS}", "train.epochs=12",
            f"data.root={tiny_dataset_dir}", f"data.cache_dir={tmp_path / 'cache'}", f"results_dir={results}",
            "progress=false", "pruner.enabled=false", "train.early_stopping_patience=null", "retrain.enabled=false"]
    _run(argv)
    first = {}
    for cell in ("small", "medium"):
        name = f"{prefix}_{cell}"
        study = load_study(place_for(name, results, url))
        first[name] = {t.number: (t.params, t.values) for t in study.trials}
        numbers = [t.number for t in study.trials]
        assert sorted(numbers) == list(range(len(numbers)))  # no trial number twice, none skipped
        assert all(t.state == TrialState.COMPLETE for t in study.trials)  # none lost (RUNNING or FAIL)
        assert TRIALS <= budget_used(study)[0] <= TRIALS + 1  # at most one extra when both ask at the end
        workers = {t.user_attrs["worker"] for t in study.trials if "worker" in t.user_attrs}
        assert len(workers) == 2, f"{name}: trials ran in {workers}"  # both jobs of the cell took part
        trained = [t.number for t in study.trials if "train_seconds" in t.user_attrs]
        assert all((results / name / "trials" / str(n) / "model.pt").is_file() for n in trained)
        for worker in (0, 1):  # each job keeps its own Hydra folder (config, log)
            assert (results / name / "hydra" / f"worker{worker}" / ".hydra" / "overrides.yaml").is_file()
    job_logs = "".join(p.read_text() for p in (results / ".submitit").rglob("*_log.err"))
    assert "cell 2/2 dnn medium worker 2/2: trial" in job_logs  # each job's console says where the grid stands
    assert (results / "combined.csv").is_file()

    # A requeued job (after preemption) runs its cell's command again: it continues the same study.
    _run([a if not a.startswith("trials=") else f"trials={TRIALS + 2}" for a in argv])
    for name, before in first.items():
        study = load_study(place_for(name, results, url))
        assert {n: (t.params, t.values) for n, t in enumerate(study.trials) if n in before} == before
        assert TRIALS + 2 <= budget_used(study)[0] <= TRIALS + 3
        assert all(t.state == TrialState.COMPLETE for t in study.trials)


def _run(argv):
    done = subprocess.run([sys.executable, "-m", "nas", *argv], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("argv, expected", [
    (["search", "workers=2", "storage=postgresql://u:p@h/db"], "workers=2: for --multirun"),
    (["search", "--multirun", "workers=2", "constraints=small,medium"], "add storage=postgresql://"),
    (["search", "--multirun", "workers=1,2", "storage=postgresql://u:p@h/db"], "workers: expected one number"),
    (["search", "--multirun", "workers=0", "storage=postgresql://u:p@h/db"], "workers: expected a whole number >= 1"),
])
def test_workers_that_could_not_share_a_study_are_refused_with_one_line(argv, expected, capsys, tmp_path):
    assert main([*argv, f"results_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())  # refused before any job ran
