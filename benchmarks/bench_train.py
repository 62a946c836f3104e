"""Training throughput of Hello Edge's small DS-CNN on the CPU, against the machine's matmul rate.

Target (issue 4): >= 4,000 training samples/s on 2 cores. The model is the one the search trains
(``nas.spaces.build_model`` of DS-CNN ``5 64 10 4 2 2 64 3 3 1 1 ...``, 49 x 10 MFCC input); the
features are random tensors of that shape held in memory, as the cached features are (content does
not change the arithmetic). Each variant runs ``nas.train.train`` for ``--epochs`` epochs and the
figure is its training samples/s (validation excluded), best epoch over ``--rounds`` interleaved rounds.

Achieved FLOP/s = samples/s x 3 x forward FLOPs (forward + backward ~ 3 forward passes; forward
FLOPs = 2 x MACs, from thop on a deepcopy and from the cost model), divided by the float32 FLOP/s of
a large ``torch.mm`` on the same threads. The machine is shared: the load average is printed beside
the figures so that a low number can be told from a busy machine.

    .venv/bin/python benchmarks/bench_train.py [--threads 2] [--samples 4000] [--rounds 3] [--compile]
"""
from __future__ import annotations

import argparse
import copy
import os
import time

import torch
from tqdm import tqdm

from nas.cost import estimate
from nas.data.frontend_config import FrontEndConfig
from nas.spaces import build_model, candidate_from_model_size_info
from nas.train import TrainConfig, train

DS_CNN_SMALL = [5, 64, 10, 4, 2, 2, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1]
TARGET = 4000


class InMemory:
    def __init__(self, n: int, shape: tuple[int, int], seed: int):
        g = torch.Generator().manual_seed(seed)
        self.features = torch.randn(n, *shape, generator=g)
        self.labels = torch.randint(0, 12, (n,), generator=g)


def matmul_flops(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """Best-of float32 FLOP/s of a size x size matrix product."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best


def forward_macs_thop(model: torch.nn.Module, shape: tuple[int, int]) -> float:
    from thop import profile

    macs, _ = profile(copy.deepcopy(model).eval(), inputs=(torch.randn(1, *shape),), verbose=False)
    return float(macs)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--samples", type=int, default=4000, help="training clips per epoch")
    p.add_argument("--epochs", type=int, default=1, help="epochs per variant and round")
    p.add_argument("--rounds", type=int, default=3, help="rounds over all variants; the best epoch counts")
    p.add_argument("--compile", action="store_true", help="also time torch.compile (compile time included)")
    args = p.parse_args()

    frontend = FrontEndConfig()
    candidate = candidate_from_model_size_info("ds_cnn", DS_CNN_SMALL, frontend)
    shape = frontend.input_shape
    macs_thop = forward_macs_thop(build_model(candidate), shape)
    macs_cost = float(estimate(candidate).macs)
    train_flops_per_sample = 3 * 2 * macs_thop
    peak = matmul_flops(args.threads)
    print(f"DS-CNN small: {sum(p.numel() for p in build_model(candidate).parameters()):,} parameters, "
          f"forward MACs {macs_thop / 1e6:.2f} M (thop), {macs_cost / 1e6:.2f} M (cost model)")
    print(f"torch {torch.__version__}, {args.threads} threads; matmul {peak / 1e9:.1f} GFLOP/s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    train_set, val_set = InMemory(args.samples, shape, 0), InMemory(1000, shape, 1)
    variants = {
        "float32, contiguous, batch 100": dict(channels_last=False),
        "float32, channels_last, batch 100 (default)": dict(),
        "float32, channels_last, batch 256": dict(batch_size=256),
        "bf16 autocast, channels_last, batch 100": dict(bf16=True),
        "bf16 autocast, channels_last, batch 256": dict(bf16=True, batch_size=256),
    }
    if args.compile:
        variants["torch.compile, channels_last, batch 100"] = dict(compile=True)
    # Rounds interleave the variants so that a burst of load from other users hits all of them alike.
    best = {name: 0.0 for name in variants}
    compile_wall = 0.0
    for _ in tqdm(range(args.rounds), desc="rounds", leave=False):
        for name, options in variants.items():
            options = dict(options)
            compile_model = options.pop("compile", False)
            torch.manual_seed(0)
            model = build_model(candidate)
            started = time.perf_counter()
            if compile_model:
                model = torch.compile(model)
            config = TrainConfig(epochs=args.epochs, num_threads=args.threads, early_stopping_patience=None, **options)
            result = train(model, train_set, val_set, config)
            if compile_model:
                compile_wall = max(compile_wall, time.perf_counter() - started)
            best[name] = max(best[name], *(h["train_samples_per_s"] for h in result.history))
        peak = max(peak, matmul_flops(args.threads))

    print(f"matmul best {peak / 1e9:.1f} GFLOP/s; load average now {os.getloadavg()[0]:.1f}")
    print(f"{'variant (best epoch of ' + str(args.rounds) + ' rounds)':<46} {'samples/s':>10} {'GFLOP/s':>8} "
          f"{'of matmul':>9}  target {TARGET:,}/s")
    for name, rate in best.items():
        flops = rate * train_flops_per_sample
        note = "met" if rate >= TARGET else "not met"
        if name.startswith("torch.compile"):
            note += f"; a run of {args.epochs} epochs took {compile_wall:.0f} s with compilation"
        print(f"{name:<46} {rate:>10,.0f} {flops / 1e9:>8.1f} {flops / peak:>9.1%}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
