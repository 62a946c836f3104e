"""The Speech Commands loader on real files: a generated dataset, edited copies of it, and real clips."""
from __future__ import annotations

import csv
import hashlib
import math
import shutil
from collections import Counter

import numpy as np
import pytest

from nas.data.augment import AugmentConfig, augment
from nas.data.speech_commands import KEYWORDS, LABELS, ClipRef, SpeechCommands
from nas.data.splits import hash_split
from nas.data.wav import write_wav
from nas.errors import DataError

SPLIT_OF_LIST = {"validation_list.txt": "validation", "testing_list.txt": "test"}


def reference_hash_split(file_name: str) -> str:
    """TensorFlow's which_set, written out again here so the test does not trust the code under test."""
    speaker = file_name.split("_nohash_")[0]
    value = int(hashlib.sha1(speaker.encode()).hexdigest(), 16) % 2**27 * (100.0 / (2**27 - 1))
    return "validation" if value < 10 else "test" if value < 20 else "train"


def listed(root) -> dict[str, str]:
    return {line: split for name, split in SPLIT_OF_LIST.items()
            for line in (root / name).read_text().split()}


@pytest.fixture
def dataset_copy(tiny_dataset_dir, tmp_path):
    return shutil.copytree(tiny_dataset_dir, tmp_path / "copy")


def test_split_membership_follows_the_list_files(tiny_dataset_dir):
    lists = listed(tiny_dataset_dir)
    ds = SpeechCommands(tiny_dataset_dir)
    for split in ("train", "validation", "test"):
        files = [r.file for r in ds.index(split) if r.silence_offset < 0]
        assert files, split
        assert all(lists.get(f, "train") == split for f in files)
    assert {f for s in ("validation", "test") for r in ds.index(s) for f in [r.file]} >= \
        {f for f in lists if f.split("/")[0] in KEYWORDS}


def test_generated_lists_agree_with_the_hash_rule(tiny_dataset_dir):
    lists = listed(tiny_dataset_dir)
    for path in tiny_dataset_dir.glob("*/*_nohash_*.wav"):
        rel = path.relative_to(tiny_dataset_dir).as_posix()
        assert lists.get(rel, "train") == reference_hash_split(path.name), rel


def test_unlisted_files_are_split_by_the_hash_rule(dataset_copy):
    speakers = {}
    for n in range(500):  # find a new speaker for each split with the test's own hash rule
        speakers.setdefault(reference_hash_split(f"{n:08x}_nohash_0.wav"), f"{n:08x}")
    assert len(speakers) == 3
    clip = next((dataset_copy / "yes").iterdir()).read_bytes()
    for speaker in speakers.values():
        (dataset_copy / "yes" / f"{speaker}_nohash_0.wav").write_bytes(clip)
    ds = SpeechCommands(dataset_copy)
    for split, speaker in speakers.items():
        assert f"yes/{speaker}_nohash_0.wav" in {r.file for r in ds.index(split)}


def test_without_list_files_the_split_is_the_same(tiny_dataset_dir, dataset_copy):
    for name in SPLIT_OF_LIST:
        (dataset_copy / name).unlink()
    with_lists, without = SpeechCommands(tiny_dataset_dir), SpeechCommands(dataset_copy)
    for split in ("train", "validation", "test"):
        assert [r.file for r in with_lists.index(split)] == [r.file for r in without.index(split)]


def test_hash_rule_puts_every_real_test_speaker_in_test(real_data_dir):
    # The official testing_list.txt was made with the hash rule: every speaker of the official test
    # set must hash to "test". This checks our hash_split against data, not against itself.
    with open(real_data_dir / "manifest.csv") as f:
        speakers = {row["speaker"] for row in csv.DictReader(f) if row["speaker"]}
    assert len(speakers) == 120
    assert {hash_split(s) for s in speakers} == {"test"}


@pytest.mark.parametrize("unknown_percent, silence_percent", [(10.0, 10.0), (25.0, 5.0), (0.0, 50.0)])
def test_unknown_and_silence_shares_follow_the_settings(tiny_dataset_dir, unknown_percent, silence_percent):
    ds = SpeechCommands(tiny_dataset_dir, unknown_percent=unknown_percent, silence_percent=silence_percent)
    counts = Counter(r.label for r in ds.index("train"))
    keywords = sum(counts[LABELS.index(w)] for w in KEYWORDS)
    available_unknown = sum(
        1 for p in tiny_dataset_dir.glob("*/*.wav")
        if p.parent.name not in KEYWORDS and not p.parent.name.startswith("_")
        and listed(tiny_dataset_dir).get(p.relative_to(tiny_dataset_dir).as_posix(), "train") == "train")
    assert keywords == 10 * len({p.name for p in (tiny_dataset_dir / "yes").glob("*.wav")} -
                                {r.split("/")[1] for r in listed(tiny_dataset_dir)})
    assert counts[LABELS.index("_unknown_")] == min(math.ceil(keywords * unknown_percent / 100), available_unknown)
    assert counts[LABELS.index("_silence_")] == math.ceil(keywords * silence_percent / 100)


