"""Honest accuracy: a model trained on generated speech only, scored on real people's clips.

Takes the best feasible candidate of a search (``--results results/ds_cnn_small``, the demo's study),
or Hello Edge's small DS-CNN when no search has run, retrains it from scratch on the default generated
dataset (longer than a search trial), and prints its accuracy on the generated test split and on the
real Speech Commands v0.02 test clips beside the repository (``../shared/data/``, or
``KWS_NAS_REAL_DATA``). Those real clips exist on development and CI machines only.

    .venv/bin/python benchmarks/bench_real_speech.py [--results DIR] [--epochs 30]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


from nas.data.cache import load_features
from nas.data.frontend_config import FrontEndConfig
from nas.data.synth import ensure_default_dataset
from nas.spaces import Candidate, build_model, candidate_from_model_size_info
from nas.train import TrainConfig, evaluate, train

REPO = Path(__file__).resolve().parents[1]
REAL_DATA = Path(os.environ.get("KWS_NAS_REAL_DATA", REPO.parent / "shared/data/speech_commands_test_v2_half_a"))
HELLO_EDGE_SMALL_DS_CNN = [5, 64, 10, 4, 2, 2, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1]


def best_candidate(results: Path | None, budget_class: str) -> tuple[Candidate, str]:
    best_file = results / "best.json" if results else None
    if best_file and best_file.is_file():
        entry = json.loads(best_file.read_text())["classes"].get(budget_class)
        if entry and entry.get("candidate"):
            return Candidate.from_dict(entry["candidate"]), f"{results.name} trial {entry['trial']}"
    return (candidate_from_model_size_info("ds_cnn", HELLO_EDGE_SMALL_DS_CNN, FrontEndConfig()),
            "Hello Edge small DS-CNN (no search results given)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", type=Path, default=REPO / "results/ds_cnn_small")
    p.add_argument("--budget-class", default="small")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--augment-copies", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    candidate, origin = best_candidate(args.results, args.budget_class)
    print(f"model: {candidate.describe()}  ({origin})")
    generated = ensure_default_dataset()
    front_end = candidate.frontend
    train_set = load_features(generated, front_end, "train", augment_copies=args.augment_copies, seed=args.seed)
    val_set = load_features(generated, front_end, "validation")
    test_set = load_features(generated, front_end, "test")

    model = build_model(candidate, seed=args.seed)
    config = TrainConfig(epochs=args.epochs, schedule="cosine", lr_phases=(3e-3, 1e-4), seed=args.seed,
                         early_stopping_patience=None, label_smoothing=0.1,
                         time_shift_frames=5, time_mask_frames=4, freq_mask_bins=2)
    started = time.perf_counter()
    result = train(model, train_set, val_set, config)
    print(f"trained {args.epochs} epochs on {len(train_set.labels):,} generated clips in "
          f"{time.perf_counter() - started:.0f} s; best validation accuracy {result.best_val_acc:.3f}")
    print(f"generated speech, test split ({len(test_set.labels)} clips, voices unseen in training): "
          f"{evaluate(model, test_set)['accuracy']:.3f}")
    if not REAL_DATA.is_dir():
        print(f"real clips not found at {REAL_DATA} (set KWS_NAS_REAL_DATA): no real-speech figure")
        return 0
    real = evaluate(model, load_features(REAL_DATA, front_end, "test"))
    print(f"REAL speech, Speech Commands v0.02 test half ({sum(map(sum, real['confusion'])):,} clips, "
          f"120 speakers): accuracy {real['accuracy']:.3f} (chance 1/12 = 0.083)")
    print("per class: " + ", ".join(f"{k} {v:.2f}" for k, v in real["per_class"].items() if v is not None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
