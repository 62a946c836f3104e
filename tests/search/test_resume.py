"""Resuming a study: its stored definition must match, dead local workers' trials are retried at once,
and a resumed sampler does not propose the first run's candidates again."""
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from nas.cli import main
from nas.errors import ConfigError
from nas.results.place import claim_results_dir, place_for, read_marker
from nas.results.storage import load_study, open_storage
from nas.search import study as study_mod
from nas.search.identity import DEFINITION_ATTR, check_definition, differences


def _base(tmp, dataset):
    return ["search", "search_space=dnn", "constraints=medium", f"data.root={dataset}",
            f"data.cache_dir={tmp / 'cache'}", f"results_dir={tmp / 'results'}", "train.epochs=1",
            "progress=false", "pruner.enabled=false", "sampler.n_startup_trials=8", "retrain.enabled=false"]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, tiny_dataset_dir):
    """A 1-trial study; each test below reruns it with one setting changed."""
    tmp = tmp_path_factory.mktemp("resume")
    argv = [*_base(tmp, tiny_dataset_dir), "trials=1"]
    assert main(argv) == 0
    return tmp, argv


@pytest.mark.parametrize("change, named", [
    ("search_space.width.high=512", "search_space.width.high: was 1024, now 512"),
    ("search_space.frontend.n_mfcc=[10]", "search_space.frontend.n_mfcc: was [6, 8, 10, 13, 16, 20], now [10]"),
    ("constraints=small", "constraints.max_memory_bytes: was 200000, now 80000"),
    ("train.epochs=2", "train.epochs: was 1, now 2"),
    ("objective.accuracy=int8", 'objective: was "float", now "int8"'),
    ("DATASET_COPY", "data.root: was"),
])
def test_a_rerun_with_another_definition_is_refused_and_adds_nothing(first_run, change, named, capsys):
    tmp, argv = first_run
    if change == "DATASET_COPY":
        copy = tmp / "other_dataset"
        if not copy.exists():
            shutil.copytree(next(a.split("=", 1)[1] for a in argv if a.startswith("data.root=")), copy)
        change = f"data.root={copy}"
    folder = tmp / "results" / "dnn_medium"
    before = len(load_study(read_marker(folder)).trials)
    # constraints=small renames the study by default: keep the name to resume the same one
    assert main([*argv, change, "study_name=dnn_medium", "trials=2"]) == 2
    err = capsys.readouterr().err
    assert "kws-nas search: error: study 'dnn_medium' was made with other settings" in err, err
    assert named in err and "study_name=dnn_medium_2" in err and "Traceback" not in err
    assert len(load_study(read_marker(folder)).trials) == before


def test_settings_that_do_not_define_a_study_resume_it(first_run):
    tmp, argv = first_run
    folder = tmp / "results" / "dnn_medium"
    before = len(load_study(read_marker(folder)).trials)
    assert main([*argv, "trials=2", "sampler=random", "seed=3", "train.num_threads=1"]) == 0
    assert study_mod.budget_used(load_study(read_marker(folder)))[0] == 2 and before == 1


def test_a_new_study_name_starts_a_new_study_with_the_new_settings(first_run):
    tmp, argv = first_run
    assert main([*argv, "search_space.width.high=512", "study_name=dnn_medium_2"]) == 0
    study = load_study(read_marker(tmp / "results" / "dnn_medium_2"))
    assert study.user_attrs[DEFINITION_ATTR]["search_space"]["width"]["high"] == 512


def test_a_study_without_a_stored_definition_resumes_with_a_warning(tmp_path, caplog):
    place = place_for("old", tmp_path, None)
    claim_results_dir(place)
    old = study_mod.open_study(place, None, study_mod.DIRECTIONS_OPS)  # as an older kws-nas made it
    old.add_trial(create_trial(state=TrialState.COMPLETE, values=[0.9, 1.0, 2.0]))
    with caplog.at_level(logging.WARNING, logger="nas.search"):
        study = study_mod.open_study(place, None, study_mod.DIRECTIONS_OPS, definition={"board": "none"})
    assert "records no definition" in caplog.text
    assert study.user_attrs[DEFINITION_ATTR] == {"board": "none"}  # checked from now on
    with pytest.raises(ConfigError, match='board: was "none", now "x"'):
        check_definition(study, {"board": "x"})


def test_differences_name_nested_and_missing_keys():
    assert differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3, "d": 4}}) == [
        "a.c: was 2, now 3", "a.d: was (not set), now 4"]


def _dead_pid(zombies: list) -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    if len(zombies) % 2:  # not reaped yet: it still answers signal 0
        while proc.poll() is None and not _is_zombie(proc.pid):
            time.sleep(0.01)
    else:
        proc.wait()  # reaped: the pid names no process now
    zombies.append(proc)
    return proc.pid


def _is_zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")  # open_study here, not optimize
def test_open_study_retries_this_hosts_dead_workers_trials_at_once(tmp_path, caplog):
    place = place_for("s", tmp_path, None)
    claim_results_dir(place)
    storage = open_storage(place.storage_url, heartbeat_interval=10, grace_period=30)  # the heartbeat: not yet
    study = study_mod.open_study(place, None, study_mod.DIRECTIONS_OPS, storage)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = []
        workers = {"dead here": f"{study_mod.HOST}:{_dead_pid(dead)}",
                   "zombie here": f"{study_mod.HOST}:{_dead_pid(dead)}",  # killed, its parent not waiting yet
                   "alive here": f"{study_mod.HOST}:{alive.pid}", "other host": f"not-{study_mod.HOST}:{_dead_pid(dead)}"}
        for role, worker in workers.items():
            trial = study.ask()
            trial.suggest_int("width", 1, 100)
            trial.set_user_attr("worker", worker)
            trial.set_user_attr("role", role)
        with caplog.at_level(logging.WARNING, logger="nas.search"):
            study_mod.open_study(place, None, study_mod.DIRECTIONS_OPS, storage)
        assert caplog.text.count("is gone; it is failed and retried now") == 2
        trials = load_study(place).trials
    finally:
        alive.kill()
        for proc in (alive, *dead):
            proc.wait()
    states = {t.user_attrs["role"]: t.state for t in trials[:4]}
    assert states == {"dead here": TrialState.FAIL, "zombie here": TrialState.FAIL, "alive here": TrialState.RUNNING,
                      "other host": TrialState.RUNNING}
    retries = trials[4:]
    assert [t.state for t in retries] == [TrialState.WAITING] * 2
    assert [(t.system_attrs["failed_trial"], t.params) for t in retries] == [(0, trials[0].params), (1, trials[1].params)]
    assert study_mod.budget_used(load_study(place)) == (0, 2)  # the dead trials neither run nor count


def test_a_resumed_search_does_not_propose_the_first_runs_candidates_again(tmp_path, tiny_dataset_dir):
    # Without Hello Edge's enqueued point every trial is the seeded sampler's own proposal.
    argv = [*_base(tmp_path, tiny_dataset_dir), "enqueue_hello_edge=false", "constraints=large",
            "study_name=s"]
    assert main([*argv, "trials=2"]) == 0
    assert main([*argv, "trials=4"]) == 0
    study = load_study(read_marker(tmp_path / "results" / "s"))
    candidates = [tuple(sorted(t.params.items())) for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(candidates) >= 4 and len(set(candidates)) == len(candidates)
