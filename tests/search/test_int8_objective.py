"""`objective.accuracy=int8`: trained trials are converted once, scored in TFLite Micro, and measured."""

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from nas.cli import main
from nas.cost.budget import BoardProfile, Budget


@pytest.fixture(scope="module")
def int8_search(tmp_path_factory, tiny_dataset_dir):
    tmp = tmp_path_factory.mktemp("int8")
    argv = ["search", "search_space=dnn", "constraints=medium", "trials=2", "objective.accuracy=int8",
            f"data.root={tiny_dataset_dir}", f"data.cache_dir={tmp / 'cache'}", f"results_dir={tmp / 'results'}",
            "train.epochs=1", "progress=false", "sampler.n_startup_trials=2", "retrain.enabled=false"]
    assert main(argv) == 0
    folder = tmp / "results" / "dnn_medium"
    study = optuna.load_study(study_name="dnn_medium", storage=f"sqlite:///{folder / 'study.db'}")
    trained = [t for t in study.trials if t.state == TrialState.COMPLETE and t.user_attrs["feasible"]]
    return folder, trained, tiny_dataset_dir, tmp / "cache"


def test_int8_accuracy_is_the_objective_and_matches_an_independent_measurement(int8_search):
    from nas.data.cache import load_features
    from nas.export import int8_accuracy
    from nas.spaces import Candidate

    folder, trained, dataset, cache = int8_search
    assert len(trained) == 2
    for t in trained:
        a = t.user_attrs
        assert a["stage"] == "done" and a["tflite"] == f"trials/{t.number}/model.tflite"
        assert t.values[0] == a["val_acc_int8"]  # the objective is the int8 figure, not the float one
        candidate = Candidate.from_dict(a["candidate"])
        splits = {s: load_features(dataset, candidate.frontend, s, cache_dir=cache) for s in ("train", "validation")}
        again = int8_accuracy(folder / a["checkpoint"], candidate, splits)
        assert again["validation"]["int8"] == a["val_acc_int8"]
        assert again["validation"]["float"] == a["val_acc_float"]
        # the saved .tflite is the one measured: its size is the recorded flash
        tflite = folder / a["tflite"]
        assert a["deploy_footprint"]["flash_bytes"] == tflite.stat().st_size == again["flash_bytes"]
        assert a["memory_deploy_measured_bytes"] == a["deploy_footprint"]["flash_bytes"] + a["deploy_footprint"]["arena_bytes"]
        assert not list(tflite.parent.glob("*.tmp"))


def test_trials_csv_has_the_int8_columns(int8_search):
    folder, trained, _, _ = int8_search
    df = pd.read_csv(folder / "trials.csv").set_index("number")
    for t in trained:
        row = df.loc[t.number]
        assert row["val_acc_int8"] == pytest.approx(t.user_attrs["val_acc_int8"], abs=1e-6)
        assert row["val_acc_float"] == pytest.approx(t.user_attrs["val_acc_float"], abs=1e-6)
        assert row["tflite_flash_bytes"] == t.user_attrs["deploy_footprint"]["flash_bytes"]
        assert row["tflite_arena_bytes"] == t.user_attrs["deploy_footprint"]["arena_bytes"]
        assert row["tflite"] == t.user_attrs["tflite"]


