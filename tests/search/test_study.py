"""Samplers, resume and the trial-budget count (the study's place and storage: tests/results)."""
import optuna
import pytest
from optuna.trial import TrialState, create_trial

from nas.errors import ConfigError
from nas.results.place import claim_results_dir, place_for
from nas.search import study as study_mod
from nas.search.schema import SamplerConf


def test_open_study_resumes_the_same_study(tmp_path):
    place = place_for("s", tmp_path, None)
    claim_results_dir(place)
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
    with pytest.raises(ConfigError, match=r"\['grid', 'mutation', 'nsga2', 'random', 'tpe'\]"):
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
