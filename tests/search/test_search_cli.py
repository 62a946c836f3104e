"""`kws-nas search` end to end on a tiny generated dataset: results, checkpoints, resume, bad input."""
import json

import pandas as pd
import pytest
from optuna.trial import TrialState

from nas.cli import main
from nas.data.speech_commands import SpeechCommands
from nas.results.folder import open_results
from nas.results.place import read_marker
from nas.results.storage import load_study
from nas.search.study import budget_used


def _base(tmp, dataset):
    return [f"data.root={dataset}", f"data.cache_dir={tmp / 'cache'}", f"results_dir={tmp / 'results'}",
            "train.epochs=1", "progress=false", "sampler.n_startup_trials=2", "retrain.enabled=false"]


@pytest.fixture(scope="module")
def searched(tmp_path_factory, tiny_dataset_dir):
    """A 3-trial DNN search under the medium budget (DNNs there are mostly feasible)."""
    tmp = tmp_path_factory.mktemp("search")
    argv = ["search", "search_space=dnn", "constraints=medium", "trials=3", *_base(tmp, tiny_dataset_dir)]
    assert main(argv) == 0
    return tmp / "results" / "dnn_medium", argv


def test_results_folder_has_every_artifact(searched):
    folder, _ = searched
    for name in ("study.json", "study.db", "trials.csv", "summary.md", "best.json", "pareto.html", "pareto.png",
                 "curves.html", "curves.png"):
        assert (folder / name).is_file(), name
    assert (folder / "hydra" / ".hydra" / "config.yaml").is_file()  # Hydra's record stays in the study folder
    df = pd.read_csv(folder / "trials.csv")
    assert budget_used(load_study(read_marker(folder))) == (3, 0)
    assert df.loc[0, "model_size_info"] == "256 256 256"  # trial 0: Hello Edge's medium DNN, queued first
    assert len(df) == len(load_study(read_marker(folder)).trials)


def test_checkpoints_exist_exactly_for_trained_trials_and_load(searched):
    from nas.spaces import Candidate, build_model
    from nas.train import load_checkpoint

    folder, _ = searched
    study = load_study(read_marker(folder))
    for t in study.trials:
        trial_dir = folder / "trials" / str(t.number)
        if t.state == TrialState.COMPLETE and t.user_attrs["feasible"]:
            model, candidate, extra = load_checkpoint(trial_dir / "model.pt")
            history = json.loads((trial_dir / "history.json").read_text())
            assert len(history["history"]) == 1 and history["test_acc"] == t.user_attrs["test_acc"]
            assert history["candidate"] == candidate == t.user_attrs["candidate"] and extra["trial"] == t.number
            rebuilt = build_model(Candidate.from_dict(candidate))  # the stored candidate rebuilds the same net
            assert sum(p.numel() for p in rebuilt.parameters()) == sum(p.numel() for p in model.parameters())
        elif t.state == TrialState.COMPLETE:
            assert not trial_dir.exists()  # infeasible: never trained, nothing written


def test_best_json_points_at_a_real_checkpoint(searched):
    folder, _ = searched
    best = json.loads((folder / "best.json").read_text())
    entry = best["classes"]["medium"]
    assert (folder / entry["checkpoint"]).is_file()
    assert entry["memory_bytes"] <= 200_000 and entry["ops"] <= 20_000_000
    assert "generated speech" in best["dataset"]


def test_export_and_quant_sweep_find_the_studys_dataset_by_themselves(searched, tmp_path, tiny_dataset_dir):
    """What a user runs right after a search: no --data, the study's own dataset folder is used."""
    folder, _ = searched
    assert json.loads((folder / "best.json").read_text())["dataset_root"] == str(tiny_dataset_dir)
    assert main(["export", str(folder), "--out", str(tmp_path / "bundle"), "--top", "1"]) == 0
    assert (tmp_path / "bundle" / "medium" / "model.tflite").is_file()
    assert main(["quant-sweep", str(folder), "--out", str(tmp_path / "sweep"), "--bits", "8", "--qat-steps", "0"]) == 0
    assert set(pd.read_csv(tmp_path / "sweep" / "quant_sweep.csv")["method"]) == {"ptq", "qat", "minifloat"}


def test_rerunning_the_same_command_resumes_instead_of_starting_over(searched):
    folder, argv = searched
    before = [(t.number, t.state, t.values) for t in load_study(read_marker(folder)).trials]
    assert main(argv) == 0
    after = load_study(read_marker(folder))
    assert [(t.number, t.state, t.values) for t in after.trials] == before  # nothing new, nothing lost
    assert main([a if a != "trials=3" else "trials=4" for a in argv]) == 0
    assert budget_used(load_study(read_marker(folder)))[0] == 4


