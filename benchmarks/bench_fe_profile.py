"""Where the C front end's instructions go, per frame, on the emulated Cortex-M7 (or M4).

Builds firmware/bench's mfcc_profile image against the firmware's generated front-end tables, for
the default front end and for ``decimation=2`` (the 2:1 decimator, FFT at 8 kHz), runs it in QEMU ``-icount shift=0`` and prints instructions per frame of each
stage: window + first FFT stage, the radix-4 stages, the last stage, the whole FFT, log, DCT + int8,
the rest of a frame (power at the mel bins into the bands) and the decimator, next to the whole frame.

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
from nas.data.frontend_config import FrontEndConfig  # noqa: E402
from nas.firmware.bench.image import MACHINES, image_lines  # noqa: E402


def profile(board: str, frontend: FrontEndConfig) -> dict[str, int]:
    """Instructions per frame of each stage the image times."""
    gen = build_firmware(board, frontend).elf.parent / "gen"
    build = f"build/{board}-{frontend.fingerprint()}"  # one image per front end
    subprocess.run(["make", "-s", "-C", str(BENCH_DIR), f"BOARD={board}", f"BUILD={build}", f"FE_GEN={gen}",
                    "mfcc-profile"], check=True)
    lines = image_lines(BENCH_DIR / build / "mfcc_profile.elf", board, "profile,", "profile-done")
    return {stage: int(value) for _, stage, value in (line.split(",") for line in lines)}


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", choices=sorted(MACHINES), default="mps2_an500")
    args = parser.parse_args(argv)
    columns = {}
    for decimation in (1, 2):
        stages = profile(args.board, FrontEndConfig(decimation=decimation))
        named = ("log (40 bands)", "DCT + int8", "FFT (all stages)")
        stages["power + mel bands (the rest)"] = stages["whole frame"] - sum(stages[s] for s in named)
        # The streaming frame's cost: the frame, plus the decimator's work for one stride of input.
        stages["frame + decimator"] = stages["whole frame"] + stages.get("decimator (a stride's inputs)", 0)
        columns[f"decimation {decimation}"] = stages
    table = pd.DataFrame(columns).fillna(0).astype(int)
    print(f"C front end per frame on {args.board} (QEMU -icount shift=0: emulated instructions; goal <= 25,000)")
    print(table.to_string(formatters={c: "{:,}".format for c in table.columns}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
