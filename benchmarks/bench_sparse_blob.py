"""Sparse layers in the model description: the Hello Edge small DS-CNN pruned, dense blob vs sparse.

The candidate of bench_board.py gets random weights, is pruned by `nas.prune.masks` (L1, per layer:
1×4 blocks and elements at several sparsities, N:M), converted by `nas.export.tflite`, and each model
runs on the emulated Cortex-M7 twice: its blob with every filter dense (``sparse="never"``) and the
default blob, where `nas.board.sparse_layers` stores each pruned conv / FC filter sparse when the
measured kernel curves predict it faster. Prints network instructions, blob bytes, the layers stored
sparse, and checks that both blobs give the same int8 outputs.

Usage: .venv/bin/python benchmarks/bench_sparse_blob.py [--board mps2_an500]
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's nas, not an installed one

from benchmarks.bench_board import HELLO_EDGE_SMALL_DS_CNN, int8_tflite  # noqa: E402

POINTS = (("element", 0.5), ("element", 0.9), ("block", 0.5), ("block", 0.75), ("block", 0.9), ("nm", 1, 4),
          ("nm", 1, 8))


def pruned_tflite(candidate, point) -> bytes:
    import torch

    from nas.prune.masks import apply_masks, block_masks, make_permanent, nm_masks
    from nas.spaces import build_model

    torch.manual_seed(0)
    model = build_model(candidate).eval()
    if point[0] == "nm":
        masks = nm_masks(model, point[1], point[2], "l1")
    else:
        masks = block_masks(model, point[1], "l1", "layer", (1, 4) if point[0] == "block" else (1, 1))
    return int8_tflite(make_permanent(apply_masks(model, masks)), candidate.frontend)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2_an500", choices=["mps2_an500", "mps2_an386"])
    args = parser.parse_args()
    missing = [tool for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make") if shutil.which(tool) is None]
    if missing:
        print(f"bench_sparse_blob: skipped, missing {', '.join(missing)}")
        return 0

    from nas.board.emulated import EmulatedBoard
    from nas.board.model_blob import tflite_to_blob
    from nas.board.sparse_layers import sparse_plan
    from nas.spaces import candidate_from_model_size_info
    from nas.tflite_model import read_model

    candidate = candidate_from_model_size_info("ds_cnn", HELLO_EDGE_SMALL_DS_CNN)
    x = np.random.default_rng(9).integers(-128, 128, size=candidate.frontend.input_shape).astype(np.int8)
    print(f"Hello Edge small DS-CNN on {args.board}, network instructions (QEMU -icount shift=0), blob bytes")
    same = True
    with EmulatedBoard(args.board) as board:
        for point in POINTS:
            tflite = pruned_tflite(candidate, point)
            runs = {}
            for mode in ("never", "auto"):
                blob = tflite_to_blob(tflite, "pruned", sparse=mode)
                board.load(blob)
                m = board.infer(x)
                runs[mode] = (m.stages["network"], len(blob), m.outputs)
            same &= bool((runs["never"][2] == runs["auto"][2]).all())
            plan = sparse_plan(read_model(tflite))
            layers = ", ".join(f"{c.filter.format}{f' {c.filter.n}:{c.filter.m}' if c.filter.format == 'nm' else ''}"
                               f" {c.order[0]}" for c in plan.values()) or "none"
            (dense, dense_bytes, _), (sparse, sparse_bytes, _) = runs["never"], runs["auto"]
            label = ":".join(map(str, point[1:])) if point[0] == "nm" else f"{point[1]:.2f}"
            print(f"  {point[0]:7} {label:5} dense {dense:>11,.0f} B {dense_bytes:>7,} | sparse {sparse:>11,.0f} "
                  f"B {sparse_bytes:>7,} | {dense / sparse:.2f}x, flash {sparse_bytes / dense_bytes:.2f} | {layers}")
    print("outputs identical" if same else "bench_sparse_blob: the sparse blob's outputs differ from the dense blob's")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
