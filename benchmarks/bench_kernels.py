"""Prints emulated instructions per MAC of the int8 kernels, reference vs DSP-optimised, on the M7.

Builds firmware/bench (the kernels + the runtime's mps2 port) with arm-none-eabi-gcc, runs it in
QEMU ``-machine mps2-an500 -icount shift=0`` (one guest instruction = 1 ns of virtual time, read
through SysTick at 40 instructions per tick) and prints one row per Hello-Edge-sized layer. The
checksum columns must agree: the optimised kernels are bit-identical to the reference on target.

Usage: .venv/bin/python benchmarks/bench_kernels.py [--board mps2_an500|mps2_an386]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "firmware" / "bench"
sys.path.insert(0, str(REPO))  # this checkout's nas, not an installed one

from nas.firmware.bench.image import MACHINES, image_lines  # noqa: E402
TARGET_INSTRUCTIONS_PER_MAC = 1.5


def build(board: str) -> Path:
    subprocess.run(["make", "-s", "-C", str(BENCH_DIR), f"BOARD={board}"], check=True)
    return BENCH_DIR / "build" / board / "kernels_bench.elf"


def run(elf: Path, board: str, timeout_s: float = 120.0) -> list[str]:
    """Runs the image until it prints bench-done; returns its bench lines."""
    return image_lines(elf, board, "bench,", "bench-done", timeout_s=timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", choices=sorted(MACHINES), default="mps2_an500")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make") if shutil.which(tool) is None]
    if missing:
        print(f"bench_kernels: skipped, missing {', '.join(missing)}")
        return 0
    rows = []
    for line in run(build(args.board), args.board):
        _, layer, variant, macs, instructions, checksum = line.split(",")
        rows.append(dict(layer=layer, variant=variant, macs=int(macs), instructions=int(instructions), checksum=int(checksum)))
    table = pd.DataFrame(rows).pivot(index="layer", columns="variant", values=["macs", "instructions", "checksum"])
    out = pd.DataFrame({
        "MACs": table[("macs", "ref")],
        "ref instr/MAC": table[("instructions", "ref")] / table[("macs", "ref")],
        "opt instr/MAC": table[("instructions", "opt")] / table[("macs", "opt")],
    })
    out["speed-up"] = out["ref instr/MAC"] / out["opt instr/MAC"]
    out["opt <= 1.5"] = out["opt instr/MAC"] <= TARGET_INSTRUCTIONS_PER_MAC
    out["bit-identical"] = table[("checksum", "ref")] == table[("checksum", "opt")]
    print(f"int8 kernels on {args.board} (QEMU -icount shift=0: emulated instructions)")
    print(out.round(3).to_string())
    if not out["bit-identical"].all():
        print("bench_kernels: optimised output differs from the reference", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
