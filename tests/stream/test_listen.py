"""`kws-nas listen`: a wav fed in microphone-sized blocks detects what `kws-nas stream` detects on it whole."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nas.cli import main
from nas.data.wav import write_wav

SECONDS = 60


@pytest.fixture(scope="module")
def minute_wav(labelled_stream, tmp_path_factory):
    _, _, samples, _ = labelled_stream
    path = tmp_path_factory.mktemp("listen") / "minute.wav"
    write_wav(path, samples[: SECONDS * 16000])
    return path


def detection_lines(out: str) -> list[tuple[float, str, int]]:
    rows = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[1] == "s" and parts[3] == "score":
            rows.append((float(parts[0]), parts[2], int(parts[4].split("/")[0])))
    return rows


def test_file_source_matches_stream(capsys, minute_wav, stream_model):
    model = stream_model / "model.tflite"
    flags = ["--threshold", "100", "--minimum-count", "1", "--stride-ms", "200"]
    assert main(["stream", str(minute_wav), "--model", str(model), "--json", *flags]) == 0
    expected = [(d["time_s"], d["label"], d["score"]) for d in json.loads(capsys.readouterr().out)["detections"]]
    assert main(["listen", str(model), "--input-file", str(minute_wav), *flags]) == 0
    out = capsys.readouterr().out
    got = [(round(t, 2), label, score) for t, label, score in detection_lines(out)]
    assert expected, "the model should detect something in a minute of keywords at threshold 100"
    assert got == [(round(t, 2), label, score) for t, label, score in expected]
    assert out.splitlines()[-1] == f"{len(expected)} detections in {SECONDS:.1f} s of audio"


def test_seconds_stops_early(capsys, minute_wav, stream_model):
    code = main(["listen", str(stream_model / "model.tflite"), "--input-file", str(minute_wav),
                 "--seconds", "12.5", "--threshold", "100"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[-1].endswith("detections in 12.5 s of audio")
    assert all(t <= 12.5 for t, _, _ in detection_lines(out))


def test_missing_audio_input_is_one_error_line(capsys, stream_model):
    """No sounddevice, no PortAudio or no such device: whichever this machine lacks, one line and exit 2."""
    code = main(["listen", str(stream_model / "model.tflite"), "--device", "987654"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kws-nas listen: error: listen: ")
    assert any(word in lines[0] for word in ("sounddevice", "PortAudio", "987654"))


def test_listener_is_independent_of_block_size(minute_wav, stream_model):
    from nas.data.speech_commands import LABELS
    from nas.data.wav import read_wav, to_pcm16
    from nas.stream.listen import Listener
    from nas.stream.postprocess import PostprocessConfig
    from nas.stream.runner import TflmHostRunner
    from nas.train.evaluate_cli import tflite_candidate

    model, candidate = tflite_candidate(stream_model / "model.tflite", None)
    samples = to_pcm16(read_wav(minute_wav, 16000))  # the whole minute: a shorter cut may hold no detection
    config = PostprocessConfig(detection_threshold=100, minimum_count=1)
    found = []
    for block in (1600, 4000, 777):
        runner = TflmHostRunner(model)
        listener = Listener(candidate.frontend, runner, config, LABELS, 100)
        found.append([d for start in range(0, len(samples), block) for d in listener.feed(samples[start : start + block])])
        assert listener.received == len(samples)
    assert found[0] and found[0] == found[1] == found[2]
    assert np.all(np.diff([d.time_s for d in found[0]]) > 0)
