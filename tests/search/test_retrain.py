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
from nas.search.retrain import claim_next, enqueue_missing, open_retrain_study, ranked_sources
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
    """(source trial, seed) → completed runs of the comparison (shortlist runs left out)."""
    return Counter((t.user_attrs["source_trial"], t.user_attrs["seed"])
                   for t in retrain.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                   if t.user_attrs.get("stage", "seeds") == "seeds")


def test_both_sides_ran_the_same_seeds_and_recipe(searched):
    study, retrain = _runs(searched)
    runs = [t for t in retrain.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if t.user_attrs["stage"] == "seeds"]
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


def test_the_exported_model_is_a_student_distilled_from_the_chosen_candidates_seeds(searched):
    import torch

    _, retrain = _runs(searched)
    best = json.loads((searched / "best.json").read_text())["classes"]["medium"]
    mine = [t for t in retrain.get_trials(states=(TrialState.COMPLETE,)) if t.user_attrs["source_trial"] == best["trial"]]
    seeds = sorted((t for t in mine if t.user_attrs["stage"] == "seeds"), key=lambda t: t.user_attrs["seed"])
    [student] = [t for t in mine if t.user_attrs["stage"] == "distilled"]
    assert student.user_attrs["teachers"] == [f"retrain/{best['trial']}/seed{s}/model.pt" for s in (0, 1)]
    assert student.user_attrs["checkpoint"] == f"retrain/{best['trial']}/distilled/model.pt"
    # exported when it validates at least as well as the best seed, else that seed is
    best_seed = max(seeds, key=lambda t: (t.value, -t.user_attrs["seed"]))
    exported = student.value >= best_seed.value
    assert best["checkpoint"] == (student if exported else best_seed).user_attrs["checkpoint"]
    assert best["retrained"]["val_mean"] == pytest.approx(sum(t.value for t in seeds) / len(seeds))  # student left out
    assert best["distilled"] == {"teachers": 2, "val_acc": pytest.approx(student.value), "exported": exported,
                                 "test_acc": pytest.approx(student.user_attrs["test_acc"])}
    [chosen] = open_results(searched).best().values()
    assert chosen.trial == best["trial"] and chosen.checkpoint == searched / best["checkpoint"]
    # seed 0 and the recipe of the seed-0 run: only the teacher differs, so the weights must
    weights = [torch.load(searched / p, weights_only=True)["state_dict"]
               for p in (student.user_attrs["checkpoint"], student.user_attrs["teachers"][0])]
    assert any(not torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert "one student distilled from the ensemble of 2 of its seeds' models" in (searched / "summary.md").read_text()


def test_selection_adds_the_candidates_cheaper_than_hello_edge(searched):
    study, _ = _runs(searched)
    hello = next(t for t in study.trials if "hello_edge" in t.user_attrs)
    [ranked_hello], _, cheaper = ranked_sources(study)
    assert ranked_hello.number == hello.number
    assert all(t.values[1] <= hello.values[1] and t.values[2] <= hello.values[2] for t in cheaper)
    trained = [t for t in study.trials if t.state == TrialState.COMPLETE and not study_mod.is_infeasible(t)
               and "hello_edge" not in t.user_attrs and t.values[1] <= hello.values[1] and t.values[2] <= hello.values[2]]
    assert {t.number for t in cheaper} == {t.number for t in trained}


def test_a_run_repeated_with_its_seed_reaches_the_same_accuracy(searched):
    """The seed decides the run, initial weights included, so a paired comparison by seed is one."""
    import optuna

    from nas.search.features import CachedFeatures
    from nas.search.retrain import RunTrainer

    study, retrain = _runs(searched)
    stored = next(t for t in retrain.get_trials(states=(TrialState.COMPLETE,)) if t.user_attrs["seed"] == 1)
    features = CachedFeatures(study.user_attrs["dataset_root"], cache_dir=str(searched.parent.parent / "cache"))
    again = optuna.create_study(direction="maximize").ask()
    for key in ("source_trial", "seed", "candidate"):
        again.set_user_attr(key, stored.user_attrs[key])
    recipe = TrainConfig(epochs=1, **_search_recipe_rest())
    value = RunTrainer(features, recipe, searched.parent / "again")(again)
    assert value == stored.value and again.user_attrs["test_acc"] == stored.user_attrs["test_acc"]


def test_a_rerun_with_another_recipe_is_refused(searched, capsys):
    assert main(["retrain", str(searched), "--seeds", "3", "train.epochs=2"]) == 2
    err = capsys.readouterr().err
    assert "'dnn_medium.retrain' was retrained with another recipe" in err and "train.epochs: was 1, now 2" in err


def test_a_run_left_running_by_a_dead_worker_is_retried_and_finished_runs_are_kept(searched):
    study, retrain = _runs(searched)
    before = {t._trial_id: t.value for t in retrain.get_trials(states=(TrialState.COMPLETE,))}
    retrain = open_retrain_study(study, TrainConfig(epochs=1, **_search_recipe_rest()))
    enqueue_missing(retrain, ranked_sources(study)[0], 3, "medium")  # Hello Edge's seed 2
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
    assert "retrain: need top_k >= 1, seeds >= 1 and shortlist >= 0" in capsys.readouterr().err
    assert main(["retrain", str(searched), "train.epochz=3"]) == 2
    assert "retrain: " in capsys.readouterr().err


# --- the shortlist: which cheaper candidate gets every seed ---------------------------------------------

# trial → (screening accuracy, memory, ops); trial 0 is Hello Edge's, trials 1-4 cost at most as much, 5 more
SCREENED = {0: (0.85, 60_000, 5e6), 1: (0.90, 50_000, 4e6), 2: (0.89, 55_000, 3e6), 3: (0.88, 40_000, 4e6),
            4: (0.80, 30_000, 2e6), 5: (0.95, 90_000, 8e6)}
RUN_ACCURACY = {1: 0.84, 2: 0.86, 3: 0.91}  # the shortlist runs: trial 3, third by screening, is best


@pytest.fixture()
def shortlisted_study(tmp_path, monkeypatch):
    """A screened study in a real SQLite storage, retrained with a stand-in for training (the code under
    test chooses and enqueues runs; the accuracy a run reaches is the table's, +0.01 per seed)."""
    import optuna
    from optuna.trial import create_trial

    from nas.results.storage import open_storage
    from nas.search import retrain as retrain_mod
    from nas.search.schema import RetrainConf
    from nas.search.study import DIRECTIONS_OPS

    study = optuna.create_study(study_name="dnn_small", storage=open_storage(f"sqlite:///{tmp_path / 's.db'}"),
                                directions=DIRECTIONS_OPS)
    study.set_user_attr("constraints", "small")
    for number, (acc, memory, ops) in SCREENED.items():
        study.add_trial(create_trial(state=TrialState.COMPLETE, values=[acc, memory, ops], user_attrs={
            "candidate": {"arch": "dnn", "spec": {"widths": [64 + number]}, "frontend": {}}, "arch": "dnn",
            "memory_bytes": memory, "ops": ops, **({"hello_edge": "small"} if number == 0 else {})}))
    # trial 6 repeats trial 1 (not trained; it carries trial 1's values): never a candidate of its own
    study.add_trial(create_trial(state=TrialState.COMPLETE, values=list(study.trials[1].values), user_attrs={
        **study.trials[1].user_attrs, "duplicate_of": 1}))

    student_gain = [0.0]  # added to a distilled run's accuracy

    def fake_run(self, trial):
        a = trial.user_attrs
        trial.set_user_attr("test_acc", 0.5)
        trial.set_user_attr("train_seconds", 0.0)
        trial.set_user_attr("checkpoint", f"retrain/{a['source_trial']}/{a['stage']}{a['seed']}/model.pt")
        return (RUN_ACCURACY.get(a["source_trial"], 0.8) + 0.01 * a["seed"]
                + (student_gain[0] if a["stage"] == "distilled" else 0.0))

    monkeypatch.setattr(retrain_mod.RunTrainer, "__call__", fake_run)

    def run(student_gain_points: float = 0.0, **conf):
        student_gain[0] = student_gain_points / 100
        retrain_mod.retrain_study(study, features=None, conf=RetrainConf(**conf), results_dir=tmp_path)
        return load_retrain(study)
    return run


def _by_stage(retrain) -> dict[str, set]:
    runs = retrain.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return {stage: {(t.user_attrs["source_trial"], t.user_attrs["seed"]) for t in runs if t.user_attrs["stage"] == stage}
            for stage in ("shortlist", "seeds")}


def test_the_shortlist_run_chooses_the_cheaper_candidate_and_never_counts(shortlisted_study):
    from nas.results.dominance import cell_verdicts
    from nas.report.retrain_report import retrain_markdown
    from nas.results.retrain import candidates_frame, runs_frame

    retrain = shortlisted_study(top_k=1, seeds=3, shortlist=3)
    runs = _by_stage(retrain)
    assert runs["shortlist"] == {(1, 3), (2, 3), (3, 3)}  # the 3 best screened at most Hello Edge's cost, seed 3
    # Hello Edge's, the front's most accurate (5) and the shortlist run's best (3) get seeds 0-2; 1 and 2 do not
    assert runs["seeds"] == {(n, s) for n in (0, 5, 3) for s in range(3)}
    table = runs_frame(retrain, "dnn_small", "small")
    candidates = candidates_frame(table).set_index("source_trial")
    assert candidates.loc[3, "seeds"] == 3 and candidates.loc[3, "val_mean"] == pytest.approx(0.92)  # seed 3 left out
    assert set(candidates.index) == {0, 3, 5}
    [verdict] = cell_verdicts(table)
    assert verdict.searched_trial == 3 and verdict.seeds == 3
    summary = retrain_markdown(table)
    assert "seeds 0, 1, 2)" in summary and "trial 3 94.0 %, trial 2 89.0 %, trial 1 87.0 %" in summary


def test_only_the_chosen_candidate_is_distilled_from_its_compared_seeds(shortlisted_study):
    from nas.results.retrain import candidates_frame, runs_frame

    retrain = shortlisted_study(top_k=1, seeds=3, shortlist=3)
    [student] = [t for t in retrain.get_trials(deepcopy=False) if t.user_attrs["stage"] == "distilled"]
    assert student.state == TrialState.COMPLETE and student.user_attrs["source_trial"] == 3  # the best val mean
    assert len(student.user_attrs["teachers"]) == 3 and student.user_attrs["seed"] == 0  # seeds 0-2, not seed 3
    candidates = candidates_frame(runs_frame(retrain, "dnn_small", "small")).set_index("source_trial")
    assert candidates.loc[3, "distilled_val"] == pytest.approx(0.91) and candidates[["distilled_val"]].count().item() == 1
    assert candidates.loc[3, "val_mean"] == pytest.approx(0.92)  # the student is not one of the seeds
    retrain = shortlisted_study(top_k=1, seeds=4, shortlist=3)  # a rerun with one more seed distils again
    students = [t for t in retrain.get_trials(deepcopy=False) if t.user_attrs["stage"] == "distilled"]
    assert [len(t.user_attrs["teachers"]) for t in students] == [3, 4]


@pytest.mark.parametrize("gain, exported", [(0, "retrain/3/seeds2/model.pt"), (2, "retrain/3/distilled0/model.pt"),
                                             (3, "retrain/3/distilled0/model.pt")])
def test_the_student_is_exported_when_it_validates_at_least_as_well_as_the_best_seed(shortlisted_study, gain, exported):
    from nas.report.retrain_report import retrain_markdown
    from nas.results.retrain import candidates_frame, runs_frame

    # trial 3's seeds validate at 91, 92 and 93 %; its student (seed 0) at 91 % + the gain
    table = runs_frame(shortlisted_study(student_gain_points=gain, top_k=1, seeds=3, shortlist=3), "dnn_small", "small")
    chosen = candidates_frame(table).set_index("source_trial").loc[3]
    assert chosen["distilled_val"] == pytest.approx(0.91 + gain / 100)
    assert chosen["checkpoint"] == exported and chosen["distilled_exported"] == ("distilled" in exported)
    line = next(x for x in retrain_markdown(table).splitlines() if "one student distilled" in x)
    assert line.startswith("Exported for" if "distilled" in exported else "Not exported for")
    assert ("whose model is exported" in line) != ("distilled" in exported)


def test_distill_false_exports_the_best_seed(shortlisted_study):
    retrain = shortlisted_study(top_k=1, seeds=2, shortlist=0, distill=False)
    assert {t.user_attrs["stage"] for t in retrain.get_trials(deepcopy=False)} == {"seeds"}


def test_a_shortlist_no_longer_than_top_k_takes_the_screening_order(shortlisted_study):
    runs = _by_stage(shortlisted_study(top_k=1, seeds=2, shortlist=1))
    assert runs["shortlist"] == set()
    assert runs["seeds"] == {(n, s) for n in (0, 5, 1) for s in range(2)}
