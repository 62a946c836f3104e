"""Prints emulated instructions per MAC and speed-up over dense of the sparse int8 kernels on the M7.

For Hello-Edge-sized layers (DS-CNN small pointwise 64->64 on 25x5 and its fully connected layer, a
CNN conv, a DNN layer), random int8 weights are pruned by magnitude to each granularity (element,
1x4 block, N:M) and sparsity, packed, and run on the emulated board (QEMU -machine mps2-an500 -icount
shift=0, so figures are executed instructions) in both loop orders, next to the dense DSP kernel on
the same pruned weights. Outputs must be bit-identical to the dense reference kernel's. N:M runs at
the N:M (N = 1 or 2) nearest each sparsity. The break-even sparsity per granularity and loop order is
interpolated linearly where the speed-up crosses 1; the issue's goals are printed against it.

Usage: .venv/bin/python benchmarks/bench_sparse_kernels.py [--board mps2_an500|mps2_an386] [--csv FILE]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's nas, not an installed one

from nas.firmware.bench.image import MACHINES  # noqa: E402
from nas.firmware.bench.sparse_speedup import SPARSITIES as MEASURED, Layer, break_even, measure  # noqa: E402

SPARSITIES = (0.5, 0.7, 0.75, 0.9, 0.95)  # shown; the lower ones measured too place the break-even
GOALS = {0.75: 1.5, 0.9: 2.5}  # N:M or block speed-up over dense
GOAL_BREAK_EVEN = 0.5

LAYERS = {
    "ds_cnn_pw_1x1": Layer("conv", (1, 25, 5, 64), (64, 1, 1, 64), (1, 25, 5, 64)),
    "ds_cnn_fc_64x12": Layer("fc", (1, 64), (12, 64), (1, 12)),
    "cnn_conv2_10x4": Layer("conv", (1, 20, 7, 28), (30, 10, 4, 28), (1, 6, 4, 30), stride=(2, 1)),
    "dnn_fc_144x144": Layer("fc", (1, 144), (144, 144), (1, 144)),
}


def _break_even(group: pd.DataFrame) -> float:
    return break_even(group[["sparsity", "speed_up"]].itertuples(index=False, name=None))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", choices=sorted(MACHINES), default="mps2_an500")
    parser.add_argument("--csv", type=Path, help="also write every measured point as CSV")
    args = parser.parse_args(argv)
    missing = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make") if shutil.which(tool) is None]
    if missing:
        print(f"bench_sparse_kernels: skipped, missing {', '.join(missing)}")
        return 0
    table = pd.DataFrame(measure(LAYERS, args.board))
    if args.csv:
        table.to_csv(args.csv, index=False)
    pd.set_option("display.width", 200)
    print(f"sparse int8 kernels on {args.board} (QEMU -icount shift=0: emulated instructions; "
          "speed-up over the dense DSP kernel on the same pruned weights)")
    shown = table[table.target.isin(SPARSITIES)]
    wide = shown.pivot_table(index=["layer", "granularity", "order"], columns="target", values="speed_up")
    print("\nspeed-up over dense (N:M at the nearest N:M; its sparsity is in the CSV)")
    print(wide.round(2).to_string())
    per_mac = shown.pivot_table(index=["layer", "granularity", "order"], columns="target", values="instr_per_mac")
    print("\ninstructions per dense MAC (dense DSP kernel: "
          + ", ".join(f"{k} {v:.2f}" for k, v in table.groupby("layer").dense_instr_per_mac.mean().items()) + ")")
    print(per_mac.round(3).to_string())
    flash = shown.pivot_table(index=["granularity"], columns="target", values="flash_ratio")
    print("\nflash of the packed weights / dense int8 weights (mean over layers)")
    print(flash.round(2).to_string())
    even = table.groupby(["layer", "granularity", "order"]).apply(_break_even, include_groups=False).rename("break_even")
    lowest = min(MEASURED)
    print(f"\nbreak-even sparsity (speed-up 1, interpolated; {lowest:.2f}: already faster at the lowest sparsity "
          "measured, an upper bound)")
    print(even.unstack("order").round(2).to_string())

    print(f"\ngoals (N:M or block, best loop order): >= {GOALS[0.75]}x at 0.75, >= {GOALS[0.9]}x at 0.9, "
          f"break-even <= {GOAL_BREAK_EVEN}; element-wise as measured")
    structured = table[table.granularity.isin(["block", "nm"])]
    ok = True
    for layer, group in structured.groupby("layer"):
        best = {t: group[group.target == t].speed_up.max() for t in GOALS}
        layer_even = even.loc[layer].drop("element", level="granularity").min()
        verdicts = [f"{best[t]:.2f}x at {t} ({'met' if best[t] >= g else 'MISSED'})" for t, g in GOALS.items()]
        verdicts.append(f"break-even {layer_even:.2f} ({'met' if layer_even <= GOAL_BREAK_EVEN else 'MISSED'})")
        ok &= all(best[t] >= g for t, g in GOALS.items()) and layer_even <= GOAL_BREAK_EVEN
        print(f"  {layer}: " + ", ".join(verdicts))
    print(f"goals {'met on every layer' if ok else 'not met on every layer'}")
    if not table.bit_identical.all():
        print("bench_sparse_kernels: a sparse output differs from the dense reference", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
