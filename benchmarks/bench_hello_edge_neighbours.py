"""Hand-made neighbours of Hello Edge's small DS-CNN at no more than its memory and ops, trained as the
final retraining trains (``RETRAIN_TRAINING``, seeds 0..S-1, the default generated dataset).

It answers whether the search space holds a model that dominates the hand-designed one, separately from
whether a search finds it (issue 10). Prints each model's cost ratios, validation accuracy per seed,
mean, and Δ against Hello Edge's configuration paired by seed. Accuracy on generated speech ranks
models; it is not a Speech Commands figure.

    .venv/bin/python benchmarks/bench_hello_edge_neighbours.py            # 4 models x 3 seeds, ≈ 3-4 min quiet
    .venv/bin/python benchmarks/bench_hello_edge_neighbours.py --seeds 5
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time

import torch

from nas.cost import estimate
from nas.data.frontend_config import FrontEndConfig
from nas.data.synth import ensure_default_dataset
from nas.search.features import CachedFeatures
from nas.search.schema import RETRAIN_TRAINING
from nas.spaces import build_model, hello_edge_candidates
from nas.spaces.base import candidate_from_model_size_info
from nas.train import train


def ds_cnn(first: tuple, blocks: list[tuple]) -> list[int]:
    """Hello Edge's model_size_info of a DS-CNN: n, then f kt kf st sf per layer."""
    return [1 + len(blocks), *first] + [v for block in blocks for v in block]


# name -> (model_size_info, front-end settings); all at most Hello Edge small's memory and ops
NEIGHBOURS = {
    "freq stride 2 at block 2, 66 ch, 50 ms window": (
        ds_cnn((66, 10, 4, 2, 2), [(66, 3, 3, 1, 2)] + [(66, 3, 3, 1, 1)] * 3), {"window_ms": 50.0}),
    "freq stride 2 at block 2, 66 ch": (
        ds_cnn((66, 10, 4, 2, 2), [(66, 3, 3, 1, 2)] + [(66, 3, 3, 1, 1)] * 3), {}),
    "freq stride 2 at block 3, 64 ch": (
        ds_cnn((64, 10, 4, 2, 2), [(64, 3, 3, 1, 1), (64, 3, 3, 1, 2)] + [(64, 3, 3, 1, 1)] * 2), {}),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on a shared machine)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    _, hello = [pair for pair in hello_edge_candidates("ds_cnn") if pair[0].budget == "small"][0]
    models = {"Hello Edge small DS-CNN": hello}
    for name, (size_info, frontend) in NEIGHBOURS.items():
        models[name] = candidate_from_model_size_info("ds_cnn", size_info, FrontEndConfig(**frontend))
    reference = estimate(hello)
    features = CachedFeatures(ensure_default_dataset(progress=False))
    print(f"{RETRAIN_TRAINING.epochs} epochs, seeds 0..{args.seeds - 1}, validation accuracy on generated speech")
    print(f"{'model':48s} {'memory':>7s} {'ops':>6s} {'mean':>6s} {'Δ points (paired)':>18s}  per seed  (s)")
    accuracy: dict[str, list[float]] = {}
    for name, candidate in models.items():
        cost = estimate(candidate)
        memory, ops = cost.memory_hello_edge_bytes / reference.memory_hello_edge_bytes, cost.ops / reference.ops
        assert memory <= 1.0 and ops <= 1.0, f"{name} costs more than Hello Edge's model"
        started = time.perf_counter()
        accuracy[name] = [
            train(build_model(candidate, seed=seed), features.split(candidate.frontend, "train"),
                  features.split(candidate.frontend, "validation"),
                  dataclasses.replace(RETRAIN_TRAINING, seed=seed)).best_val_acc
            for seed in range(args.seeds)]
        deltas = [100 * (a - h) for a, h in zip(accuracy[name], accuracy["Hello Edge small DS-CNN"])]
        spread = statistics.pstdev(deltas) if len(deltas) > 1 else 0.0
        print(f"{name:48s} ×{memory:5.2f} ×{ops:4.2f} {statistics.mean(accuracy[name]):6.3f} "
              f"{statistics.mean(deltas):+8.1f} ± {spread:4.1f}     "
              + " ".join(f"{a:.3f}" for a in accuracy[name]) + f"  ({time.perf_counter() - started:.0f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