def test_silence_is_cut_from_background_noise(tiny_dataset_dir):
    ds = SpeechCommands(tiny_dataset_dir, silence_percent=50.0)
    clips = ds.clips("train")
    silence = clips.waveforms[clips.labels == 0]
    noise = np.concatenate(list(ds.background_noise.values()))
    assert len(silence) > 0 and (np.abs(silence).max(axis=1) > 0).all()
    assert np.sqrt((silence**2).mean()) <= np.sqrt((noise**2).mean())  # gains are at most 1
    assert len({tuple(np.round(s[:8], 5)) for s in silence}) == len(silence)  # all different stretches


def test_silence_is_zeros_without_background_noise(dataset_copy):
    shutil.rmtree(dataset_copy / "_background_noise_")
    clips = SpeechCommands(dataset_copy).clips("validation")
    assert (clips.labels == 0).any()
    assert not clips.waveforms[clips.labels == 0].any()


def test_same_seed_same_clips_other_seed_other_silence(tiny_dataset_dir):
    a, b, c = (SpeechCommands(tiny_dataset_dir, seed=s) for s in (0, 0, 1))
    assert a.index("train") == b.index("train")
    np.testing.assert_array_equal(a.clips("train").waveforms, b.clips("train").waveforms)
    assert [r for r in a.index("train") if r.label == 0] != [r for r in c.index("train") if r.label == 0]


def test_clip_set_matches_the_contract(tiny_dataset_dir):
    clips = SpeechCommands(tiny_dataset_dir).clips("train")
    assert clips.waveforms.dtype == np.float32 and clips.waveforms.shape[1] == 16000
    assert clips.labels.dtype == np.int64 and len(clips.labels) == len(clips.files) == len(clips.waveforms)
    assert set(clips.labels.tolist()) == set(range(12))
    assert np.abs(clips.waveforms).max() <= 1.0
    for label, name in zip(clips.labels, clips.files):
        folder = name.split("/")[0]
        assert LABELS[label] == (folder if folder in LABELS else "_unknown_")


# --- augmentation ---------------------------------------------------------------------------------

def _shifted(x: np.ndarray, shift: int) -> np.ndarray:
    out = np.zeros_like(x)
    if shift >= 0:
        out[shift:] = x[: len(x) - shift]
    else:
        out[:shift] = x[-shift:]
    return out


def test_augmentation_is_deterministic_under_a_seed_and_differs_across_seeds(tiny_dataset_dir):
    ds = SpeechCommands(tiny_dataset_dir)
    x = ds.clips("train").waveforms[:16]
    noises = list(ds.background_noise.values())
    first = augment(x, noises, np.random.default_rng(3))
    np.testing.assert_array_equal(first, augment(x, noises, np.random.default_rng(3)))
    assert not np.array_equal(first, augment(x, noises, np.random.default_rng(4)))


def test_time_shift_is_a_zero_filled_shift_of_at_most_100_ms(tiny_dataset_dir):
    x = SpeechCommands(tiny_dataset_dir).clips("train").waveforms[:20]
    out = augment(x, [], np.random.default_rng(0), AugmentConfig(background_share=0.0))
    shifts = []
    for original, moved in zip(x, out):
        match = [s for s in range(-1600, 1601) if np.array_equal(_shifted(original, s), moved)]
        assert match, "augmented clip is not a shift of ≤ 100 ms of its original"
        shifts.append(match[0])
    assert len(set(shifts)) > 5


def test_background_noise_goes_on_the_configured_share(tiny_dataset_dir):
    ds = SpeechCommands(tiny_dataset_dir)
    x = np.zeros((400, 16000), dtype=np.float32)  # silent clips: whatever appears is the noise
    noises = list(ds.background_noise.values())
    out = augment(x, noises, np.random.default_rng(0), AugmentConfig(time_shift_ms=0, background_share=0.8))
    noisy = np.abs(out).max(axis=1) > 0
    assert 0.7 < noisy.mean() < 0.9
    peak_noise = max(np.abs(n).max() for n in noises)
    assert np.abs(out).max() <= 0.1 * peak_noise + 1e-6  # volume drawn from U(0, 0.1)


