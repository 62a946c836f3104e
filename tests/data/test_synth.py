"""The generated dataset: layout, audio format, split by voice, reproducibility, the default set."""
from __future__ import annotations

import json
import re
import wave
from dataclasses import replace

import numpy as np
import pytest

from nas.data.speech_commands import KEYWORDS, SpeechCommands
from nas.data.synth import (BABBLE, MARKER, UNKNOWN_WORDS, SynthSettings, ensure_default_dataset, generate,
                            plan_voices, split_voices)
from nas.data.tts import installed_voices
from nas.errors import ConfigError, DataError


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_layout_is_speech_commands(tiny_dataset_dir, tiny_synth_settings):
    for word in KEYWORDS:
        names = sorted(p.name for p in (tiny_dataset_dir / word).iterdir())
        assert len(names) == tiny_synth_settings.per_word
        assert all(re.fullmatch(r"[0-9a-f]{8}_nohash_0\.wav", n) for n in names)
    unknown = [p for w in UNKNOWN_WORDS if (tiny_dataset_dir / w).is_dir() for p in (tiny_dataset_dir / w).iterdir()]
    assert len(unknown) == tiny_synth_settings.per_word * tiny_synth_settings.unknown_per_voice
    noise = sorted((tiny_dataset_dir / "_background_noise_").glob("*.wav"))
    assert len(noise) >= 4
    for path in noise:
        with wave.open(str(path)) as w:
            assert w.getnframes() == int(tiny_synth_settings.noise_seconds * 16000)


def test_every_clip_is_one_second_of_16k_mono_16bit_speech(tiny_dataset_dir):
    for path in tiny_dataset_dir.glob("*/*_nohash_*.wav"):
        with wave.open(str(path)) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 16000, 16000)
            x = np.frombuffer(w.readframes(16000), "<i2") / 32768.0
        # speech: the loudest 100 ms are well above the quietest 100 ms (the noise bed)
        energy = np.sort((x.reshape(10, 1600) ** 2).mean(axis=1))
        assert energy[-1] > 4 * energy[0] and energy[-1] > 1e-6, path


def test_split_is_by_voice(tiny_dataset_dir):
    voices_of = {}
    for split, name in (("validation", "validation_list.txt"), ("test", "testing_list.txt")):
        voices_of[split] = {line.split("/")[1].split("_nohash_")[0]
                            for line in (tiny_dataset_dir / name).read_text().split()}
    all_voices = {p.name.split("_nohash_")[0] for p in tiny_dataset_dir.glob("*/*_nohash_*.wav")}
    voices_of["train"] = all_voices - voices_of["validation"] - voices_of["test"]
    assert all(voices_of.values()) and not voices_of["validation"] & voices_of["test"]
    # a voice in a list file has ALL its clips in that list
    for split, name in (("validation", "validation_list.txt"), ("test", "testing_list.txt")):
        lines = set((tiny_dataset_dir / name).read_text().split())
        for path in tiny_dataset_dir.glob("*/*_nohash_*.wav"):
            in_list = path.relative_to(tiny_dataset_dir).as_posix() in lines
            assert in_list == (path.name.split("_nohash_")[0] in voices_of[split])
    manifest = json.loads((tiny_dataset_dir / "synth.json").read_text())
    assert {v["hash"] for v in manifest["voices"] if v["split"] == "train"} == voices_of["train"]


def test_the_loader_reads_it_unchanged(tiny_dataset_dir):
    ds = SpeechCommands(tiny_dataset_dir)
    assert ds.layout == "archive"
    assert set(ds.clips("train").labels.tolist()) == set(range(12))


