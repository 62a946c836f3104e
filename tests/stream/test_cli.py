"""`kws-nas stream`: detections, metrics against labels, files written, and one-line errors on bad input."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from nas.cli import main
from nas.data.speech_commands import KEYWORDS
from nas.data.wav import write_wav
from nas.stream.metrics import Detection, Word, score

CLIP_S = 60


@pytest.fixture(scope="module")
def minute(labelled_stream, tmp_path_factory):
    """The stream's first minute and its labels, as a wav and a CSV."""
    _, _, samples, labels = labelled_stream
    folder = tmp_path_factory.mktemp("minute")
    write_wav(folder / "minute.wav", samples[: CLIP_S * 16000])
    with (folder / "minute.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["time_s", "end_s", "label"])
        writer.writeheader()
        writer.writerows(row for row in labels if row["end_s"] < CLIP_S)
    return folder


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["stream", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_detections_metrics_and_files(capsys, minute, stream_model, tmp_path):
    model = stream_model / "model.tflite"
    code, out, err = run_cli(capsys, minute / "minute.wav", "--model", model, "--labels", minute / "minute.csv",
                             "--json", "--out", tmp_path, "--threshold", "100", "--minimum-count", "1")
    assert code == 0, err
    result = json.loads(out)
    times = [d["time_s"] for d in result["detections"]]
    assert times == sorted(times) and all(1.0 <= t <= CLIP_S for t in times)
    assert all(set(d) == {"time_s", "label", "score"} and 100 < d["score"] <= 255 for d in result["detections"])
    assert all(not d["label"].startswith("_") for d in result["detections"])
    metrics = result["metrics"]
    assert metrics["hits"] + metrics["false_alarms"] == len(times)
    assert metrics["keywords"] == sum(r["label"] in KEYWORDS for r in csv.DictReader((minute / "minute.csv").open()))
    assert metrics["false_alarms_per_hour"] == pytest.approx(metrics["false_alarms"] * 3600 / CLIP_S)
    with (tmp_path / "detections.csv").open() as f:
        assert len(list(csv.DictReader(f))) == len(times)
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert (tmp_path / "minute_posteriors.html").is_file()


def test_text_output_of_a_folder(capsys, minute, stream_model, tmp_path):
    folder = tmp_path / "wavs"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.wav").write_bytes((minute / "minute.wav").read_bytes())
    code, out, err = run_cli(capsys, folder, "--model", stream_model / "model.tflite", "--threshold", "100")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[-1].endswith("detections")
    count = int(lines[-1].split()[0])
    assert count % 2 == 0 and sum(line.startswith("a.wav") for line in lines) == count // 2


def test_metrics_match_each_word_once_and_count_the_rest_as_false_alarms():
    words = [Word(1.0, 1.5, "yes"), Word(5.0, 5.4, "no"), Word(9.0, 9.5, "tree")]
    dets = [Detection(1.8, "yes", 230), Detection(2.2, "yes", 220),  # the second finds no unmatched "yes"
            Detection(5.3, "up", 210),  # the wrong word
            Detection(6.2, "no", 240),  # 0.8 s after the end: within 1 s
            Detection(9.4, "go", 250)]  # a non-keyword said
    m = score(dets, words, KEYWORDS, duration_s=1800.0)
    assert (m["keywords"], m["hits"], m["false_alarms"]) == (2, 2, 3)
    assert m["hit_rate"] == 1.0 and m["false_alarms_per_hour"] == 6.0
    assert m["mean_delay_s"] == pytest.approx((0.3 + 0.8) / 2)
    assert score(dets, words, KEYWORDS, 1800.0, match_ms=500)["hits"] == 1


def test_bad_input_is_one_line(capsys, minute, stream_model, tmp_path):
    model = stream_model / "model.tflite"
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    short = tmp_path / "short.wav"
    write_wav(short, np.zeros(8000, np.float32))
    other_card = tmp_path / "card.json"
    card = json.loads((stream_model / "model_card.json").read_text())
    card["candidate"]["frontend"]["stride_ms"] = 40.0
    other_card.write_text(json.dumps(card))
    bad_labels = tmp_path / "labels.csv"
    bad_labels.write_text("when,what\n1,yes\n")
    cases = [
        ((tmp_path / "missing.wav", "--model", model), "missing.wav: no such file"),
        ((corrupt, "--model", model), "corrupt.wav"),
        ((short, "--model", model), "expected at least 1 s"),
        ((minute / "minute.wav", "--model", tmp_path / "none.tflite"), "none.tflite"),
        ((minute / "minute.wav", "--model", model, "--frontend", other_card), "front end of"),
        ((minute / "minute.wav", "--model", model, "--threshold", "300"), "detection_threshold"),
        ((minute / "minute.wav", "--model", model, "--stride-ms", "30"), "multiple of the front end"),
        ((minute / "minute.wav", "--model", model, "--labels", bad_labels), "labels.csv:2"),
        ((minute / "minute.wav", "--model", model, "--port", "socket://127.0.0.1:1"), "--port needs --board"),
        ((minute / "minute.wav", "--model", model, "--board", "serial"), "give its serial port"),
    ]
    for argv, expected in cases:
        code, out, err = run_cli(capsys, *argv)
        assert code == 2 and out == "", argv
        assert len(err.strip().splitlines()) == 1 and expected in err, (argv, err)


def test_the_emulated_board_prints_what_the_host_prints(capsys, minute, stream_model, tmp_path):
    import shutil

    from nas.data.wav import read_wav

    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    model = stream_model / "model.tflite"
    argv = ("--model", model, "--json", "--threshold", "100", "--minimum-count", "1", "--average-ms", "300")
    code, out, err = run_cli(capsys, minute / "minute.wav", *argv)
    assert code == 0, err
    first = json.loads(out)["detections"][0]["time_s"]
    # 3.5 s around the minute's first detection, cut at a whole hop so that the windows stay the same
    start = max(0, int(first - 2.0) * 16000)
    clip = tmp_path / "clip.wav"
    write_wav(clip, read_wav(minute / "minute.wav", 16000)[start : start + 56000])
    code, host_out, err = run_cli(capsys, clip, *argv)
    assert code == 0, err
    assert json.loads(host_out)["detections"]  # something to compare
    code, board_out, err = run_cli(capsys, clip, *argv, "--board", "mps2_an500")
    assert code == 0, err
    assert json.loads(board_out) == json.loads(host_out)
