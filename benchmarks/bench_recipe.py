"""Training throughput per device with the hello_edge recipe, the recurrent layers' speed-up, and the
wall-clock estimate of Hello Edge's 21-cell grid on the real archive.

Three parts, each on random features held in memory (content does not change the arithmetic):

1. Recurrent layers: optimiser steps/s of the fast forward passes (nas.spaces.modules: torch's fused
   LSTM kernel; input projections hoisted out of the GRU's and peephole LSTM's loops) against the
   step-by-step definition the export unrolls (``step_by_step``), on a 2 x 28 GRU at a 10 ms stride
   (99 frames; the model of the issue's 193 s) and Hello Edge's small basic LSTM, LSTM and CRNN.
2. Throughput: steps/s (batch 100) of Hello Edge's medium model of each architecture, per device torch
   sees (the CPU always, one thread's CPU time; CUDA when present, wall-clock): the training step of
   ``nas.train.train`` (forward, backward, Adam; its precision and layout defaults) on a resident batch.
3. Estimate: per cell, (trials + retraining runs) x 30 k steps / steps-per-second of that device, for
   ``+experiment=hello_edge`` (its trials, retrain.top_k=1: up to 3 candidates x 3 seeds). An ESTIMATE:
   the searched models differ from the medium one, validation is left out (a few % at 30 k steps).

    .venv/bin/python benchmarks/bench_recipe.py [--steps 40] [--threads 1] [--devices cpu,cuda]
"""
from __future__ import annotations

import argparse
import functools
import os
import time

import torch

from nas.data.frontend_config import FrontEndConfig
from nas.search.schema import HELLO_EDGE_TRAINING
from nas.spaces import build_model, candidate_from_model_size_info
from nas.spaces.hello_edge import hello_edge_candidates
from nas.spaces.modules import Gru, Lstm, step_by_step

ARCHS = ("dnn", "cnn", "basic_lstm", "lstm", "gru", "crnn", "ds_cnn")
TRIALS_PER_CELL = 40  # nas/conf/experiment/hello_edge.yaml
# retrain.top_k=1: up to 3 candidates (best front one, best cheaper than Hello Edge, Hello Edge) x 3 seeds
RETRAIN_RUNS_PER_CELL = 3 * 3
RECIPE_STEPS = HELLO_EDGE_TRAINING.steps


def steps_per_second(candidate, steps: int, device: str, threads: int, unrolled: bool = False) -> float:
    """Optimiser steps/s at batch 100 (forward, backward, Adam; the trainer's defaults: bfloat16 autocast
    on CUDA and on CPUs with native bfloat16, channels-last convs on the CPU), best of two timings of
    ``steps`` steps after two warm-up steps. On the CPU the time is
    the process's CPU time, so the figure is one thread's on an idle core even on a busy machine; on
    CUDA it is wall-clock, synchronised."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model(candidate).to(device)
    bf16 = HELLO_EDGE_TRAINING.use_bf16(torch.device(device))  # as the trainer decides: on CUDA, native CPUs
    if device == "cpu":
        model.to(memory_format=torch.channels_last)  # the trainer's CPU layout (channels_last=True)
    if unrolled:  # the reference: each recurrent layer one step at a time
        for m in model.modules():
            if isinstance(m, (Lstm, Gru)):
                m.forward = functools.partial(step_by_step, m)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-4)
    x = torch.randn(100, *candidate.input_shape, device=device)
    y = torch.randint(0, 12, (100,), device=device)

    def run(n: int) -> None:
        for _ in range(n):
            with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
                loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    clock = time.perf_counter if device == "cuda" else time.process_time
    run(2)
    best = float("inf")
    for _ in range(2):
        started = clock()
        run(steps)
        best = min(best, clock() - started)
    return steps / best


def recurrent_speedups(steps: int, threads: int, devices: list[str]) -> None:
    gru_10ms = candidate_from_model_size_info("gru", [2, 28], FrontEndConfig(window_ms=40.0, stride_ms=10.0))
    small = {m.arch: c for m, c in hello_edge_candidates() if m.budget == "small"}
    models = {"GRU 2 x 28, 10 ms stride": gru_10ms, "basic LSTM 118 (small)": small["basic_lstm"],
              "LSTM 98 144 peepholes (small)": small["lstm"], "CRNN small": small["crnn"]}
    print(f"\n1. recurrent layers: steps/s at batch 100, step-by-step -> fast forward (best of 2 x {steps} steps)")
    print(f"{'model':<32} {'frames':>6} " + " ".join(f"{d + ' unrolled':>13} {d + ' fast':>10} {'speed-up':>8}"
                                                  for d in devices))
    for name, candidate in models.items():
        cells = []
        for device in devices:
            slow = steps_per_second(candidate, steps, device, threads, unrolled=True)
            fast = steps_per_second(candidate, steps, device, threads)
            cells.append(f"{slow:>13.1f} {fast:>10.1f} {fast / slow:>7.1f}x")
        print(f"{name:<32} {candidate.input_shape[0]:>6} " + " ".join(cells))


def throughput_and_estimate(steps: int, threads: int, devices: list[str]) -> None:
    medium = {m.arch: c for m, c in hello_edge_candidates() if m.budget == "medium"}
    rates = {d: {arch: steps_per_second(medium[arch], steps, d, threads) for arch in ARCHS} for d in devices}
    runs = TRIALS_PER_CELL + RETRAIN_RUNS_PER_CELL
    print(f"\n2. throughput, Hello Edge medium models, batch 100 ({steps} timed steps; clips/s = 100 x steps/s)")
    print(f"3. ESTIMATE per cell on the real archive: {runs} runs ({TRIALS_PER_CELL} trials + "
          f"{RETRAIN_RUNS_PER_CELL} retraining) x {RECIPE_STEPS:,} steps / steps-per-s; 3 cells (classes) per arch")
    print(f"{'arch':<11} " + " ".join(f"{d + ' steps/s':>14} {d + ' h/cell':>11}" for d in devices))
    for arch in ARCHS:
        print(f"{arch:<11} " + " ".join(f"{rates[d][arch]:>14.1f} {runs * RECIPE_STEPS / rates[d][arch] / 3600:>11.1f}"
                                        for d in devices))
    for d in devices:
        hours = sum(3 * runs * RECIPE_STEPS / rates[d][arch] / 3600 for arch in ARCHS)
        print(f"grid of 21 cells on one {d} worker, one run at a time: {hours:,.0f} h ({hours / 24:.1f} days)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40, help="timed optimiser steps per measurement")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--devices", default="cpu,cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--parts", default="1,2", help="1: recurrent speed-ups, 2: throughput and the estimate")
    args = p.parse_args()
    devices = args.devices.split(",")
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
    print(f"torch {torch.__version__}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{args.threads} thread(s), CPU figures per CPU-second; CUDA device: {gpu}")
    if "1" in args.parts:
        recurrent_speedups(args.steps, args.threads, devices)
    if "2" in args.parts:
        throughput_and_estimate(args.steps, args.threads, devices)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