def test_voices_are_many_and_distinct(tiny_synth_settings):
    settings = replace(tiny_synth_settings, per_word=200)
    voices = plan_voices(settings, {"flite", "festival", "mbrola", "pico"})
    assert len({v.hash for v in voices}) == 200
    assert len({v.name.split("+")[0] for v in voices if v.engine == "espeak-ng"}) >= 6  # accents
    assert len({v.name for v in voices}) >= 60
    assert 0.1 < np.mean([v.engine == "flite" for v in voices]) < 0.3
    assert 0.1 < np.mean([v.engine == "festival" for v in voices]) < 0.3
    for engine in ("festival", "mbrola", "pico"):  # each installed optional engine, with every voice it has
        assert {v.name for v in voices if v.engine == engine} == set(installed_voices(engine))
    assert {v.engine for v in plan_voices(settings, set())} == {"espeak-ng"}  # optional engines left out
    splits = [s for _, s in split_voices(voices, settings)]
    assert 0.05 < splits.count("validation") / 200 < 0.15 and 0.05 < splits.count("test") / 200 < 0.15


def test_same_seed_gives_the_same_bytes_in_any_number_of_processes(tiny_dataset_dir, tiny_synth_settings, tmp_path):
    again = generate(tmp_path / "again", replace(tiny_synth_settings, workers=2), progress=False)
    assert _files(again) == _files(tiny_dataset_dir)


def test_another_seed_gives_other_voices(tiny_dataset_dir, tiny_synth_settings, tmp_path):
    other = generate(tmp_path / "other", replace(tiny_synth_settings, seed=1, per_word=3), progress=False)
    names = lambda root: {p.name for p in (root / "yes").iterdir()}  # noqa: E731
    assert not names(other) & names(tiny_dataset_dir)


def test_refuses_to_overwrite_a_folder_it_did_not_make(tmp_path, tiny_synth_settings):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("precious")
    with pytest.raises(DataError, match=r"mine: exists and is not an earlier generated dataset"):
        generate(tmp_path / "mine", tiny_synth_settings, progress=False)
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "precious"


def test_default_dataset_is_made_once_and_redone_when_interrupted(tmp_path, monkeypatch, tiny_synth_settings):
    settings = replace(tiny_synth_settings, per_word=3, unknown_per_voice=1)
    monkeypatch.setenv("KWS_NAS_DATA_DIR", str(tmp_path / "default"))
    folder = ensure_default_dataset(settings, progress=False)
    assert folder == tmp_path / "default" and (folder / MARKER).is_file()
    stamp = (folder / MARKER).stat().st_mtime_ns
    assert ensure_default_dataset(settings, progress=False) == folder
    assert (folder / MARKER).stat().st_mtime_ns == stamp  # reused, not regenerated

    (folder / MARKER).unlink()  # as if killed before the end
    (folder / ".synth_in_progress").write_text("")
    (folder / "yes" / "leftover_nohash_0.wav").write_bytes(b"half")
    ensure_default_dataset(settings, progress=False)
    assert (folder / MARKER).is_file() and not (folder / "yes" / "leftover_nohash_0.wav").exists()


def test_babble_bed_is_written_and_mixed_under_the_words(tiny_dataset_dir, tiny_synth_settings, tmp_path):
    bed = tiny_dataset_dir / "_background_noise_" / f"{BABBLE}.wav"
    with wave.open(str(bed)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768.0
    assert abs(np.sqrt(np.mean(x**2)) - 0.1) < 0.01  # scaled like the other beds (NOISE_RMS)
    small = replace(tiny_synth_settings, per_word=3, unknown_per_voice=0)
    without = generate(tmp_path / "without", replace(small, babble_share=0.0), progress=False)
    always = generate(tmp_path / "always", replace(small, babble_share=1.0), progress=False)
    assert not (without / "_background_noise_" / f"{BABBLE}.wav").exists()
    # the same words, voices and levels: only the noise under them differs
    quiet, babbled = _files(without), _files(always)
    clips = [rel for rel in quiet if rel.endswith("_nohash_0.wav")]
    assert clips and all(quiet[rel] != babbled[rel] for rel in clips)


def test_bad_babble_share_is_one_clear_error():
    with pytest.raises(ConfigError, match=r"^synth: babble_share must be in \[0, 1\], got 1.5$"):
        SynthSettings(babble_share=1.5)
