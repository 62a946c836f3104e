"""board.measure: which trained trials the board measures, and what the others record."""
from __future__ import annotations

import functools

import optuna
import pytest

from nas.cost import estimate, latency
from nas.cost.budget import Budget, load_board
from nas.errors import ConfigError
from nas.results.trials import measured_latency, trials_frame
from nas.search.measure_policy import MeasureMode, MeasurePolicy
from nas.search.objective import ListSource, TrialRunner
from nas.search.study import DIRECTIONS_OPS
from nas.spaces import hello_edge_candidates

from .test_objective import RecordingProbe


def _study_with_front(points):
    study = optuna.create_study(directions=DIRECTIONS_OPS)
    for values in points:
        study.add_trial(optuna.trial.create_trial(values=values, user_attrs={"feasible": True}))
    return study


def test_front_measures_only_a_trial_no_finished_trial_dominates():
    policy = MeasurePolicy(MeasureMode.front)
    trial = _study_with_front([[0.90, 50_000, 10.0], [0.80, 20_000, 4.0]]).ask()
    assert policy.should_measure(trial, 0.85, 30_000, 8.0)  # between the two: on the front
    assert not policy.should_measure(trial, 0.79, 25_000, 5.0)  # worse than the second in every objective
    assert policy.should_measure(trial, 0.79, 25_000, 3.0)  # faster than both
    assert policy.should_measure(trial, 0.10, 99_999, None)  # nothing to trust: measured


def test_sample_measures_the_same_trials_for_a_seed_and_about_the_fraction():
    study = optuna.create_study(directions=DIRECTIONS_OPS)
    trials = [study.ask() for _ in range(400)]
    draws = [[MeasurePolicy(MeasureMode.sample, 0.25, seed).should_measure(t, 0.9, 1e4, 5.0) for t in trials]
             for seed in (0, 0, 1)]
    assert draws[0] == draws[1] != draws[2]
    assert 0.18 < sum(draws[0]) / len(trials) < 0.32
    with pytest.raises(ConfigError, match="board.sample_fraction: expected a fraction in"):
        MeasurePolicy(MeasureMode.sample, 0.0)


def test_trials_not_measured_take_the_prediction_recorded_as_predicted(tmp_path, tiny_dataset_dir):
    from nas.search.features import CachedFeatures
    from nas.train import TrainConfig

    candidates = [c for _, c in hello_edge_candidates("dnn")][:2]  # small, medium: both feasible
    medium = Budget(name="medium", max_memory_bytes=200_000, max_ops=20_000_000)
    predictor = latency.for_board(load_board("mps2_an500"))
    probe = RecordingProbe()
    # seed 3: trial 0 is not drawn, trial 1 is
    policy = MeasurePolicy(MeasureMode.sample, 0.5, sample_seed=3)
    runner = TrialRunner(ListSource(candidates), functools.partial(estimate, latency=predictor), medium,
                         CachedFeatures(tiny_dataset_dir, cache_dir=tmp_path / "cache"), TrainConfig(epochs=1),
                         tmp_path, probe=probe, measure=policy)
    study = optuna.create_study(directions=DIRECTIONS_OPS,
                                sampler=optuna.samplers.GridSampler({"grid_index": [0, 1]}, seed=0))
    study.optimize(runner, n_trials=2)

    predicted, measured = study.trials
    assert predicted.user_attrs["latency_source"] == "predicted" and "latency_ms" not in predicted.user_attrs
    assert predicted.values[2] == predicted.user_attrs["latency_ms_predicted"] > 0
    assert measured.user_attrs["latency_source"] == "measured" and measured.values[2] == 12.5
    assert len(probe.measured) == 1  # the board saw only the measured trial
    df = trials_frame(study).set_index("number")
    assert list(df["latency_source"]) == ["predicted", "measured"]
    assert list(df["latency_ms"]) == [predicted.values[2], 12.5]
    assert list(measured_latency(df).index) == [measured.number]  # what the predicted-vs-measured figure draws
