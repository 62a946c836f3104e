"""Hypervolume after N trials: multi-objective TPE vs random sampling, same space, budget and seeds.

Also prints, per run, the training throughput the trials achieved (median over their epochs of
training samples per wall-clock second, from each trial's recorded history).

Each (sampler, seed) runs a real search (`run_search`, real training on the default generated dataset,
short epochs, no queued Hello Edge point) into a temporary folder. TPE's first
``sampler.n_startup_trials`` (8) trials are random too, so differences show only beyond them. The hypervolume is taken over feasible trained trials in
normalised objectives (accuracy, memory / limit, ops / limit) against the reference (0, 1, 1), so 1.0
would be a perfect model costing nothing. Prints one row per run, then the mean per sampler.

    .venv/bin/python benchmarks/bench_search.py --trials 32 --seeds 0 1 2 --search-space ds_cnn  # ≈ 16 min
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import numpy as np

from nas.results.pareto import hypervolume
from nas.results.place import read_marker
from nas.results.storage import load_study
from nas.results.trials import completed_feasible, trials_frame
from nas.search.cli import compose_config
from nas.search.loop import run_search


def normalised_hypervolume(df, limits: dict) -> float:
    done = completed_feasible(df)
    if done.empty:
        return 0.0
    pts = np.array(done[["accuracy", "memory_bytes", "ops"]], dtype=float)
    pts[:, 1] /= limits["memory_bytes"]
    pts[:, 2] /= limits["ops"]
    return hypervolume(pts, (0.0, 1.0, 1.0), [True, False, False])


def training_samples_per_s(study) -> float:
    """Median of the per-epoch training throughput over every trained trial of the study."""
    rates = [epoch["train_samples_per_s"] for trial in study.trials
             for epoch in trial.user_attrs.get("history", []) if "train_samples_per_s" in epoch]
    return statistics.median(rates) if rates else float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=32)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--search-space", default="ds_cnn")
    p.add_argument("--constraints", default="small")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--samplers", nargs="+", default=["tpe", "random"])
    args = p.parse_args()

    results: dict[str, list[float]] = {s: [] for s in args.samplers}
    print(f"search space {args.search_space}, budget {args.constraints}, {args.trials} trained trials, "
          f"{args.epochs} epochs each, seeds {args.seeds} (accuracy: generated speech)")
    print(f"{'sampler':8s} {'seed':>4s} {'hypervolume':>11s} {'feasible':>8s} {'infeasible':>10s} {'best acc':>8s} {'seconds':>8s} {'train samples/s':>15s}")
    with tempfile.TemporaryDirectory(prefix="bench_search_") as tmp:
        for seed in args.seeds:
            for sampler in args.samplers:
                cfg = compose_config([
                    f"search_space={args.search_space}", f"constraints={args.constraints}", f"sampler={sampler}",
                    f"seed={seed}", f"trials={args.trials}", f"train.epochs={args.epochs}", f"results_dir={tmp}",
                    f"study_name={sampler}_{seed}", "progress=false",
                    "enqueue_hello_edge=false",  # no shared head start: the samplers alone
                ])
                started = time.perf_counter()
                outcome = run_search(cfg)
                seconds = time.perf_counter() - started
                study = load_study(read_marker(outcome.results_dir))
                df = trials_frame(study)
                hv = normalised_hypervolume(df, study.user_attrs["limits"])
                results[sampler].append(hv)
                done = completed_feasible(df)
                infeasible = int(((df["state"] == "COMPLETE") & ~df["feasible"]).sum())
                best = done["accuracy"].max() if len(done) else float("nan")
                print(f"{sampler:8s} {seed:4d} {hv:11.4f} {len(done):8d} {infeasible:10d} {best:8.3f} {seconds:8.0f} {training_samples_per_s(study):15,.0f}", flush=True)
    print("mean hypervolume: " + ", ".join(f"{s} {statistics.mean(v):.4f}" for s, v in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
