"""The labelled long recording: words where the labels say, in order, apart; `kws-nas data stream` writes both files."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from nas.cli import main
from nas.data.long_stream import StreamSettings, build_stream, word_extent
from nas.data.speech_commands import KEYWORDS
from nas.data.wav import read_wav
from nas.errors import ConfigError


def test_word_extent_finds_the_loud_part():
    clip = np.full(16000, 1e-4, np.float32)
    clip[4000:9000] = 0.5 * np.sin(np.arange(5000) * 0.3)
    start, end = word_extent(clip, 16000)
    assert abs(start - 4000) <= 160 and abs(end - 9000) <= 160


def test_words_lie_where_the_labels_say(tiny_dataset_dir):
    settings = StreamSettings(seconds=90, split="train", seed=3)
    samples, labels = build_stream(tiny_dataset_dir, settings)
    assert len(samples) == 90 * 16000 and len(labels) >= 15
    starts = np.array([row["time_s"] for row in labels])
    ends = np.array([row["end_s"] for row in labels])
    assert np.all(ends > starts) and np.all(starts[1:] - ends[:-1] >= settings.gap_s[0])
    assert 0.4 < np.mean([row["label"] in KEYWORDS for row in labels]) < 0.95
    inside = np.zeros(len(samples), bool)
    for s, e in zip(starts, ends):
        inside[int(s * 16000) : int(e * 16000)] = True
    assert np.sqrt(np.mean(samples[inside] ** 2)) > 5 * np.sqrt(np.mean(samples[~inside] ** 2))
    again, same = build_stream(tiny_dataset_dir, settings)
    assert np.array_equal(again, samples) and same == labels


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="keyword_share"):
        StreamSettings(keyword_share=1.5)
    with pytest.raises(ConfigError, match="seconds"):
        StreamSettings(seconds=1)


def test_cli_writes_wav_and_labels(tiny_dataset_dir, tmp_path, capsys):
    out = tmp_path / "s.wav"
    assert main(["data", "stream", "--out", str(out), "--data", str(tiny_dataset_dir), "--minutes", "0.5",
                 "--split", "train"]) == 0
    assert len(read_wav(out)) == 30 * 16000
    with out.with_suffix(".csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows and set(rows[0]) == {"time_s", "end_s", "label"}
    assert "keywords" in capsys.readouterr().out
    assert main(["data", "stream", "--out", str(tmp_path / "s.mp3"), "--data", str(tiny_dataset_dir)]) == 2
    assert "expected a file name ending in .wav" in capsys.readouterr().err