# --- the official test-set archive -----------------------------------------------------------------

def test_real_test_archive_loads_with_the_manifest_counts(real_data_dir):
    with open(real_data_dir / "manifest.csv") as f:
        manifest = Counter(row["label"] for row in csv.DictReader(f))
    ds = SpeechCommands(real_data_dir)
    assert ds.layout == "test_archive"
    assert ds.index("train") == [] and ds.index("validation") == []
    assert Counter(LABELS[r.label] for r in ds.index("test")) == manifest
    assert sum(manifest.values()) == 2351
    refs = ds.index("test")[::200]
    clips = ds.load(refs)
    assert clips.waveforms.shape == (len(refs), 16000) and np.abs(clips.waveforms).max() > 0.01
    with pytest.raises(DataError, match="split 'train' holds no clips.*split_test_archive"):
        ds.clips("train")


def test_real_test_archive_splits_by_speaker_on_request(real_data_dir):
    ds = SpeechCommands(real_data_dir, split_test_archive=True, validation_percent=20, testing_percent=20)
    speakers = {split: {r.file.split("/")[-1].split("_nohash_")[0].split("_")[-1]
                        for r in ds.index(split) if r.label != 0} for split in ("train", "validation", "test")}
    assert all(speakers.values())
    assert not (speakers["train"] & speakers["validation"] or speakers["train"] & speakers["test"]
                or speakers["validation"] & speakers["test"])
    assert sum(len(ds.index(s)) for s in speakers) == 2351


# --- bad input --------------------------------------------------------------------------------------

def test_missing_dataset_folder_is_named(tmp_path):
    with pytest.raises(DataError, match=r"nowhere: dataset folder does not exist"):
        SpeechCommands(tmp_path / "nowhere")


def test_empty_class_folder_is_named(dataset_copy):
    (dataset_copy / "stop_extra").mkdir()
    with pytest.raises(DataError, match=r"stop_extra: class folder holds no \.wav files"):
        SpeechCommands(dataset_copy)


def test_missing_list_file_is_named(dataset_copy):
    (dataset_copy / "testing_list.txt").unlink()
    with pytest.raises(DataError, match=r"testing_list\.txt: missing; expected it beside validation_list\.txt"):
        SpeechCommands(dataset_copy)


def test_folder_without_keywords_is_rejected(tmp_path):
    (tmp_path / "bed").mkdir()
    write_wav(tmp_path / "bed" / "aaaa_nohash_0.wav", np.zeros(16000))
    with pytest.raises(DataError, match="no keyword folders"):
        SpeechCommands(tmp_path)


def test_corrupt_clip_is_named_when_loading(dataset_copy):
    ds_files = [r.file for r in SpeechCommands(dataset_copy).index("train") if r.label == LABELS.index("go")]
    (dataset_copy / ds_files[0]).write_bytes(b"RIFF\x00\x00")
    with pytest.raises(DataError, match=ds_files[0].split("/")[1]):
        SpeechCommands(dataset_copy).clips("train")


def test_clips_up_to_twice_a_clip_are_cropped_and_longer_ones_refused(tmp_path):
    """A 10-minute file in a word folder was cut to its first second and trained on; 2 s is the bound."""
    (tmp_path / "yes").mkdir()
    write_wav(tmp_path / "yes" / "aaaa_nohash_0.wav", np.full(32000, 0.25))  # 2.0 s: cropped
    write_wav(tmp_path / "yes" / "bbbb_nohash_0.wav", np.full(32016, 0.25))  # 2.001 s: refused
    dataset = SpeechCommands(tmp_path, silence_percent=0)
    cropped = dataset.load([ClipRef("yes/aaaa_nohash_0.wav", LABELS.index("yes"))])
    assert cropped.waveforms.shape == (1, 16000) and np.allclose(cropped.waveforms, 0.25, atol=1e-4)
    with pytest.raises(DataError, match=r"bbbb_nohash_0\.wav: 2\.001 s of audio; expected a clip of at most 2 s; "
                                        r"`kws-nas data check .*` lists every bad file"):
        dataset.load([ClipRef("yes/bbbb_nohash_0.wav", LABELS.index("yes"))])
