"""The trial state machine: infeasible candidates are recorded and never trained; a failing trial is
FAIL with its stage and reason while the study goes on."""
import optuna
from optuna.trial import TrialState

from nas.cost import estimate
from nas.cost.budget import Budget
from nas.results.trials import trials_frame
from nas.search.objective import ListSource, SpaceSource, TrialRunner
from nas.search.study import DIRECTIONS_OPS, budget_used
from nas.spaces import get_space, hello_edge_candidates


class NoFeatures:
    """Stands in for the dataset: any request for features means a candidate was about to be trained."""

    requests = 0

    def split(self, frontend, split):
        NoFeatures.requests += 1
        raise AssertionError("features requested for an infeasible candidate")


def _runner(source, budget, results_dir, trained):
    return TrialRunner(source, estimate, budget, NoFeatures(), train_config=None, results_dir=results_dir,
                       on_trained=trained.append)


def test_infeasible_candidates_are_recorded_with_costs_and_never_trained(tmp_path):
    tiny = Budget(name="tiny", max_memory_bytes=500, max_ops=1000)  # no DNN fits
    trained: list[int] = []
    study = optuna.create_study(directions=DIRECTIONS_OPS, sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(_runner(SpaceSource(get_space("dnn")), tiny, tmp_path, trained), n_trials=6, catch=(Exception,))

    assert trained == [] and NoFeatures.requests == 0
    assert not (tmp_path / "trials").exists()
    for t in study.trials:
        assert t.state == TrialState.COMPLETE and t.user_attrs["feasible"] is False
        assert t.constraints["memory"] > 0 and t.constraints["ops"] > 0
        assert t.values[0] == 0.0 and t.values[1] == t.user_attrs["memory_bytes"] > 500
        assert t.values[2] == t.user_attrs["cost"]["ops"] > 1000
        assert t.user_attrs["stage"] == "done" and "history" not in t.user_attrs
    assert budget_used(study) == (0, 0)  # infeasible samples do not use the trial budget


class FailsOnTrial:
    def __init__(self, inner, number):
        self.inner, self.number = inner, number

    def propose(self, trial):
        if trial.number == self.number:
            raise RuntimeError("space exploded")
        return self.inner.propose(trial)


def test_a_failing_trial_is_marked_failed_with_its_stage_and_the_study_goes_on(tmp_path):
    tiny = Budget(name="tiny", max_memory_bytes=500, max_ops=1000)
    study = optuna.create_study(directions=DIRECTIONS_OPS, sampler=optuna.samplers.RandomSampler(seed=1))
    runner = _runner(FailsOnTrial(SpaceSource(get_space("dnn")), 1), tiny, tmp_path, [])
    study.optimize(runner, n_trials=3, catch=(Exception,))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert study.trials[1].user_attrs["fail_reason"] == "sample: RuntimeError: space exploded"
    assert budget_used(study) == (1, 0)  # a failure uses its trial: a broken space cannot loop forever


def test_grid_source_replays_each_hello_edge_point_exactly_once():
    candidates = [c for _, c in hello_edge_candidates("cnn")]
    large = Budget(name="large", max_memory_bytes=500_000, max_ops=80_000_000)
    study = optuna.create_study(directions=DIRECTIONS_OPS,
                                sampler=optuna.samplers.GridSampler({"grid_index": [0, 1, 2]}, seed=0))
    seen = []

    class Recording(ListSource):
        def propose(self, trial):
            seen.append(super().propose(trial))
            raise optuna.TrialPruned()  # stop before training: only the proposal matters here

    study.optimize(TrialRunner(Recording(candidates), estimate, large, NoFeatures(), None, "."), n_trials=10)
    assert len(study.trials) == 3  # the grid stops the study when every point was proposed
    assert sorted(c.to_json() for c in seen) == sorted(c.to_json() for c in candidates)


class RecordingProbe:
    """A board stand-in: returns a fixed latency and records what it was asked to measure."""

    def __init__(self):
        self.measured = []

    def measure(self, tflite: bytes) -> float:
        from nas.tflite_model import read_model

        graph = read_model(tflite)  # the board gets the trained model as int8 .tflite bytes
        first_fc = next(op for op in graph.ops if op.name == "FULLY_CONNECTED")
        self.measured.append(graph.tensors[first_fc.inputs[1]].shape[0])  # its first layer's width
        return 12.5

    def close(self) -> None:
        pass


def test_a_configured_board_measures_trained_feasible_trials_only(tmp_path, tiny_dataset_dir):
    from nas.search.features import CachedFeatures
    from nas.train import TrainConfig

    candidates = [c for _, c in hello_edge_candidates("dnn")]  # small, medium, large
    medium = Budget(name="medium", max_memory_bytes=200_000, max_ops=20_000_000)
    probe = RecordingProbe()
    features = CachedFeatures(tiny_dataset_dir, cache_dir=tmp_path / "cache")
    runner = TrialRunner(ListSource(candidates), estimate, medium, features, TrainConfig(epochs=1), tmp_path, probe=probe)
    study = optuna.create_study(directions=DIRECTIONS_OPS,
                                sampler=optuna.samplers.GridSampler({"grid_index": [0, 1, 2]}, seed=0))
    study.optimize(runner, n_trials=3)

    by_size = {t.user_attrs["candidate"]["spec"]["widths"][0]: t for t in study.trials}
    assert set(by_size) == {144, 256, 436}
    large = by_size[436]  # 497 KB: over the medium budget
    assert not large.user_attrs["feasible"] and large.values[2] == float("inf") and "latency_ms" not in large.user_attrs
    for width in (144, 256):
        t = by_size[width]
        assert t.values[2] == 12.5 == t.user_attrs["latency_ms"] and t.user_attrs["stage"] == "done"
        assert (tmp_path / t.user_attrs["checkpoint"]).is_file()
    assert sorted(probe.measured) == [144, 256]


def test_a_candidate_proposed_again_is_not_trained_twice(tmp_path, tiny_dataset_dir):
    """Point 4 of issue 11: a re-proposal reports the first training's results, marked as a duplicate,
    and does not use a trial of the budget."""
    from nas.search.features import CachedFeatures
    from nas.search.study import count_trials
    from nas.train import TrainConfig

    space = get_space("dnn")
    _, small = hello_edge_candidates("dnn")[0]
    medium = Budget(name="medium", max_memory_bytes=200_000, max_ops=20_000_000)
    trained: list[int] = []
    runner = TrialRunner(SpaceSource(space), estimate, medium, CachedFeatures(tiny_dataset_dir, cache_dir=tmp_path / "c"),
                         TrainConfig(epochs=1), tmp_path, on_trained=trained.append)
    study = optuna.create_study(directions=DIRECTIONS_OPS, sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(2):
        study.enqueue_trial(space.to_params(small))
    study.optimize(runner, n_trials=2)

    first, second = study.trials
    assert trained == [0] and second.state == TrialState.COMPLETE
    assert second.user_attrs["duplicate_of"] == 0 and "duplicate_of" not in first.user_attrs
    assert second.values == first.values and second.user_attrs["checkpoint"] == first.user_attrs["checkpoint"]
    assert second.user_attrs["candidate_key"] == first.user_attrs["candidate_key"] == small.to_json()
    assert "history" not in second.user_attrs and not (tmp_path / "trials" / "1").exists()
    assert budget_used(study) == (1, 0)
    counts = count_trials(study)
    assert (counts.trained, counts.duplicates) == (1, 1)
    assert trials_frame(study)["duplicate_of"].tolist()[1] == 0  # trials.csv names the trial it repeats
    assert counts.describe().endswith("0 infeasible samples rejected, 1 repeated proposals not retrained")
