"""`kws-nas bench MODEL.tflite --board mps2_an500 [--port URL] [--sparse auto|never|always] [--out DIR]`:
per-stage latency.

Runs features (MFCC on the board) + network + post-processing on one clip and prints the breakdown;
the emulator counts instructions, shown as milliseconds estimated with the board profile's clock.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from nas.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="int8 .tflite")
    parser.add_argument("--board", default="mps2_an500", help="board profile (constraints/NAME.yaml)")
    parser.add_argument("--port", help="serial port or pyserial URL of a real board (default: emulate --board)")
    parser.add_argument("--count", type=int, default=5, help="timed inferences")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--out", type=Path, help="folder for breakdown.csv and breakdown.html/.png")
    parser.add_argument("--sparse", choices=("auto", "never", "always"), default="auto",
                        help="store pruned filters sparse where predicted faster (auto, the default), never, "
                             "or wherever eligible (always)")


def synthetic_clip(samples: int) -> np.ndarray:
    """A deterministic speech-like test clip (the timing does not depend on the words)."""
    rng = np.random.default_rng(0)
    t = np.arange(samples) / 16000
    voiced = np.sin(2 * np.pi * (150 + 100 * t) * t) * (np.sin(np.pi * t) ** 2)
    return (8000 * voiced + rng.normal(0, 200, samples)).astype(np.int16)


def _plot(rows, title: str, out: Path) -> None:
    import plotly.graph_objects as go

    from nas.report.figures import write_figure

    fig = go.Figure(go.Bar(x=[r["stage"] for r in rows], y=[r["ms"] for r in rows],
                           text=[f"{r['ms']:.2f} ms" for r in rows]))
    fig.update_layout(title={"text": title, "font": {"size": 14}}, yaxis_title="ms per inference", xaxis_title="stage",
                      template="plotly_white", width=900, height=500)
    write_figure(fig, out / "breakdown")  # HTML always; the PNG unless Chrome is missing (logged)


def run(args) -> int:
    import pandas as pd

    from nas.board.model_blob import tflite_to_blob
    from nas.board.connect import open_board
    from nas.cost.budget import load_board
    from nas.data.frontend_config import FrontEndConfig

    if args.count < 1 or args.warmup < 0:
        raise ConfigError("--count must be >= 1 and --warmup >= 0")
    blob = tflite_to_blob(args.model, sparse=args.sparse)
    profile = load_board(args.board)
    with open_board(args.board, args.port) as board:
        board.load(blob)
        m = board.stages(synthetic_clip(FrontEndConfig().clip_samples), count=args.count, warmup=args.warmup)
    ms = m.stages_ms(profile)
    rows = [{"stage": name, m.unit: m.stages[name], "ms": ms[name]} for name in ("features", "network", "post")]
    rows.append({"stage": "total", m.unit: m.total, "ms": sum(ms.values())})
    table = pd.DataFrame(rows)
    note = f" (estimate at {profile.clock_hz / 1e6:.0f} MHz, {profile.cycles_per_instruction} cycles/instruction)" \
        if m.unit == "instructions" else ""
    print(f"{args.model.name} on {board.name}{note}, {len(blob):,} bytes of model description (--sparse {args.sparse})")
    print(table.to_string(index=False, formatters={m.unit: "{:,.0f}".format, "ms": "{:.3f}".format}))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "breakdown.csv", index=False)
        _plot(rows[:-1], f"{args.model.name} on {args.board}{note}", args.out)
    return 0
