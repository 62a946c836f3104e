"""Detections on a labelled long recording under several post-processing settings, from one model pass.

Runs the stream's features and the int8 model once (`nas.stream.runner`, TFLite Micro on the host),
then RecognizeCommands with micro_speech's defaults and the variations given, and prints hit rate,
false alarms per hour and the mean delay from word end to detection for each. Make the inputs with
`kws-nas data stream --out S.wav` and `kws-nas export`:

    .venv/bin/python benchmarks/bench_stream.py S.wav S.csv MODEL.tflite [--stride-ms 100]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from nas.data.wav import read_wav
from nas.stream.metrics import keyword_detections, read_labels, score
from nas.stream.postprocess import PostprocessConfig, detections, softmax_table
from nas.stream.runner import TflmHostRunner, stream_outputs
from nas.train.evaluate_cli import tflite_candidate

SETTINGS = {  # name → PostprocessConfig overrides
    "micro_speech defaults": {},
    "average 500 ms": {"average_window_ms": 500},
    "average 500 ms, threshold 150": {"average_window_ms": 500, "detection_threshold": 150},
    "average 300 ms, threshold 150": {"average_window_ms": 300, "detection_threshold": 150},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wav", type=Path)
    parser.add_argument("labels", type=Path)
    parser.add_argument("model", type=Path)
    parser.add_argument("--stride-ms", type=int, default=100)
    args = parser.parse_args()

    model, candidate = tflite_candidate(args.model, None)
    runner = TflmHostRunner(model)
    samples = read_wav(args.wav, candidate.frontend.sample_rate)
    start = time.perf_counter()
    times, outputs = stream_outputs(samples, candidate.frontend, runner, args.stride_ms)
    seconds = time.perf_counter() - start
    names = [line.strip() for line in args.model.with_name("labels.txt").read_text().splitlines() if line.strip()]
    keywords = [n for n in names if not n.startswith("_")]
    words = read_labels(args.labels)
    table = softmax_table(runner.output.scale)
    rows = []
    for name, overrides in SETTINGS.items():
        dets = keyword_detections(detections(outputs, times, PostprocessConfig(**overrides), table), names, keywords)
        m = score(dets, words, keywords, len(samples) / candidate.frontend.sample_rate)
        rows.append({"post-processing": name, "hit rate %": 100 * m["hit_rate"], "hits": m["hits"],
                     "keywords": m["keywords"], "false alarms": m["false_alarms"],
                     "FA per hour": m["false_alarms_per_hour"], "mean delay s": m["mean_delay_s"]})
    duration = len(samples) / candidate.frontend.sample_rate
    print(f"{args.wav.name}: {duration / 60:.1f} min, {len(outputs)} inferences every {args.stride_ms} ms, "
          f"features + model in {seconds:.1f} s on the host")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print("generated speech: these figures say whether the pipeline works, not how it does on people")


if __name__ == "__main__":
    main()
