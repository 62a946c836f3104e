"""`kws-nas bench MODEL.tflite --board mps2_an500 [--port URL] [--rate 10] [--sparse auto|never|always]
[--out DIR]`: per-stage latency.

Runs features (MFCC on the board) + network + post-processing on one clip and prints the breakdown,
then the same always-on: at ``--rate`` inferences per second each inference computes only its new
feature frames (5 at 10/s and a 20 ms stride) through the board's streaming front end; with the
duty cycle, the share of the CPU that rate takes. The emulator counts instructions, shown as
milliseconds estimated with the board profile's clock.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from nas.board.base import synthetic_clip
from nas.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="int8 .tflite")
    parser.add_argument("--board", default="mps2_an500", help="board profile (constraints/NAME.yaml)")
    parser.add_argument("--port", help="serial port or pyserial URL of a real board (default: emulate --board)")
    parser.add_argument("--count", type=int, default=5, help="timed inferences")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--rate", type=float, default=10.0, help="inferences per second, always-on (default 10)")
    parser.add_argument("--out", type=Path, help="folder for breakdown.csv and breakdown.html/.png")
    parser.add_argument("--sparse", choices=("auto", "never", "always"), default="auto",
                        help="store pruned filters sparse where predicted faster (auto, the default), never, "
                             "or wherever eligible (always)")


def _plot(rows, title: str, out: Path) -> None:
    import plotly.graph_objects as go

    from nas.report.figures import write_figure

    fig = go.Figure()
    for mode in dict.fromkeys(r["mode"] for r in rows):
        mine = [r for r in rows if r["mode"] == mode]
        fig.add_bar(name=mode, x=[r["stage"] for r in mine], y=[r["ms"] for r in mine],
                    text=[f"{r['ms']:.2f} ms" for r in mine])
    fig.update_layout(title={"text": title, "font": {"size": 14}}, yaxis_title="ms per inference", xaxis_title="stage",
                      barmode="group", template="plotly_white", width=900, height=500)
    write_figure(fig, out / "breakdown")  # HTML always; the PNG unless Chrome is missing (logged)


def run(args) -> int:
    import pandas as pd

    from nas.board.model_blob import tflite_to_blob
    from nas.board.connect import open_board
    from nas.cost.budget import load_board
    from nas.data.frontend_config import FrontEndConfig
    from nas.data.streaming import new_frames_per_inference, rate_hop_ms

    if args.count < 1 or args.warmup < 0:
        raise ConfigError("--count must be >= 1 and --warmup >= 0")
    frontend = FrontEndConfig()
    new_frames = new_frames_per_inference(frontend, rate_hop_ms(args.rate))
    blob = tflite_to_blob(args.model, sparse=args.sparse)
    profile = load_board(args.board)
    with open_board(args.board, args.port) as board:
        board.load(blob)
        clip = board.stages(synthetic_clip(frontend.clip_samples), count=args.count, warmup=args.warmup)
        streaming = board.stages(None, count=args.count, warmup=args.warmup, new_frames=new_frames)
    modes = {f"whole clip ({frontend.num_frames} frames)": clip, f"always-on ({new_frames} new frames)": streaming}
    rows = []
    for mode, m in modes.items():
        ms = m.stages_ms(profile)
        rows += [{"mode": mode, "stage": name, m.unit: m.stages[name], "ms": ms[name]} for name in ("features", "network", "post")]
        rows.append({"mode": mode, "stage": "total", m.unit: m.total, "ms": sum(ms.values())})
    table = pd.DataFrame(rows)
    unit = clip.unit
    note = f" (estimate at {profile.clock_hz / 1e6:.0f} MHz, {profile.cycles_per_instruction} cycles/instruction)" \
        if unit == "instructions" else ""
    print(f"{args.model.name} on {board.name}{note}, {len(blob):,} bytes of model description (--sparse {args.sparse})")
    print(table.to_string(index=False, formatters={unit: "{:,.0f}".format, "ms": "{:.3f}".format}))
    print(f"always-on at {args.rate:g} inferences/s: {sum(streaming.stages_ms(profile).values()):.3f} ms per inference, "
          f"duty cycle {streaming.duty_cycle(profile, args.rate):.1%} "
          f"(recomputing the whole clip each time: {clip.duty_cycle(profile, args.rate):.1%})")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "breakdown.csv", index=False)
        _plot([r for r in rows if r["stage"] != "total"], f"{args.model.name} on {args.board}{note}", args.out)
    return 0