def test_a_board_probe_times_the_scored_tflite_instead_of_converting_again(tmp_path, tiny_dataset_dir, monkeypatch):
    from nas.cost import estimate
    from nas.export import tflite
    from nas.search.features import CachedFeatures
    from nas.search.objective import ListSource, TrialRunner
    from nas.search.study import DIRECTIONS_OPS
    from nas.spaces import hello_edge_candidates
    from nas.train import TrainConfig

    class TfliteProbe:  # a board stand-in: records the bytes it is given
        timed: list[bytes] = []

        def measure(self, tflite: bytes) -> float:
            self.timed.append(tflite)
            return 3.0

        def close(self) -> None:
            pass

    conversions = []
    real_convert = tflite.convert

    def counted_convert(*args, **kwargs):
        conversions.append(args[-1] if len(args) > 3 else kwargs.get("arch"))
        return real_convert(*args, **kwargs)

    monkeypatch.setattr(tflite, "convert", counted_convert)

    small = [c for _, c in hello_edge_candidates("dnn")][:1]
    features = CachedFeatures(tiny_dataset_dir, cache_dir=tmp_path / "cache")
    budget = Budget(name="medium", max_memory_bytes=200_000, max_ops=20_000_000)
    runner = TrialRunner(ListSource(small), estimate, budget, features, TrainConfig(epochs=1), tmp_path,
                         probe=TfliteProbe(), int8=True)
    study = optuna.create_study(directions=DIRECTIONS_OPS)
    study.optimize(runner, n_trials=1)
    t = study.trials[0]
    assert t.state == TrialState.COMPLETE and t.values[2] == 3.0
    assert TfliteProbe.timed == [(tmp_path / t.user_attrs["tflite"]).read_bytes()]  # the scored model, timed
    assert conversions == ["dnn"]  # converted once for both


def test_a_measured_footprint_over_the_board_fails_the_trial_and_the_study_goes_on(tmp_path, tiny_dataset_dir):
    from nas.cost import estimate
    from nas.search.features import CachedFeatures
    from nas.search.objective import ListSource, TrialRunner
    from nas.search.study import DIRECTIONS_OPS
    from nas.spaces import hello_edge_candidates
    from nas.train import TrainConfig

    candidate = [c for _, c in hello_edge_candidates("dnn")][0]
    cost = estimate(candidate)
    # the cost model says it fits; the real arena (bookkeeping included) is larger than the estimate's RAM
    board = BoardProfile(name="tight", core="cortex-m4", flash_bytes=10 * cost.flash_bytes, sram_bytes=cost.ram_bytes + 1,
                         clock_hz=8e7, cycles_per_instruction=1, cycles_per_mac=1, target_inferences_per_s=0.001)
    assert board.feasible(cost)
    runner = TrialRunner(ListSource([candidate, candidate]), estimate, board,
                         CachedFeatures(tiny_dataset_dir, cache_dir=tmp_path / "cache"), TrainConfig(epochs=1), tmp_path,
                         int8=True)
    study = optuna.create_study(directions=DIRECTIONS_OPS)
    study.optimize(runner, n_trials=2, catch=(Exception,))
    for t in study.trials:
        assert t.state == TrialState.FAIL
        assert t.user_attrs["fail_reason"].startswith("int8: BudgetError: dnn int8 model model.tflite does not fit tight")
        assert t.user_attrs["deploy_footprint"]["arena_bytes"] > board.sram_bytes  # the figures are kept


def test_a_conversion_failure_fails_the_trial_naming_op_and_arch(tmp_path, tiny_dataset_dir, monkeypatch):
    from nas.cost import estimate
    from nas.export import tflite
    from nas.export.from_torch import ConversionError
    from nas.search.features import CachedFeatures
    from nas.search.objective import ListSource, TrialRunner
    from nas.search.study import DIRECTIONS_OPS
    from nas.spaces import hello_edge_candidates
    from nas.train import TrainConfig

    def refuse(model, frontend, representative, arch="model"):  # stands in for a converter refusal
        raise ConversionError(f"{arch}: the TFLite converter refused op(s) tf.Foo: unsupported")

    monkeypatch.setattr(tflite, "convert", refuse)
    candidate = [c for _, c in hello_edge_candidates("dnn")][0]
    runner = TrialRunner(ListSource([candidate]), estimate, Budget("medium", 200_000, 20_000_000),
                         CachedFeatures(tiny_dataset_dir, cache_dir=tmp_path / "cache"), TrainConfig(epochs=1), tmp_path,
                         int8=True)
    study = optuna.create_study(directions=DIRECTIONS_OPS)
    study.optimize(runner, n_trials=2, catch=(Exception,))
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]  # the study went on
    reason = study.trials[0].user_attrs["fail_reason"]
    assert reason.startswith("int8: ConversionError: dnn:") and "tf.Foo" in reason
    assert (tmp_path / study.trials[0].user_attrs["checkpoint"]).is_file()  # the trained model is kept
