"""Workers that die or run side by side: SIGKILL mid-trial then an immediate rerun; two workers on PostgreSQL."""
import os
import signal
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path

import pytest
from optuna.trial import TrialState

from nas.cli import main
from nas.results.place import place_for, read_marker
from nas.results.storage import load_study
from nas.search.study import budget_used, counts_toward_budget

KWS_NAS = [sys.executable, "-m", "nas"]


def _argv(tmp, dataset, *extra):
    return ["search", "search_space=dnn", "constraints=medium", f"data.root={dataset}",
            f"data.cache_dir={tmp / 'cache'}", f"results_dir={tmp / 'results'}", "progress=false",
            "pruner.enabled=false", "train.early_stopping_patience=null", "retrain.enabled=false", *extra]


def _wait_for(predicate, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"worker exited early with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            if predicate():
                return
        except Exception:  # the storage may not exist yet
            pass
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the worker")


@pytest.mark.slow
def test_a_worker_killed_mid_trial_loses_nothing_and_an_immediate_rerun_retries_its_trial(tmp_path, tiny_dataset_dir):
    # Every sampled DNN is about as large as Hello Edge's medium one (trial 0) and trains in batches of
    # 4, so each trial takes seconds: a small random DNN ran its 40 epochs in 0.3 s, a window the kill
    # below missed on a CI machine.
    big_dnns = ["search_space.n_layers.low=3", "search_space.n_layers.high=3", "search_space.width.low=200",
                "search_space.width.high=220", "search_space.frontend.n_mfcc=[10]",
                "search_space.frontend.window_ms=[40.0]", "search_space.frontend.stride_ms=[40.0]"]
    # A grace period the test never reaches: the rerun on this host must see by itself that the killed
    # worker's pid is gone. trials=3: after the retry, one fresh proposal of the resumed sampler.
    # 60 epochs: about a minute a trial on a loaded 2-core machine (1 s an epoch), so the kill window
    # stays wide while the first trial still ends well inside _wait_for's timeout.
    argv = _argv(tmp_path, tiny_dataset_dir, "trials=3", "train.epochs=60", "train.batch_size=4",
                 "grace_period=600", *big_dnns)
    proc = subprocess.Popen([*KWS_NAS, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    folder = tmp_path / "results" / "dnn_medium"

    def one_done_and_one_mid_training():
        trials = load_study(read_marker(folder)).get_trials(deepcopy=False)  # one snapshot for both counts
        running = [t for t in trials if t.state == TrialState.RUNNING and len(t.user_attrs.get("history", [])) >= 2]
        return sum(counts_toward_budget(t) for t in trials) >= 1 and running

    try:
        _wait_for(one_done_and_one_mid_training, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    study = load_study(read_marker(folder))
    finished_before = {t.number: (t.values, t.params) for t in study.trials if t.state == TrialState.COMPLETE}
    killed = [t for t in study.trials if t.state == TrialState.RUNNING]
    assert len(killed) == 1
    checkpoints = {n: (folder / "trials" / str(n) / "model.pt").read_bytes() for n in finished_before
                   if (folder / "trials" / str(n) / "model.pt").exists()}
    assert checkpoints, "the finished trial's checkpoint must be on disk"
    assert not (folder / "trials" / str(killed[0].number) / "model.pt").exists()  # never a half file

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(argv) == 0  # the same command again
    assert not [w for w in caught if "constraint" in str(w.message)]  # the retry sets none twice
    study = load_study(read_marker(folder))
    dead = study.trials[killed[0].number]
    assert dead.state == TrialState.FAIL and "fail_reason" not in dead.user_attrs
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == dead.number]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE and retries[0].params == dead.params
    assert retries[0].constraints == dead.constraints and set(dead.constraints) == {"memory", "ops"}
    for number, (values, params) in finished_before.items():  # no finished trial lost or changed
        assert (study.trials[number].values, study.trials[number].params) == (values, params)
    for number, data in checkpoints.items():
        assert (folder / "trials" / str(number) / "model.pt").read_bytes() == data
    assert budget_used(study) == (3, 0)
    trained = [tuple(sorted(t.params.items())) for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(set(trained)) == len(trained) == 3  # the killed candidate trained once, by its retry
    assert "RUNNING" not in (folder / "trials.csv").read_text()


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_share_one_study_on_postgresql(tmp_path, tiny_dataset_dir):
    url = os.environ.get("KWS_NAS_TEST_PG_URL")
    if not url:
        pytest.skip("KWS_NAS_TEST_PG_URL is not set (scripts/test.sh starts PostgreSQL and sets it)")
    name = f"two_workers_{uuid.uuid4().hex[:8]}"
    argv = _argv(tmp_path, tiny_dataset_dir, "trials=6", "train.epochs=15", f"storage={url}", f"study_name={name}")
    workers = [subprocess.Popen([*KWS_NAS, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for w in workers:
        assert w.wait(300) == 0, w.stderr.read().decode()[-2000:]
    study = load_study(place_for(name, tmp_path / "results", url))
    numbers = [t.number for t in study.trials]
    assert sorted(numbers) == list(range(len(numbers)))  # no duplicated (or skipped) trial numbers
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert 6 <= budget_used(study)[0] <= 7  # at most one extra when both ask at the very end
    assert len({t.user_attrs["worker"] for t in study.trials if t.user_attrs.get("feasible")}) == 2
    assert Path(tmp_path / "results" / name / "trials.csv").is_file()
