"""The feature cache: exact features, reuse, invalidation, augmented copies, atomic files."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch

from nas.data.cache import dataset_fingerprint, load_features
from nas.data.frontend import MfccFrontEnd
from nas.data.frontend_config import FrontEndConfig
from nas.data.speech_commands import SpeechCommands
from nas.errors import ConfigError

FE = FrontEndConfig()


@pytest.fixture
def dataset(tiny_dataset_dir, tmp_path, monkeypatch):
    # A pristine copy, and a user cache folder of its own: other tests featurise the shared dataset.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return shutil.copytree(tiny_dataset_dir, tmp_path / "ds")


def _files(folder):
    return sorted((p.relative_to(folder).as_posix(), p.stat().st_mtime_ns) for p in folder.rglob("*"))


def test_features_are_the_front_ends_int8_features_of_the_clips(dataset):
    fs = load_features(dataset, FE, "validation", progress=False)
    clips = SpeechCommands(dataset).clips("validation")
    expected = MfccFrontEnd(FE).features(torch.from_numpy(clips.waveforms))
    assert fs.features.dtype == torch.float32 and fs.features.shape == (len(clips.labels), 49, 10)
    assert torch.equal(fs.features, expected)
    assert torch.equal(fs.labels, torch.from_numpy(clips.labels)) and fs.labels.dtype == torch.int64
    assert fs.files == clips.files


def test_second_call_extracts_nothing(dataset):
    first = load_features(dataset, FE, "train", progress=False)
    second = load_features(dataset, FE, "train", progress=False)
    assert first.extracted_clips == len(first.labels) > 0
    assert second.extracted_clips == 0
    assert torch.equal(first.features, second.features) and torch.equal(first.labels, second.labels)
    assert first.cache_file == second.cache_file
    assert first.cache_file.parent == dataset.parent / "xdg" / "kws-nas" / "features"  # the user's cache folder
    assert not [p for p in first.cache_file.parent.iterdir() if p.name.endswith(".tmp")]


def test_other_front_end_settings_extract_again(dataset):
    load_features(dataset, FE, "test", progress=False)
    other = load_features(dataset, FrontEndConfig(n_mfcc=13, stride_ms=40.0), "test", progress=False)
    assert other.extracted_clips > 0 and other.features.shape[1:] == (25, 13)


def test_a_changed_file_changes_the_fingerprint_and_extracts_again(dataset):
    before = dataset_fingerprint(dataset)
    load_features(dataset, FE, "test", progress=False)
    clip = next((dataset / "yes").iterdir())
    os.utime(clip, ns=(clip.stat().st_atime_ns, clip.stat().st_mtime_ns + 10**9))
    assert dataset_fingerprint(dataset) != before
    assert load_features(dataset, FE, "test", progress=False).extracted_clips > 0


def test_the_cache_folder_itself_does_not_change_the_fingerprint(dataset):
    before = dataset_fingerprint(dataset)
    load_features(dataset, FE, "test", progress=False)
    assert dataset_fingerprint(dataset) == before


def test_augmented_copies_follow_the_originals_and_depend_on_the_seed(dataset, tmp_path):
    plain = load_features(dataset, FE, "train", progress=False)
    n = len(plain.labels)
    aug = load_features(dataset, FE, "train", augment_copies=2, seed=0, progress=False)
    again = load_features(dataset, FE, "train", augment_copies=2, seed=0, batch_size=7, cache_dir=tmp_path / "c2",
                          progress=False)
    other = load_features(dataset, FE, "train", augment_copies=2, seed=5, progress=False)
    assert aug.features.shape[0] == 3 * n and aug.extracted_clips == 3 * n
    assert torch.equal(aug.features[:n], plain.features)
    assert torch.equal(aug.labels, plain.labels.repeat(3))
    for copy in (1, 2):
        assert not torch.equal(aug.features[copy * n : (copy + 1) * n], plain.features)
    assert not torch.equal(aug.features[n : 2 * n], aug.features[2 * n :])
    assert again.extracted_clips == 3 * n and torch.equal(again.features, aug.features)  # batching is irrelevant
    assert not torch.equal(other.features[n:], aug.features[n:])


def test_validation_is_never_augmented(dataset):
    fs = load_features(dataset, FE, "validation", augment_copies=3, progress=False)
    assert torch.equal(fs.features, load_features(dataset, FE, "validation", progress=False).features)


def test_cache_dir_is_honoured(dataset, tmp_path):
    fs = load_features(dataset, FE, "test", cache_dir=tmp_path / "elsewhere", progress=False)
    assert fs.cache_file.parent == tmp_path / "elsewhere" and fs.cache_file.is_file()
    assert not (tmp_path / "xdg").exists()


def test_a_damaged_cache_file_is_extracted_again(dataset):
    fs = load_features(dataset, FE, "test", progress=False)
    fs.cache_file.write_bytes(b"half a file")
    again = load_features(dataset, FE, "test", progress=False)
    assert again.extracted_clips == len(fs.labels) and torch.equal(again.features, fs.features)


def test_negative_copies_are_rejected(dataset):
    with pytest.raises(ConfigError, match="augment_copies must be >= 0"):
        load_features(dataset, FE, "train", augment_copies=-1, progress=False)


def test_real_clips_featurise(real_data_dir, tmp_path):
    ds = SpeechCommands(real_data_dir, split_test_archive=True)
    fs = load_features(ds, FE, "validation", cache_dir=tmp_path, progress=False)
    assert fs.features.shape == (len(ds.index("validation")), 49, 10)
    assert np.isfinite(fs.features.numpy()).all() and fs.features.std() > 0.5


def test_the_dataset_folder_is_never_written_to(dataset, tmp_path):
    before = _files(dataset)
    os.chmod(dataset, 0o555)  # read-only (root writes anyway: the file listing is what is checked)
    try:
        fs = load_features(dataset, FE, "test", progress=False)
    finally:
        os.chmod(dataset, 0o755)
    assert fs.cache_file.parent == tmp_path / "xdg" / "kws-nas" / "features" and fs.cache_file.is_file()
    assert _files(dataset) == before
