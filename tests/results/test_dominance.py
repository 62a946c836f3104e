"""The verdict against Hello Edge's configuration is computed from the retraining runs stored in a real
SQLite storage: changing the stored accuracies flips it."""
import json

import optuna
import pytest
from optuna.trial import TrialState, create_trial

from nas.cli import main
from nas.report.study_report import study_verdicts, write_study_report
from nas.results.dominance import cell_verdicts, dominance_line
from nas.results.folder import open_results
from nas.results.place import claim_results_dir, place_for
from nas.results.retrain import candidates_frame, load_retrain, retrain_name, runs_frame
from tests.results.retrain_factory import write_study

# Hello Edge (trial 0) around 0.80; trial 1 is cheaper, trial 2 costs more than Hello Edge
BEATS = {0: [0.80, 0.82, 0.78], 1: [0.83, 0.84, 0.82], 2: [0.95, 0.95, 0.95]}
LOSES = {0: [0.80, 0.82, 0.78], 1: [0.79, 0.80, 0.78], 2: [0.90, 0.90, 0.90]}


def _verdict(tmp_path, accuracies, name="dnn_small"):
    study = write_study(f"sqlite:///{tmp_path / 'study.db'}", name, accuracies)
    [verdict] = study_verdicts(study)
    return verdict


def test_a_cheaper_candidate_with_a_higher_mean_dominates(tmp_path):
    v = _verdict(tmp_path, BEATS)
    assert v.searched_trial == 1 and v.hello_edge_trial == 0  # trial 2 scores more but costs more
    assert v.cheaper and v.dominates and v.margin_met
    assert v.delta_mean == pytest.approx(0.03) and v.delta_std == pytest.approx(0.01) and v.seeds == 3
    assert v.memory_ratio == pytest.approx(40 / 60) and v.ops_ratio == pytest.approx(3 / 5)
    assert v.latency_ratio is None
    assert "trial 1 dominates Hello Edge's configuration (≥ 1 point): Δ accuracy +3.0 ± 1.0 points" in v.describe()


def test_the_verdict_flips_when_the_stored_accuracies_change(tmp_path):
    v = _verdict(tmp_path, LOSES)
    assert v.searched_trial == 1 and v.cheaper and not v.dominates and not v.margin_met
    assert v.delta_mean == pytest.approx(-0.01)


def test_a_win_under_one_point_dominates_without_meeting_the_margin(tmp_path):
    v = _verdict(tmp_path, {0: [0.80, 0.82, 0.78], 1: [0.805, 0.825, 0.785]})
    assert v.dominates and not v.margin_met


def test_only_a_more_expensive_candidate_never_dominates(tmp_path):
    v = _verdict(tmp_path, {0: BEATS[0], 2: BEATS[2]})
    assert v.searched_trial == 2 and not v.cheaper and not v.dominates and v.memory_ratio == pytest.approx(1.5)


def test_a_run_enqueued_twice_counts_once(tmp_path):
    study = write_study(f"sqlite:///{tmp_path / 'study.db'}", "dnn_small", BEATS)
    retrain = load_retrain(study)
    retrain.add_trial(create_trial(state=TrialState.COMPLETE, value=0.10, user_attrs={
        "source_trial": 1, "seed": 0, "hello_edge": False, "candidate": {}, "arch": "dnn",
        "memory_bytes": 40_000, "ops": 3e6}))
    table = candidates_frame(runs_frame(retrain, "dnn_small", "small"))
    row = table[table["source_trial"] == 1].iloc[0]
    assert row["seeds"] == 3 and row["val_mean"] == pytest.approx(0.83)


def test_the_report_and_best_json_take_the_best_retrained_mean(tmp_path):
    study = write_study(f"sqlite:///{tmp_path / 'study.db'}", "dnn_small", BEATS)
    write_study_report(tmp_path, study)
    summary = (tmp_path / "summary.md").read_text()
    assert "## Final retraining" in summary and "83.0 ± 1.0" in summary
    assert "dnn small: trial 1 dominates Hello Edge's configuration" in summary
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["classes"]["small"]["trial"] == 2  # best validation mean, whatever it costs
    assert best["classes"]["small"]["retrained"]["val_mean"] == pytest.approx(0.95)
    assert best["dominance"][0]["dominates"] is True
    assert (tmp_path / "retrain.csv").read_text().count("\n") == 10  # header + 9 runs
    assert (tmp_path / "retrain.html").is_file()


def test_a_multirun_report_counts_the_cells_it_dominates(tmp_path, capsys):
    for name, accuracies in (("dnn_small", BEATS), ("cnn_small", LOSES)):
        folder = tmp_path / name
        claim_results_dir(place_for(name, tmp_path, None))
        write_study(f"sqlite:///{folder / 'study.db'}", name, accuracies)
    assert main(["report", str(tmp_path)]) == 0
    assert "retrained: the search dominates 1 of 2 cells (1 by ≥ 1 point)" in capsys.readouterr().out
    summary = (tmp_path / "summary.md").read_text()
    assert "The search dominates 1 of 2 cells (1 by ≥ 1 point)." in summary
    assert (tmp_path / "dominance.html").is_file() and (tmp_path / "dominance.png").is_file()
    folder = open_results(tmp_path)
    assert {c: (t.study, t.trial) for c, t in folder.best().items()} == {"small": ("dnn_small", 2)}


def test_dominance_line_counts_wins_and_margins(tmp_path):
    verdicts = cell_verdicts(runs_frame(load_retrain(write_study(f"sqlite:///{tmp_path / 'a.db'}", "a", BEATS)), "a", "small"))
    assert dominance_line(verdicts) == "dominates 1 of 1 cells (1 by ≥ 1 point)"


def test_a_study_never_retrained_has_no_runs(tmp_path):
    study = optuna.create_study(study_name="b", storage=f"sqlite:///{tmp_path / 'b.db'}")
    assert load_retrain(study) is None and study_verdicts(study) == [] and retrain_name("b") == "b.retrain"