def test_unknown_group_member_is_one_clear_error(capsys):
    assert main(["search", "search_space=transformer"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kws-nas search: error: ") and "search_space/transformer" in err and "ds_cnn" in err
    assert "Traceback" not in err


def test_budget_too_small_for_the_space_says_so_and_keeps_the_samples(tmp_path, tiny_dataset_dir, capsys):
    # the space's least cost (so not refused up front; memory at the class's 0.1 KB): only its cheapest DNN meets it
    argv = ["search", "search_space=dnn", "constraints.max_memory_bytes=2700", "constraints.max_ops=4992",
            "max_rejected_in_a_row=12", *_base(tmp_path, tiny_dataset_dir)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "kws-nas search: error: 12 candidates in a row violated the budget" in err and "too small" in err
    df = pd.read_csv(tmp_path / "results" / "dnn_small" / "trials.csv")
    assert len(df) == 12 and not df["feasible"].any() and not (tmp_path / "results" / "dnn_small" / "trials").exists()


def test_a_results_folder_of_another_study_is_refused(tmp_path, tiny_dataset_dir, capsys):
    folder = tmp_path / "results" / "dnn_small"
    folder.mkdir(parents=True)
    (folder / "study.json").write_text(json.dumps({"study_name": "cnn_large", "storage": "sqlite:///study.db"}))
    assert main(["search", "search_space=dnn", *_base(tmp_path, tiny_dataset_dir)]) == 2
    assert "belongs to study 'cnn_large'" in capsys.readouterr().err


def test_unreachable_storage_is_one_clear_error(tmp_path, tiny_dataset_dir, capsys):
    argv = ["search", "storage=postgresql://kws:pw@127.0.0.1:1/nowhere", *_base(tmp_path, tiny_dataset_dir)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "kws-nas search: error: storage postgresql://kws:***@127.0.0.1:1/nowhere: cannot open" in err


def test_multirun_runs_one_study_per_cell_and_a_combined_report(tmp_path, tiny_dataset_dir):
    argv = ["search", "--multirun", "search_space=dnn,basic_lstm", "constraints=medium", "trials=1",
            *_base(tmp_path, tiny_dataset_dir)]
    assert main(argv) == 0
    results = tmp_path / "results"
    assert (results / "dnn_medium" / "trials.csv").is_file() and (results / "basic_lstm_medium" / "trials.csv").is_file()
    combined = pd.read_csv(results / "combined.csv")
    assert set(combined["study"]) == {"dnn_medium", "basic_lstm_medium"}
    assert set(combined["arch"]) == {"dnn", "basic_lstm"}
    assert (results / "pareto.png").is_file() and "| basic_lstm | medium |" in (results / "summary.md").read_text()


def test_help_says_what_the_search_does_and_lists_the_groups(capsys):
    from nas.search.schema import SearchConf

    assert main(["search", "--help"]) == 0
    out = capsys.readouterr().out
    assert "powered by Hydra" not in out and len(out.splitlines()) < 60
    groups = dict(line.split(": ", 1) for line in out.splitlines() if line.split(":")[0] in
                  ("search_space", "constraints", "sampler", "data", "board"))
    assert set(groups) == {"search_space", "constraints", "sampler", "data", "board"}
    assert "tc_resnet" in groups["search_space"] and groups["sampler"] == "grid, mutation, nsga2, random, tpe"
    assert f"default {SearchConf.trials})" in out  # the help quotes the schema's default, not a copy


def _one_trial_search(tmp_path, dataset, *extra):
    return ["search", "search_space=dnn", "constraints=medium", "trials=1", "train.epochs=2",
            *[a for a in _base(tmp_path, dataset) if a not in ("progress=false", "train.epochs=1")], *extra]


def test_console_shows_trials_and_hides_epochs_unless_verbose(tmp_path, tiny_dataset_dir, capsys):
    assert main(_one_trial_search(tmp_path / "quiet", tiny_dataset_dir)) == 0
    quiet = capsys.readouterr()
    assert "trial 0: accuracy" in quiet.err and "epoch 1" not in quiet.err and "clips to" not in quiet.err
    assert "1/1" in quiet.err  # the progress display's last state
    assert len(quiet.out.strip().splitlines()) == 1 and "dnn_medium: the study holds 1 trials trained" in quiet.out
    log_file = tmp_path / "quiet" / "results" / "dnn_medium" / "hydra" / "search.log"
    assert "trial 0 epoch 2" in log_file.read_text()  # the log file keeps every line

    assert main([*_one_trial_search(tmp_path / "loud", tiny_dataset_dir), "-v"]) == 0
    loud = capsys.readouterr()
    assert "trial 0 epoch 1" in loud.err and "trial 0 epoch 2" in loud.err
    assert "train: " in loud.err and "clips to" in loud.err  # feature extraction (its own cache folder)


def test_overrides_may_stand_on_either_side_of_flags(capsys):
    assert main(["search", "trials=1", "--cfg", "job", "trials=2", "-v"]) == 0
    out = capsys.readouterr().out
    assert "\ntrials: 2\n" in out and "\nverbose: true\n" in out


def test_a_search_on_a_read_only_dataset_caches_features_in_the_user_cache(tmp_path, tiny_dataset_dir, monkeypatch):
    import shutil

    dataset = shutil.copytree(tiny_dataset_dir, tmp_path / "ds")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    listing = sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*"))
    for path in [dataset, *dataset.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    argv = [a for a in _one_trial_search(tmp_path, dataset, "progress=false") if not a.startswith("data.cache_dir")]
    try:
        assert main(argv) == 0
    finally:
        for path in [dataset, *dataset.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*")) == listing
    assert list((tmp_path / "xdg" / "kws-nas" / "features").glob("train-*.pt"))


def test_a_folder_dataset_without_a_root_is_one_clear_error(tmp_path, capsys):
    assert main(["search", "data=folder", f"results_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert "kws-nas search: error: data=folder: data.root is not set" in err and "Traceback" not in err


def test_grid_replays_hello_edge_for_the_studys_class_only_and_dnn_small_fits(tmp_path, tiny_dataset_dir):
    # DNN small (80,038 B) is inside the 80 KB class at the paper's 0.1 KB: trained, and the medium
    # and large points (which could never fit) are not replayed.
    argv = ["search", "search_space=dnn", "constraints=small", "sampler=grid", *_base(tmp_path, tiny_dataset_dir)]
    assert main(argv) == 0
    study = load_study(read_marker(tmp_path / "results" / "dnn_small"))
    assert len(study.trials) == 1
    (trial,) = study.trials
    assert trial.state == TrialState.COMPLETE and trial.user_attrs["feasible"]
    assert trial.user_attrs["candidate"]["spec"]["widths"] == [144, 144, 144]
    assert trial.user_attrs["memory_bytes"] == trial.user_attrs["cost"]["memory_hello_edge_bytes"] == 80_038


def _as_test_archive(dataset, out):
    """The tiny generated set rearranged in the official test-set archive's layout (12 class folders).

    Its 6 voices are renamed to speakers that the by-speaker re-split sends to train, validation and
    test two each: 6 hashed names would leave a split empty about half the time."""
    import itertools
    import shutil

    import numpy as np

    from nas.data.speech_commands import _RESPLIT_SALT, KEYWORDS
    from nas.data.splits import hash_split, speaker_of
    from nas.data.wav import write_wav

    names = (f"{i:08x}" for i in itertools.count())
    wanted = {split: [] for split in ("train", "validation", "test")}
    while any(len(found) < 2 for found in wanted.values()):
        name = next(names)
        found = wanted[hash_split(_RESPLIT_SALT + name, 10.0, 10.0)]
        if len(found) < 2:
            found.append(name)
    voices = sorted({speaker_of(wav.name) for wav in dataset.glob("*/*_nohash_*.wav")})
    assert len(voices) == 6
    speaker = dict(zip(voices, [name for found in wanted.values() for name in found]))
    for word_dir in sorted(p for p in dataset.iterdir() if p.is_dir() and not p.name.startswith("_")):
        keyword = word_dir.name in KEYWORDS
        target = out / (word_dir.name if keyword else "_unknown_")
        target.mkdir(parents=True, exist_ok=True)
        for wav in word_dir.glob("*.wav"):
            name = wav.name.replace(speaker_of(wav.name), speaker[speaker_of(wav.name)], 1)
            shutil.copy(wav, target / (name if keyword else f"{word_dir.name}_{name}"))
    (out / "_silence_").mkdir()
    rng = np.random.default_rng(0)
    for i in range(12):
        write_wav(out / "_silence_" / f"noise{i}_nohash_0.wav", 0.01 * rng.standard_normal(16000).astype(np.float32))
    return out


def test_a_test_set_archive_is_searched_when_split_by_speaker(tmp_path, tiny_dataset_dir, capsys):
    archive = _as_test_archive(tiny_dataset_dir, tmp_path / "archive")
    base = ["search", "search_space=dnn", "constraints=small", "trials=1", "data=folder", f"data.root={archive}",
            *_base(tmp_path, tiny_dataset_dir)[1:]]
    assert main(base) == 2  # every clip of an archive is 'test': refused up front, with the way out
    assert "split_test_archive" in capsys.readouterr().err
    assert main([*base, "data.split_test_archive=true"]) == 0
    study = load_study(read_marker(tmp_path / "results" / "dnn_small"))
    assert study.user_attrs["definition"]["data"]["split_test_archive"] is True
    assert "split by speaker" in study.user_attrs["dataset"]
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]
    # the verbs that reload the data split it as the search did: best.json and the folder carry the flag
    folder = tmp_path / "results" / "dnn_small"
    assert json.loads((folder / "best.json").read_text())["split_test_archive"] is True
    dataset = open_results(folder).recorded_dataset()
    assert isinstance(dataset, SpeechCommands) and dataset.split_test_archive
    assert main(["export", str(folder), "--out", str(tmp_path / "export")]) == 0
    assert "small: dnn" in capsys.readouterr().out
    generated = ["search", "search_space=dnn", "study_name=other", "data.split_test_archive=true",
                 *_base(tmp_path, tiny_dataset_dir)]
    assert main(generated) == 2  # generated data has its own split: the key does not apply
    assert "data.split_test_archive: only for data=folder" in capsys.readouterr().err
