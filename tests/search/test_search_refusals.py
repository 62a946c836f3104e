"""A search that cannot work stops before its first trial, with one line and a non-zero exit; the
closing line counts what the study holds by outcome (issue 11, points 1 and 3)."""
import shutil
import time

import pytest
import torch

from nas.cli import main
from nas.errors import ConfigError


def _argv(tmp, dataset, *extra):
    return ["search", "search_space=dnn", "constraints=medium", "trials=1", "train.epochs=1", "progress=false", "retrain.enabled=false",
            f"data.root={dataset}", f"data.cache_dir={tmp / 'cache'}", f"results_dir={tmp / 'results'}", *extra]


def _refused(capsys, argv, *phrases):
    """Exit 2, one error line holding ``phrases``, no traceback, and no results folder written."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("kws-nas search: error: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


def _study_made(tmp):
    """Whether a study was opened (Hydra's own log folder, results/<study>/hydra, comes before the app)."""
    return any((tmp / "results" / "dnn_medium" / name).exists() for name in ("study.json", "study.db"))


def test_a_missing_dataset_folder_is_refused_before_a_study_is_made(tmp_path, capsys):
    _refused(capsys, _argv(tmp_path, tmp_path / "nowhere"), "nowhere: dataset folder does not exist")
    assert not _study_made(tmp_path)


def test_an_empty_class_folder_is_refused_before_a_study_is_made(tmp_path, tiny_dataset_dir, capsys):
    dataset = shutil.copytree(tiny_dataset_dir, tmp_path / "ds")
    (dataset / "happy").mkdir()
    _refused(capsys, _argv(tmp_path, dataset), "happy: class folder holds no .wav files")
    assert not _study_made(tmp_path)


def test_a_corrupt_wav_is_named_before_the_first_trial(tmp_path, tiny_dataset_dir, capsys):
    dataset = shutil.copytree(tiny_dataset_dir, tmp_path / "ds")
    victim = sorted((dataset / "yes").glob("*.wav"))[0]
    victim.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    _refused(capsys, _argv(tmp_path, dataset), victim.name)
    assert not _study_made(tmp_path)


@pytest.mark.parametrize("override, phrase", [
    ("trials=-1", "trials: expected a positive number of trained trials, got -1"),
    ("trials=0", "trials: expected a positive number"),
    ("timeout=0", "timeout: expected seconds > 0"),
    ("timeout=-5", "timeout: expected seconds > 0"),
    ("max_rejected_in_a_row=0", "max_rejected_in_a_row: expected a whole number >= 1, got 0"),
    ("heartbeat_interval=0", "heartbeat_interval: expected a whole number >= 1"),
    ("max_retry=-1", "max_retry: expected a whole number >= 0"),
    ("storage=sqlite://", "storage sqlite://: an in-memory database vanishes"),
    ("storage=sqlite:///:memory:", "an in-memory database vanishes"),
    ("board.measure=sample", "board.measure=sample: the trials not measured take the predicted latency, but no "
                             "board is configured"),
    ("board.sample_fraction=1.5", "board.sample_fraction: expected a fraction in (0, 1], got 1.5"),
])
def test_values_that_make_no_sense_are_one_line(tmp_path, override, phrase, capsys):
    _refused(capsys, _argv(tmp_path, tmp_path / "unused", override), phrase)
    assert not _study_made(tmp_path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu_is_one_line_naming_train_device(tmp_path, capsys):
    _refused(capsys, _argv(tmp_path, tmp_path / "unused", "train.device=cuda"), "train.device=cuda but torch sees no CUDA GPU")
    assert not _study_made(tmp_path)


def test_a_results_dir_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    _refused(capsys, [*_argv(tmp_path, tmp_path / "unused"), f"results_dir={tmp_path / 'file'}"],
             f"results_dir: {tmp_path / 'file'} is a file")


def test_a_read_only_results_dir_is_refused(tmp_path, monkeypatch):
    """Root writes anywhere, so the refusal is checked with os.access saying what it says for a user."""
    import os

    from nas.search.preflight import check_results_dir_writable

    (tmp_path / "ro").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path / "ro") else real_access(p, mode))
    with pytest.raises(ConfigError, match="ro is read-only"):
        check_results_dir_writable(tmp_path / "ro" / "results" / "dnn_small")
    check_results_dir_writable(tmp_path / "rw" / "results")  # a path to create under a writable folder


def test_a_budget_below_the_spaces_least_memory_is_refused_at_once(tmp_path, capsys):
    """800 B: above the old bound (input + output layer: 168 B) but below DS-CNN's least, 940 B (900 B at
    the class's 0.1 KB)."""
    started = time.monotonic()
    _refused(capsys, ["search", "search_space=ds_cnn", "constraints.max_memory_bytes=800",
                      f"results_dir={tmp_path / 'results'}", "data.root=unused"],
             "constraints=small (memory_bytes <= 800, ops <= 6000000): no candidate of search_space=ds_cnn can "
             "meet it: memory +12.5%: the least memory is ds_cnn [2 16 1 1 3 3 16 1 1 2 2] mfcc=6 win=50ms "
             "stride=40ms with 940 B memory, 3072 ops")
    assert time.monotonic() - started < 10
    assert not _study_made(tmp_path)


def test_closing_line_counts_the_study_by_outcome(tmp_path, tiny_dataset_dir, capsys):
    assert main(_argv(tmp_path, tiny_dataset_dir)) == 0
    out = capsys.readouterr().out
    assert "dnn_medium: the study holds 1 trials trained, 0 pruned, 0 failed, 0 infeasible samples rejected" in out


def test_a_run_whose_every_trial_failed_exits_non_zero(tmp_path, tiny_dataset_dir, capsys):
    """A file where the trials' checkpoint folder goes: every trained trial fails as it saves."""
    (tmp_path / "results" / "dnn_medium").mkdir(parents=True)
    (tmp_path / "results" / "dnn_medium" / "trials").write_text("in the way")
    assert main(_argv(tmp_path, tiny_dataset_dir, "trials=2")) == 2
    captured = capsys.readouterr()
    assert "the study holds 0 trials trained, 0 pruned, 2 failed" in captured.out
    assert "kws-nas search: error: all 2 trials of this run failed, the first with test: NotADirectoryError" in captured.err
    assert "trial 1 failed: test: NotADirectoryError" in captured.err and "Traceback" not in captured.err


def test_a_second_worker_closes_with_what_the_storage_holds(tmp_path, tiny_dataset_dir, capsys):
    """Counted from the storage, not the worker's own callbacks: a worker that joins a study reports the
    trials the first one left there too, exactly as the storage counts them."""
    from nas.results.place import read_marker
    from nas.results.storage import load_study
    from nas.search.study import count_trials

    assert main(_argv(tmp_path, tiny_dataset_dir)) == 0
    first = capsys.readouterr().out
    assert main(_argv(tmp_path, tiny_dataset_dir, "trials=2")) == 0
    second = capsys.readouterr().out
    counts = count_trials(load_study(read_marker(tmp_path / "results" / "dnn_medium")))
    assert counts.trained + counts.pruned == 2
    assert f"the study holds {counts.describe()} (all workers)" in second
    assert "the study holds 1 trials trained" in first
