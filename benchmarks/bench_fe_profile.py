"""Where the C front end's instructions go, per frame, on the emulated Cortex-M7 (or M4).

Builds firmware/bench's mfcc_profile image against the firmware's generated front-end tables
(default front end), runs it in QEMU ``-icount shift=0`` and prints instructions per frame of each
stage: window + first FFT stage, the radix-4 stages, the last stage, the whole FFT, log, DCT + int8,
and the rest of a frame (power at the mel bins into the bands), next to the whole frame.

Usage: .venv/bin/python benchmarks/bench_fe_profile.py [--board mps2_an500|mps2_an386]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "firmware" / "bench"
sys.path.insert(0, str(REPO))  # this checkout's nas, not an installed one

from nas.board.firmware_build import build_firmware  # noqa: E402
from nas.firmware.bench.image import MACHINES, image_lines  # noqa: E402


def profile(board: str) -> dict[str, int]:
    """Instructions per frame of each stage the image times."""
    gen = build_firmware(board).elf.parent / "gen"
    subprocess.run(["make", "-s", "-C", str(BENCH_DIR), f"BOARD={board}", f"FE_GEN={gen}", "mfcc-profile"], check=True)
    lines = image_lines(BENCH_DIR / "build" / board / "mfcc_profile.elf", board, "profile,", "profile-done")
    return {stage: int(value) for _, stage, value in (line.split(",") for line in lines)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", choices=sorted(MACHINES), default="mps2_an500")
    args = parser.parse_args(argv)
    stages = profile(args.board)
    named = ("log (40 bands)", "DCT + int8", "FFT (all stages)")
    stages["power + mel bands (the rest)"] = stages["whole frame"] - sum(stages[s] for s in named)
    print(f"C front end per frame on {args.board} (QEMU -icount shift=0: emulated instructions; goal <= 25,000)")
    for stage, value in stages.items():
        print(f"  {stage:<32} {value:>8,}  {100 * value / stages['whole frame']:5.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
