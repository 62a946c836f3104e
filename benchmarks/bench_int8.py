"""DS-CNN float vs full-int8 accuracy on generated speech (goal: int8 within 0.5-1 point of float).

Generates a Speech Commands-style dataset with espeak-ng (``nas.data.synth``; reused when ``--data``
points at one), extracts the default Hello Edge features (cached), trains Hello Edge's small DS-CNN
with ``nas.train.train`` for ``--epochs`` epochs, converts it to full int8 with ``nas.export`` and prints
float, TFLite Micro int8 and TFLite int8 accuracy on the same validation and test clips, plus the
.tflite size and the TFLite Micro arena. Generated speech ranks models and checks the pipeline; it says
little about accuracy on people.

    .venv/bin/python benchmarks/bench_int8.py [--data DIR] [--per-word 300] [--epochs 20]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nas.data.cache import load_features
from nas.data.frontend_config import FrontEndConfig
from nas.data.synth import SynthSettings, generate
from nas.export import deploy_footprint, int8_accuracy
from nas.spaces import build_model, candidate_from_model_size_info
from nas.train import TrainConfig, train

DS_CNN_SMALL = [5, 64, 10, 4, 2, 2, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="an existing dataset (default: generate one)")
    parser.add_argument("--per-word", type=int, default=300, help="voices per keyword when generating")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "kws_bench_int8")
    args = parser.parse_args()

    data = args.data
    if data is None:
        data = args.out / f"speech_commands_{args.per_word}"
        if not (data / "validation_list.txt").is_file():
            generate(data, SynthSettings(per_word=args.per_word, workers=2))
    frontend = FrontEndConfig()
    splits = {s: load_features(data, frontend, s) for s in ("train", "validation", "test")}
    candidate = candidate_from_model_size_info("ds_cnn", DS_CNN_SMALL, frontend)
    model = build_model(candidate)
    start = time.perf_counter()
    result = train(model, splits["train"], splits["validation"], TrainConfig(epochs=args.epochs, lr_phases=(1e-3, 3e-4, 1e-4)))
    model.load_state_dict(result.best_state_dict)
    print(f"trained {candidate.describe()} for {len(result.history)} epochs in {time.perf_counter() - start:.0f} s "
          f"on {len(splits['train'].labels)} clips of generated speech ({data})")
    tflite_path = args.out / "ds_cnn_small.tflite"
    scored = {s: splits[s] for s in ("validation", "test")}
    accuracy = int8_accuracy(model, candidate, scored, tflite_path, calibration=splits["train"])
    print(f"{'split':<11} {'clips':>6} {'float %':>8} {'int8 TFLM %':>12} {'int8 TFLite %':>14} {'int8 - float':>13}")
    for split in ("validation", "test"):
        a = accuracy[split]
        print(f"{split:<11} {a['n']:>6} {100 * a['float']:>8.2f} {100 * a['int8']:>12.2f} "
              f"{100 * a['int8_tflite']:>14.2f} {100 * (a['int8'] - a['float']):>+12.2f}")
    footprint = deploy_footprint(tflite_path)
    print(f".tflite {footprint['flash_bytes']} bytes, TFLite Micro arena {footprint['arena_bytes']} bytes "
          f"(activations {footprint['activation_bytes']}); ops: {', '.join(accuracy['ops'])}")
    print("goal: int8 within 0.5-1 point of float. Generated speech: the figure checks the pipeline and "
          "ranks models; it says little about accuracy on people.")


if __name__ == "__main__":
    main()
