"""MFCC front-end throughput: clips/s of ``MfccFrontEnd`` and of ``features()`` (MFCC → int8 → float).

Runs on the real Speech Commands clips beside the project when present, else on noise (the cost
does not depend on the content). Prints wall-clock clips/s with torch's default thread count (the
target: ≥ 5,000 clips/s on 2 cores), clips per CPU-second (what one core does, steady even on a
shared machine), and the load average, since other processes on the machine slow the wall figure.

    .venv/bin/python benchmarks/bench_mfcc.py [--clips 4096] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

REAL_CLIPS = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech_commands_test_v2_half_a"


def load_clips(count: int):
    import numpy as np

    from nas.data.wav import read_wav

    files = sorted(REAL_CLIPS.glob("*/*.wav")) if REAL_CLIPS.is_dir() else []
    if not files:
        waves = np.random.default_rng(0).uniform(-0.5, 0.5, (count, 16000)).astype(np.float32)
        return waves, "uniform noise (real clips not found)"
    clips = [np.resize(np.pad(w, (0, max(0, 16000 - len(w))))[:16000], 16000)
             for w in (read_wav(f) for f in files[:count])]
    waves = np.stack(clips)
    return np.resize(waves, (count, 16000)), f"{len(clips)} real clips from {REAL_CLIPS.name}, repeated"


def best_rate(fn, clips: int, repeats: int) -> tuple[float, float]:
    """(best wall clips/s, clips per CPU-second of that run)."""
    best = (0.0, 0.0)
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if clips / wall > best[0]:
            best = (clips / wall, clips / cpu)
    return best


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=4096)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()

    import torch

    from nas.data.frontend import MfccFrontEnd
    from nas.data.frontend_config import FrontEndConfig

    waves, source = load_clips(args.clips)
    batch = torch.from_numpy(waves)
    front_end = MfccFrontEnd(FrontEndConfig())
    front_end(batch[:64])  # warm-up: thread pool, FFT plans
    print(f"input: {args.clips} one-second clips ({source}); torch threads: {torch.get_num_threads()}, "
          f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    for name, fn in (("mfcc", lambda: front_end(batch)), ("features (int8 round trip)", lambda: front_end.features(batch))):
        wall, per_cpu = best_rate(fn, args.clips, args.repeats)
        print(f"{name}: {wall:,.0f} clips/s wall (target >= 5,000 on 2 cores), {per_cpu:,.0f} clips per CPU-second")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
