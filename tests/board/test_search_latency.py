"""`kws-nas search board=mps2_an500`: trained feasible candidates are exported to int8 and timed on
one emulated board kept up for the study; latency lands in the trials, trials.csv and the Pareto plot.
A QEMU killed mid-measurement fails only that measurement: the trial keeps its accuracy."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from optuna.trial import TrialState

from nas.cli import main
from nas.results.place import read_marker
from nas.results.storage import load_study

pytestmark = [pytest.mark.firmware, pytest.mark.slow]


def _argv(tmp: Path, dataset: Path, trials: int) -> list[str]:
    return ["search", "search_space=dnn", "constraints=medium", f"trials={trials}", "board=mps2_an500",
            f"data.root={dataset}", f"data.cache_dir={tmp / 'cache'}", f"results_dir={tmp / 'results'}",
            "train.epochs=1", "progress=false", "sampler.n_startup_trials=2", "retrain.enabled=false"]


def _qemu_children() -> list[int]:
    """PIDs of the qemu-system-arm processes this test process started."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and cmdline.startswith(b"qemu-system-arm"):
            pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def firmware(firmware_image):
    return firmware_image  # built once before the search starts its board


def test_latency_is_recorded_for_every_trained_feasible_trial(tmp_path, tiny_dataset_dir, firmware):
    started: set[int] = set()
    already_running = set(_qemu_children())  # e.g. the session's shared board
    stop = threading.Event()

    def count_boards():
        while not stop.is_set():
            started.update(set(_qemu_children()) - already_running)
            time.sleep(0.05)

    watcher = threading.Thread(target=count_boards, daemon=True)
    watcher.start()
    try:
        assert main(_argv(tmp_path, tiny_dataset_dir, trials=2)) == 0
    finally:
        stop.set()
        watcher.join()
    folder = tmp_path / "results" / "dnn_medium"
    study = load_study(read_marker(folder))
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE", "MINIMIZE"]
    trained = [t for t in study.trials if t.user_attrs.get("feasible") and "best_val_acc" in t.user_attrs]
    assert len(trained) == 2
    for trial in trained:
        assert trial.state == TrialState.COMPLETE
        assert trial.user_attrs["latency_ms"] > 0 and trial.values[2] == trial.user_attrs["latency_ms"]
    assert len(started) == 1, "one emulated board serves the whole study"
    df = pd.read_csv(folder / "trials.csv").set_index("number")
    for trial in trained:
        assert df.loc[trial.number, "latency_ms"] == pytest.approx(trial.user_attrs["latency_ms"], rel=1e-5)
    assert "latency (ms)" in (folder / "pareto.html").read_text()
    # bigger networks take longer: latency follows the candidates' MACs
    by_ops = sorted(trained, key=lambda t: t.user_attrs["ops"])
    if by_ops[0].user_attrs["ops"] < by_ops[-1].user_attrs["ops"]:
        assert by_ops[0].user_attrs["latency_ms"] < by_ops[-1].user_attrs["latency_ms"]


def test_a_killed_board_fails_the_measurement_and_the_trial_keeps_its_accuracy(tmp_path, tiny_dataset_dir,
                                                                               firmware):
    killed: list[int] = []
    stop = threading.Event()

    already_running = set(_qemu_children())

    def kill_boards():  # every QEMU the probe starts (its retry included) dies 0.3 s into its life
        seen: dict[int, float] = {}
        while not stop.is_set():
            for pid in set(_qemu_children()) - already_running:
                first = seen.setdefault(pid, time.monotonic())
                if time.monotonic() - first > 0.3 and pid not in killed:
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.02)

    killer = threading.Thread(target=kill_boards, daemon=True)
    killer.start()
    try:
        main(_argv(tmp_path, tiny_dataset_dir, trials=1))
    finally:
        stop.set()
        killer.join()
    assert killed, "the search started no board"
    study = load_study(read_marker(tmp_path / "results" / "dnn_medium"))
    measured = [t for t in study.trials if t.user_attrs.get("stage") == "measure"]
    assert measured, [t.user_attrs.get("fail_reason") for t in study.trials]
    for trial in measured:
        assert trial.state == TrialState.FAIL
        assert trial.user_attrs["fail_reason"].startswith("measure: BoardError")
        assert "QEMU exited" in trial.user_attrs["fail_reason"]
        assert trial.user_attrs["best_val_acc"] >= 0 and "test_acc" in trial.user_attrs
        assert (tmp_path / "results" / "dnn_medium" / trial.user_attrs["checkpoint"]).is_file()


