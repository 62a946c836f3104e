"""Final retraining: the same seeds and recipe for the searched candidates and Hello Edge's configuration
(read back from the stored runs), and a killed retraining resumes without redoing finished runs."""
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from optuna.trial import TrialState

from nas.cli import main
from nas.results.folder import open_results
from nas.results.place import read_marker
from nas.results.retrain import load_retrain
from nas.results.storage import load_study
from nas.search import study as study_mod
from nas.search.retrain import claim_next, enqueue_missing, open_retrain_study, select_sources
from nas.train import TrainConfig

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def searched(tmp_path_factory, tiny_dataset_dir):
    """A 3-trial DNN study retrained at the end of the search: top-1 candidates, 2 seeds, 1 epoch."""
    tmp = tmp_path_factory.mktemp("retrain")
    argv = ["search", "search_space=dnn", "constraints=medium", f"data.root={tiny_dataset_dir}",
            f"data.cache_dir={tmp / 'cache'}", f"results_dir={tmp / 'results'}", "train.epochs=1", "trials=3",
            "progress=false", "pruner.enabled=false", "retrain.train.epochs=1", "retrain.seeds=2", "retrain.top_k=1"]
    assert main(argv) == 0
    return tmp / "results" / "dnn_medium"


def _runs(folder):
    study = load_study(read_marker(folder))
    return study, load_retrain(study)


def _done(retrain) -> Counter:
    return Counter((t.user_attrs["source_trial"], t.user_attrs["seed"])
                   for t in retrain.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def test_both_sides_ran_the_same_seeds_and_recipe(searched):
    study, retrain = _runs(searched)
    runs = retrain.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    sources = {t.user_attrs["source_trial"] for t in runs}
    hello = [t for t in study.trials if "hello_edge" in t.user_attrs]
    assert hello and hello[0].number in sources and len(sources) >= 2  # Hello Edge's and a searched one
    for source in sources:
        mine = [t for t in runs if t.user_attrs["source_trial"] == source]
        assert sorted(t.user_attrs["seed"] for t in mine) == [0, 1]
        assert [t.user_attrs["recipe"]["seed"] for t in sorted(mine, key=lambda t: t.user_attrs["seed"])] == [0, 1]
    recipes = {str(sorted((k, v) for k, v in t.user_attrs["recipe"].items() if k != "seed")) for t in runs}
    assert len(recipes) == 1 and runs[0].user_attrs["recipe"]["epochs"] == 1
    assert all(t.user_attrs["epochs"] == 1 for t in runs)
    summary = (searched / "summary.md").read_text()
    assert "## Final retraining" in summary and "(Hello Edge)" in summary and "seeds 0, 1" in summary


def test_the_chosen_model_is_the_retrained_checkpoint_of_its_best_seed(searched):
    _, retrain = _runs(searched)
    best = json.loads((searched / "best.json").read_text())["classes"]["medium"]
    mine = [t for t in retrain.get_trials(states=(TrialState.COMPLETE,)) if t.user_attrs["source_trial"] == best["trial"]]
    top = max(mine, key=lambda t: (t.value, -t.user_attrs["seed"]))
    assert best["checkpoint"] == top.user_attrs["checkpoint"] == f"retrain/{best['trial']}/seed{top.user_attrs['seed']}/model.pt"
    assert best["retrained"]["val_mean"] == pytest.approx(sum(t.value for t in mine) / len(mine))
    [chosen] = open_results(searched).best().values()
    assert chosen.trial == best["trial"] and chosen.checkpoint == searched / best["checkpoint"]
    assert chosen.checkpoint.is_file()


def test_selection_adds_the_candidates_cheaper_than_hello_edge(searched):
    study, _ = _runs(searched)
    hello = next(t for t in study.trials if "hello_edge" in t.user_attrs)
    chosen = select_sources(study, top_k=1)
    assert chosen[0].number == hello.number
    cheaper = [t for t in chosen[1:] if t.values[1] <= hello.values[1] and t.values[2] <= hello.values[2]]
    trained = [t for t in study.trials if t.state == TrialState.COMPLETE and not study_mod.is_infeasible(t)
               and "hello_edge" not in t.user_attrs and t.values[1] <= hello.values[1] and t.values[2] <= hello.values[2]]
    assert bool(cheaper) == bool(trained)


def test_a_rerun_with_another_recipe_is_refused(searched, capsys):
    assert main(["retrain", str(searched), "--seeds", "3", "train.epochs=2"]) == 2
    err = capsys.readouterr().err
    assert "'dnn_medium.retrain' was retrained with another recipe" in err and "train.epochs: was 1, now 2" in err


def test_a_run_left_running_by_a_dead_worker_is_retried_and_finished_runs_are_kept(searched):
    study, retrain = _runs(searched)
    before = {t._trial_id: t.value for t in retrain.get_trials(states=(TrialState.COMPLETE,))}
    retrain = open_retrain_study(study, TrainConfig(epochs=1, **_search_recipe_rest()))
    enqueue_missing(retrain, select_sources(study, 1)[:1], 3, "medium")  # Hello Edge's seed 2
    trial = claim_next(retrain)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    trial.set_user_attr("worker", f"{study_mod.HOST}:{dead.pid}")  # as if its worker had been killed
    assert main(["retrain", str(searched), "--seeds", "3", "--top-k", "1", "train.epochs=1"]) == 0
    _, retrain = _runs(searched)
    after = {t._trial_id: t.value for t in retrain.get_trials(states=(TrialState.COMPLETE,))}
    assert {k: after[k] for k in before} == before  # not redone
    done = _done(retrain)
    assert set(done.values()) == {1} and {s for _, s in done} == {0, 1, 2}
    assert retrain.trials[trial.number].state == TrialState.FAIL  # the dead worker's, retried as a new run


def test_a_retrain_killed_with_sigkill_resumes(searched):
    _, retrain = _runs(searched)
    before = {t._trial_id for t in retrain.get_trials(states=(TrialState.COMPLETE,))}
    argv = [sys.executable, "-m", "nas", "retrain", str(searched), "--seeds", "8", "--top-k", "1", "train.epochs=1"]
    worker = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and worker.poll() is None:
        if len(_done(_runs(searched)[1])) > len(before):
            break
        time.sleep(0.2)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_with = {t._trial_id for t in _runs(searched)[1].get_trials(states=(TrialState.COMPLETE,))}
    assert before < killed_with  # it finished some runs before it died
    assert main(["retrain", str(searched), "--seeds", "8", "--top-k", "1", "train.epochs=1"]) == 0
    _, retrain = _runs(searched)
    done = _done(retrain)
    assert set(done.values()) == {1} and {s for _, s in done} == set(range(8))
    assert killed_with <= {t._trial_id for t in retrain.get_trials(states=(TrialState.COMPLETE,))}


def _search_recipe_rest() -> dict:
    """The retraining recipe's settings besides epochs (the fixture overrides only epochs)."""
    from nas.search.schema import RETRAIN_TRAINING

    data = RETRAIN_TRAINING.to_dict()
    data.pop("epochs")
    return data


def test_bad_retrain_settings_are_refused(searched, capsys):
    assert main(["retrain", str(searched), "--seeds", "0"]) == 2
    assert "retrain: need top_k >= 1 and seeds >= 1" in capsys.readouterr().err
    assert main(["retrain", str(searched), "train.epochz=3"]) == 2
    assert "retrain: " in capsys.readouterr().err
