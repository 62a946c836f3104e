"""Storage URLs, the results-folder marker, samplers, resume and the trial-budget count."""
import time

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from nas.errors import ConfigError, DataError
from nas.search import study as study_mod
from nas.search.schema import SamplerConf


def test_default_storage_is_a_sqlite_file_in_the_results_folder(tmp_path):
    place = study_mod.place_for("ds_cnn_small", tmp_path, None)
    assert place.results_dir == tmp_path / "ds_cnn_small"
    assert place.storage_url == f"sqlite:///{tmp_path}/ds_cnn_small/study.db"


@pytest.mark.parametrize("name", ["", "a/b", ".hidden"])
def test_study_name_must_be_a_folder_name(tmp_path, name):
    with pytest.raises(ConfigError, match="study_name"):
        study_mod.place_for(name, tmp_path, None)


def test_marker_is_written_once_and_read_back_relative_to_the_folder(tmp_path):
    place = study_mod.place_for("s", tmp_path, None)
    study_mod.claim_results_dir(place)
    study_mod.claim_results_dir(place)  # same study again: fine (resume)
    moved = tmp_path / "moved"
    place.results_dir.rename(moved)
    assert study_mod.read_marker(moved).storage_url == f"sqlite:///{moved}/study.db"


def test_a_folder_of_another_study_is_refused(tmp_path):
    study_mod.claim_results_dir(study_mod.place_for("s", tmp_path, None))
    other = study_mod.StudyPlace("other", tmp_path / "s", study_mod.default_storage_url(tmp_path / "s"))
    with pytest.raises(ConfigError, match="belongs to study 's'"):
        study_mod.claim_results_dir(other)
    with pytest.raises(ConfigError, match="records storage"):
        study_mod.claim_results_dir(study_mod.StudyPlace("s", tmp_path / "s", "postgresql://u:secret@h/db"))


def test_read_marker_of_a_plain_folder_says_what_is_missing(tmp_path):
    with pytest.raises(DataError, match="not a kws-nas results folder"):
        study_mod.read_marker(tmp_path)


def test_load_study_of_a_folder_whose_storage_lacks_the_study(tmp_path):
    place = study_mod.place_for("s", tmp_path, None)
    study_mod.claim_results_dir(place)
    optuna.create_study(study_name="someone_else", storage=place.storage_url)
    with pytest.raises(DataError, match="different study"):
        study_mod.load_study(place)


def test_unreachable_postgres_fails_fast_with_a_clear_error():
    started = time.monotonic()
    with pytest.raises(ConfigError, match=r"storage postgresql://kws:\*\*\*@127.0.0.1:1/x: cannot open \(.*(refused|connect)"):
        study_mod.open_storage("postgresql://kws:pw@127.0.0.1:1/x")
    assert time.monotonic() - started < 10


def test_unknown_storage_scheme_and_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match="expected sqlite"):
        study_mod.open_storage("redis://localhost")
    with pytest.raises(ConfigError, match="does not exist"):
        study_mod.open_storage(f"sqlite:///{tmp_path}/nope/study.db")


def test_open_study_resumes_the_same_study(tmp_path):
    place = study_mod.place_for("s", tmp_path, None)
    study_mod.claim_results_dir(place)
    first = study_mod.open_study(place, None, study_mod.DIRECTIONS_OPS)
    first.add_trial(create_trial(state=TrialState.COMPLETE, values=[0.9, 1.0, 2.0]))
    again = study_mod.open_study(place, None, study_mod.DIRECTIONS_OPS)
    assert len(again.trials) == 1
    with pytest.raises(ConfigError, match="optimises"):
        study_mod.open_study(place, None, ["maximize", "minimize"])


@pytest.mark.parametrize("name, cls", [
    ("tpe", optuna.samplers.TPESampler), ("nsga2", optuna.samplers.NSGAIISampler),
    ("random", optuna.samplers.RandomSampler), ("grid", optuna.samplers.GridSampler),
])
def test_make_sampler(name, cls):
    assert isinstance(study_mod.make_sampler(SamplerConf(name=name), seed=0, n_grid=3), cls)


def test_unknown_sampler_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"\['grid', 'nsga2', 'random', 'tpe'\]"):
        study_mod.make_sampler(SamplerConf(name="cmaes"), seed=0)


def test_budget_counts_trained_and_failed_trials_but_not_infeasible_or_heartbeat_failures():
    s = optuna.create_study(directions=study_mod.DIRECTIONS_OPS)

    def add(state, constraint, attrs=None):
        values = [0.5, 1.0, 1.0] if state == TrialState.COMPLETE else None
        s.add_trial(create_trial(state=state, values=values, user_attrs=attrs or {},
                                 system_attrs={"constraints:memory": constraint}))

    add(TrialState.COMPLETE, -1.0)  # trained: counts
    add(TrialState.COMPLETE, 5.0)  # infeasible: free
    add(TrialState.PRUNED, -1.0)  # pruned: counts
    add(TrialState.FAIL, -1.0, {"fail_reason": "train: RuntimeError: boom"})  # failed in the objective
    add(TrialState.FAIL, -1.0)  # its worker died: the retry will count instead
    assert study_mod.budget_used(s) == (3, 0)
