"""`kws-nas data ...` run in-process (and once as the installed console script)."""
from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
import sys
import wave
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from nas.cli import main
from nas.data.tts import available_engines
from nas.data.wav import write_wav
from tests.data.bad_wavs import write_long_wav, write_nan_wav, write_wav_claiming_rate


@pytest.fixture
def dataset(tiny_dataset_dir, tmp_path):
    return shutil.copytree(tiny_dataset_dir, tmp_path / "ds")


def _check_json(capsys, root) -> tuple[int, dict]:
    capsys.readouterr()
    rc = main(["data", "check", str(root), "--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_check_json_counts_every_class_and_split(dataset, capsys):
    rc, report = _check_json(capsys, dataset)
    assert rc == 0 and report["bad_files"] == []
    listed = {line: split for name, split in (("validation_list.txt", "validation"), ("testing_list.txt", "test"))
              for line in (dataset / name).read_text().split()}
    for split, counts in report["counts"].items():
        assert list(counts) == ["_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on",
                                "off", "stop", "go"]
        expected_yes = sum(listed.get(f"yes/{p.name}", "train") == split for p in (dataset / "yes").iterdir())
        assert counts["yes"] == expected_yes
        keywords = sum(counts.values()) - counts["_silence_"] - counts["_unknown_"]
        assert counts["_silence_"] == math.ceil(keywords * 0.1)


def test_check_lists_bad_files_and_notes_converted_ones(dataset, capsys):
    clip = next((dataset / "yes").iterdir())
    (dataset / "yes" / "cut_nohash_0.wav").write_bytes(clip.read_bytes()[:5000])
    (dataset / "no" / "text_nohash_0.wav").write_text("not audio")
    with wave.open(str(dataset / "up" / "cd44k_nohash_0.wav"), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(44100)
        w.writeframes(np.zeros((44100, 2), "<i2").tobytes())
    rc, report = _check_json(capsys, dataset)
    assert rc == 1
    bad = {item["file"]: item["problem"] for item in report["bad_files"]}
    assert set(bad) == {"yes/cut_nohash_0.wav", "no/text_nohash_0.wav"}
    assert "truncated" in bad["yes/cut_nohash_0.wav"] and "not a WAV" in bad["no/text_nohash_0.wav"]
    converted = {item["file"]: item["note"] for item in report["converted"]}
    assert "44100 Hz" in converted["up/cd44k_nohash_0.wav"] and "down-mixed" in converted["up/cd44k_nohash_0.wav"]

    main(["data", "check", str(dataset)])
    out = capsys.readouterr().out
    assert "bad file: yes/cut_nohash_0.wav" in out and "2 bad files" in out


def test_check_of_the_real_test_archive_matches_its_manifest(real_data_dir, capsys):
    rc, report = _check_json(capsys, real_data_dir)
    with open(real_data_dir / "manifest.csv") as f:
        manifest = Counter(row["label"] for row in csv.DictReader(f))
    assert rc == 0 and report["bad_files"] == []
    assert report["counts"]["test"] == {label: manifest[label] for label in report["counts"]["test"]}
    assert sum(report["counts"]["train"].values()) == 0


@pytest.mark.parametrize("make_bad, expected", [
    (lambda root: shutil.rmtree(root), "does not exist"),
    (lambda root: (root / "testing_list.txt").unlink(), "testing_list.txt: missing"),
    (lambda root: (root / "left_empty").mkdir(), "left_empty: class folder holds no .wav files"),
])
def test_bad_datasets_give_one_clear_error(dataset, capsys, make_bad, expected):
    make_bad(dataset)
    capsys.readouterr()
    assert main(["data", "check", str(dataset)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("kws-nas data: error: ") and expected in err
    assert "Traceback" not in err


def test_synth_writes_a_dataset_the_loader_reads(tmp_path, capsys):
    out = tmp_path / "gen"
    assert main(["data", "synth", "--out", str(out), "--per-word", "3", "--unknown-per-voice", "1",
                 "--workers", "1", "--seed", "7"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 33 clips of 3 voices" in printed and "does not predict accuracy on people" in printed
    assert re.search(r"in [0-9.]+ s \([0-9]+ clips/s, 1 processes\)", printed)
    assert len(list((out / "go").glob("*.wav"))) == 3
    assert (out / ".synth_complete").is_file()


def test_synth_uses_the_engines_it_is_told_to(tmp_path, capsys):
    out = tmp_path / "gen"
    assert main(["data", "synth", "--out", str(out), "--per-word", "12", "--unknown-per-voice", "0",
                 "--workers", "1", "--no-flite", "--no-pico"]) == 0
    manifest = json.loads((out / "synth.json").read_text())
    assert {v["engine"] for v in manifest["voices"]} == {"espeak-ng"}  # festival and MBROLA are opt-in
    assert manifest["settings"]["use_flite"] is False and manifest["settings"]["use_festival"] is False
    assert manifest["settings"]["use_pico"] is False
    if "pico" in available_engines():  # on by default: 30 % of the voices
        assert main(["data", "synth", "--out", str(out), "--per-word", "20", "--unknown-per-voice", "0",
                     "--workers", "1", "--no-flite"]) == 0
        engines = [v["engine"] for v in json.loads((out / "synth.json").read_text())["voices"]]
        assert set(engines) == {"espeak-ng", "pico"} and 2 <= engines.count("pico") <= 12
    if "festival" in available_engines():
        assert main(["data", "synth", "--out", str(out), "--per-word", "20", "--unknown-per-voice", "0",
                     "--workers", "1", "--with", "festival"]) == 0
        manifest = json.loads((out / "synth.json").read_text())
        assert "festival" in {v["engine"] for v in manifest["voices"]}
        assert manifest["settings"]["use_festival"] is True


def test_synth_rejects_a_zero_count(tmp_path, capsys):
    assert main(["data", "synth", "--out", str(tmp_path / "g"), "--per-word", "0"]) == 2
    assert "--per-word: expected a positive count" in capsys.readouterr().err


def test_features_extracts_then_reuses(dataset, capsys):
    assert main(["data", "features", str(dataset)]) == 0
    first = capsys.readouterr().out
    assert main(["data", "features", str(dataset)]) == 0
    second = capsys.readouterr().out
    for split in ("train", "validation", "test"):
        assert f"{split}: (" in first and f"{split}: (" in second
    assert first.count("extracted") == 3 and second.count("all from the cache") == 3


def test_console_script_reports_errors_without_traceback(tmp_path):
    script = Path(sys.executable).with_name("kws-nas")
    if not script.exists():
        pytest.skip(f"{script} not installed (pip install -e .)")
    proc = subprocess.run([str(script), "data", "check", str(tmp_path / "absent")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert f"kws-nas data: error: {tmp_path / 'absent'}: dataset folder does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_accepts_a_minimal_dataset_with_one_keyword(tmp_path, capsys):
    (tmp_path / "yes").mkdir()
    write_wav(tmp_path / "yes" / "aaaa_nohash_0.wav", np.zeros(8000))
    rc, report = _check_json(capsys, tmp_path)
    assert rc == 0 and report["layout"] == "archive"
    assert sum(report["counts"][s]["yes"] for s in report["counts"]) == 1


def test_check_json_prints_only_json_and_leaves_stderr_empty(dataset):
    """Run as a user would (a real process): stdout parses as JSON, stderr holds no progress bar."""
    proc = subprocess.run([sys.executable, "-m", "nas", "data", "check", str(dataset), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["bad_files"] == []
    assert proc.stderr == ""


def test_bad_files_are_listed_but_not_counted(dataset, capsys):
    _, before = _check_json(capsys, dataset)
    victim = sorted((dataset / "yes").iterdir())[0]
    victim.write_text("not audio")  # same name: still in the loader's index, but unreadable
    rc, after = _check_json(capsys, dataset)
    assert rc == 1 and [b["file"] for b in after["bad_files"]] == [f"yes/{victim.name}"]
    assert sum(after["counts"][s]["yes"] for s in after["counts"]) == sum(before["counts"][s]["yes"] for s in before["counts"]) - 1
    main(["data", "check", str(dataset)])
    text = capsys.readouterr().out
    total_yes = int(next(line for line in text.splitlines() if line.startswith("yes ")).split()[1:][0])
    assert total_yes == after["counts"]["train"]["yes"]


def test_features_of_a_read_only_dataset_go_to_the_user_cache(dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    listing = sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*"))
    for path in [dataset, *dataset.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        assert main(["data", "features", str(dataset)]) == 0
    finally:
        for path in [dataset, *dataset.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    out = capsys.readouterr().out
    assert out.count(f"→ {tmp_path / 'xdg' / 'kws-nas' / 'features'}") == 3
    assert sorted(p.relative_to(dataset).as_posix() for p in dataset.rglob("*")) == listing  # nothing written there


def test_check_names_nan_implausible_rate_and_far_too_long_clips(dataset, capsys):
    """Each was decoded without a word before: trained on as zeros, silence, or its first second."""
    write_nan_wav(dataset / "yes" / "nan_nohash_0.wav")
    write_wav_claiming_rate(dataset / "no" / "ghz_nohash_0.wav", 4_000_000_000)
    write_long_wav(dataset / "up" / "session_nohash_0.wav", 600.0)
    write_long_wav(dataset / "down" / "slack_nohash_0.wav", 1.5)  # cropped, as before, but said
    write_long_wav(dataset / "_background_noise_" / "bed.wav", 60.0)  # noise beds are long by design
    rc, report = _check_json(capsys, dataset)
    assert rc == 1
    bad = {item["file"]: item["problem"] for item in report["bad_files"]}
    assert bad == {
        "yes/nan_nohash_0.wav": "101 of 16000 samples are NaN or infinite (the first at sample 4000); "
                                "expected finite float samples",
        "no/ghz_nohash_0.wav": "header claims a sample rate of 4000000000 Hz; expected 8000 to 384000 Hz "
                               "(a damaged header: resampling would make the clip silence or noise)",
        "up/session_nohash_0.wav": "600 s of audio; expected a clip of at most 2 s",
    }
    converted = {item["file"]: item["note"] for item in report["converted"]}
    assert converted == {"down/slack_nohash_0.wav": "1.50 s, cropped to its first 1 s"}
    main(["data", "check", str(dataset)])
    out = capsys.readouterr().out
    assert "bad file: up/session_nohash_0.wav: 600 s of audio" in out and "3 bad files" in out


@pytest.mark.parametrize("write_bad", [
    lambda path: write_nan_wav(path),
    lambda path: write_wav_claiming_rate(path, 4_000_000_000),
    lambda path: write_long_wav(path, 600.0),
])
def test_features_refuse_a_bad_clip_in_one_line_naming_it(dataset, tmp_path, capsys, write_bad):
    """`data features` (and so the search's features) never train on a bad clip: one line, no cache."""
    bad = write_bad(dataset / "yes" / "bad_nohash_0.wav")  # yes/: a keyword, in a split whatever its hash
    capsys.readouterr()
    assert main(["data", "features", str(dataset), "--cache-dir", str(tmp_path / "cache")]) == 2
    last = capsys.readouterr().err.splitlines()[-1]  # after the progress bar of the split it stopped
    assert last.startswith(f"kws-nas data: error: {bad}: ")
    assert last.endswith(f"`kws-nas data check {dataset}` lists every bad file")
    assert not list((tmp_path / "cache").glob("*.pt"))