def test_a_latency_budget_rejects_candidates_before_training_and_trials_keep_both_latencies(
        tmp_path, tiny_dataset_dir, firmware):
    """constraints.max_latency_ms with the board's stored latency model: candidates predicted over it
    are infeasible and never trained; trained ones record predicted beside measured latency."""
    limit_ms = 1.0
    argv = _argv(tmp_path, tiny_dataset_dir, trials=2) + [f"+constraints.max_latency_ms={limit_ms}"]
    assert main(argv) == 0
    folder = tmp_path / "results" / "dnn_medium"
    study = load_study(read_marker(folder))
    costed = [t for t in study.trials if "latency_ms_predicted" in t.user_attrs]
    assert len(costed) == len([t for t in study.trials if "cost" in t.user_attrs])
    over = [t for t in costed if t.user_attrs["latency_ms_predicted"] > limit_ms]
    assert over, "the sampled candidates include some predicted over the limit"
    for trial in over:
        assert trial.user_attrs["feasible"] is False and "best_val_acc" not in trial.user_attrs
        assert trial.constraints["latency"] == pytest.approx(trial.user_attrs["latency_ms_predicted"] / limit_ms - 1)
    trained = [t for t in costed if "best_val_acc" in t.user_attrs]
    assert len(trained) == 2
    df = pd.read_csv(folder / "trials.csv").set_index("number")
    for trial in trained:
        predicted, measured = trial.user_attrs["latency_ms_predicted"], trial.user_attrs["latency_ms"]
        assert predicted <= limit_ms and measured == pytest.approx(predicted, rel=0.10)
        assert df.loc[trial.number, "latency_ms_predicted"] == pytest.approx(predicted, rel=1e-5)
        assert df.loc[trial.number, "latency_ms"] == pytest.approx(measured, rel=1e-5)
    assert "predicted before training (ms)" in (folder / "latency.html").read_text()


def test_measuring_only_the_front_trusts_the_model_for_the_rest(tmp_path, tiny_dataset_dir, firmware):
    """board.measure=front: a trained trial is measured only when no finished trial dominates its
    predicted point (the first always is); the others' latency objective is the prediction, recorded
    as predicted in the trial and trials.csv, and left out of the predicted-vs-measured figure."""
    argv = _argv(tmp_path, tiny_dataset_dir, trials=3) + ["board.measure=front"]
    assert main(argv) == 0
    folder = tmp_path / "results" / "dnn_medium"
    study = load_study(read_marker(folder))
    trained = sorted((t for t in study.trials if "best_val_acc" in t.user_attrs), key=lambda t: t.number)
    assert len(trained) == 3 and trained[0].user_attrs["latency_source"] == "measured"
    df = pd.read_csv(folder / "trials.csv").set_index("number")
    for trial in trained:
        a = trial.user_attrs
        if a["latency_source"] == "measured":
            assert trial.values[2] == a["latency_ms"] == pytest.approx(a["latency_ms_predicted"], rel=0.10)
        else:
            assert "latency_ms" not in a and trial.values[2] == a["latency_ms_predicted"]
        assert df.loc[trial.number, "latency_source"] == a["latency_source"]
        assert df.loc[trial.number, "latency_ms"] == pytest.approx(trial.values[2], rel=1e-5)
