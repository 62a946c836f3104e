"""End-to-end latency of the Hello Edge small DS-CNN on the emulated Cortex-M7, and its footprint.

The candidate (``ds_cnn`` model_size_info ``5 64 10 4 2 2 (64 3 3 1 1)×4``, default front end, 49×10
MFCC) gets random weights (timing does not depend on them), is converted to int8 by
`nas.export.tflite`, preloaded into the firmware's model buffer (`model mem N%`) and run with
``stages N W%`` on a synthetic clip: instructions for features + network + post-processing, ms at
the board profile's clock, instructions per MAC of the network, and the ELF's flash/RAM
(``arm-none-eabi-size``) beside the cost model's estimate (`nas.cost.estimate`).
Then always-on, as a deployed spotter runs (``stages N W F%``): at ``--rate`` inferences per second
each inference computes only the F = stride-aligned new frames (5 at 10/s and a 20 ms stride);
printed per frame and per inference, with the CPU duty cycle at the board's clock beside the
whole-clip figures (an ESTIMATE: the emulator counts instructions, not cycles). Both front ends run side
by side: the default and ``decimation=2`` (the 2:1 integer decimator, then the FFT at 8 kHz).

Usage: .venv/bin/python benchmarks/bench_board.py [--board mps2_an500] [--count 3] [--rate 10]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

HELLO_EDGE_SMALL_DS_CNN = [5, 64, 10, 4, 2, 2, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1]


def _int8_model(candidate) -> bytes:
    import torch

    from nas.spaces import build_model

    torch.manual_seed(0)
    return int8_tflite(build_model(candidate).eval(), candidate.frontend)


def int8_tflite(model, frontend) -> bytes:
    """The full-int8 .tflite of ``model``, calibrated on random features of the int8 input's range."""
    from nas.export.tflite import convert

    rng = np.random.default_rng(0)
    representative = np.round(np.clip(rng.normal(0, 20, (64, *frontend.input_shape)), -128, 127))
    return convert(model, frontend, (representative * 2.0 ** -frontend.int8_frac_bits).astype(np.float32), "ds_cnn")


def stage_table(profile, runs: dict):
    """One row per stage and run: instructions and estimated ms per inference."""
    import pandas as pd

    rows = []
    for mode, m in runs.items():
        ms = m.stages_ms(profile)
        for stage in ("features", "network", "post"):
            rows.append({"mode": mode, "stage": stage, "instructions": int(m.stages[stage]), "ms": ms[stage]})
        rows.append({"mode": mode, "stage": "total", "instructions": int(m.total), "ms": sum(ms.values())})
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--board", default="mps2_an500", choices=["mps2_an500", "mps2_an386"])
    parser.add_argument("--count", type=int, default=3, help="timed runs of the whole pipeline")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rate", type=float, default=10.0, help="inferences per second, always-on")
    args = parser.parse_args()

    import pandas as pd

    from nas.board.base import synthetic_clip
    from nas.board.emulated import EmulatedBoard
    from nas.board.firmware_build import build_firmware
    from nas.board.model_blob import tflite_to_blob
    from nas.cost.budget import load_board
    from nas.cost import estimate
    from nas.data.frontend_config import FrontEndConfig
    from nas.data.streaming import new_frames_per_inference, rate_hop_ms
    from nas.spaces import candidate_from_model_size_info

    frontend = FrontEndConfig()
    candidate = candidate_from_model_size_info("ds_cnn", HELLO_EDGE_SMALL_DS_CNN, frontend)
    cost = estimate(candidate)
    started = time.monotonic()
    tflite = _int8_model(candidate)
    blob = tflite_to_blob(tflite, "ds_cnn_small")
    profile = load_board(args.board)
    print(f"model: Hello Edge small DS-CNN, {cost.macs:,} MACs, {cost.params_deployed:,} deployed params; "
          f"int8 .tflite {len(tflite):,} B, model description {len(blob):,} B (prepared in "
          f"{time.monotonic() - started:.1f} s)")
    new_frames = new_frames_per_inference(frontend, rate_hop_ms(args.rate))  # 5 at 10/s and a 20 ms stride
    mhz = f"{profile.clock_hz / 1e6:.0f} MHz"
    # The same model (its input, 49 x 10 int8, does not depend on the decimation) with each front end.
    summary_rows = []
    for decimation in (1, 2):
        frontend = FrontEndConfig(decimation=decimation)
        image = build_firmware(args.board, frontend)
        with EmulatedBoard(args.board, image=image, frontend=frontend, model=blob, timeout_s=120) as board:
            summary = board.preloaded
            clip = board.stages(synthetic_clip(frontend.clip_samples), count=args.count, warmup=args.warmup)
            streaming = board.stages(None, count=args.count, warmup=args.warmup, new_frames=new_frames)
        if decimation == 1:  # the footprint below is the default image's
            default_image, default_summary = image, summary
        name = "default front end" if decimation == 1 else "decimation=2 (2:1 decimator, FFT at 8 kHz)"
        print(f"\n{name}: per inference on {args.board} (QEMU -icount shift=0; ms = instructions × "
              f"{profile.cycles_per_instruction} cycles / {mhz}, an ESTIMATE):")
        print(stage_table(profile, {f"whole clip ({frontend.num_frames} frames)": clip,
                                    f"streaming ({new_frames} new frames)": streaming})
              .to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
        summary_rows.append({
            "front end": f"decimation {decimation}",
            "per frame, whole clip": round(clip.stages["features"] / frontend.num_frames),
            "per frame, streaming": round(streaming.stages["features"] / new_frames),
            "always-on total (M)": round(streaming.total / 1e6, 3),
            f"duty cycle at {args.rate:g}/s": f"{streaming.duty_cycle(profile, args.rate):.1%}",
            "firmware RAM (B)": image.ram_bytes,
        })
    print(f"\nfront end per frame (instructions; streaming includes the ring buffers and the decimator; goal "
          f"<= 25,000) and the always-on total per inference (goal <= 4.0 M) at {args.rate:g} inferences/s:")
    print(pd.DataFrame(summary_rows).to_string(index=False, formatters={
        "per frame, whole clip": "{:,}".format, "per frame, streaming": "{:,}".format, "firmware RAM (B)": "{:,}".format}))
    print(f"network: {clip.stages['network'] / cost.macs:.3f} instructions per MAC ({cost.macs:,} MACs)")

    image, summary = default_image, default_summary
    model_ram = summary["arena_bytes"] + summary["blob_bytes"]
    footprint = pd.DataFrame([
        {"what": "firmware ELF (arm-none-eabi-size)", "flash_bytes": image.flash_bytes, "ram_bytes": image.ram_bytes,
         "note": "one build for every candidate: RAM holds a 1 MiB model buffer and a 512 KiB arena"},
        {"what": "this model on the board", "flash_bytes": 0, "ram_bytes": model_ram,
         "note": f"description {summary['blob_bytes']:,} B uploaded to RAM + arena {summary['arena_bytes']:,} B"},
        {"what": "cost model estimate (nas.cost)", "flash_bytes": cost.flash_bytes, "ram_bytes": cost.ram_bytes,
         "note": f"arena {cost.arena_bytes:,} B; Hello Edge memory {cost.memory_hello_edge_bytes:,} B"},
    ])
    print("\nfootprint:")
    print(footprint.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
