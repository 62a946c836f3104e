"""`kws-nas prune RESULTS_DIR_or_CHECKPOINT --out DIR`: accuracy against size and speed of pruned models.

For one checkpoint, or the best trial of a results folder's budget class (the one ``best.json``
names), each curve (method × granularity × norm) is measured at every sparsity, once as pruned and once
after ``--finetune-steps`` of fine-tuning. Writes ``prune.csv`` and the figures (HTML + PNG) into
``--out`` and prints one line per curve naming its cliff. The sparse kernels' speed-up on the model's
own largest conv and FC layers (``kernels.csv``, the ``prune_speed_up`` figure, break-even lines) is
measured on the emulated board alongside.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nas.errors import ConfigError


def _list(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in _list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 0.3,0.5,0.7, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, help="a checkpoint (model.pt) or a kws-nas search results folder")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: prune/ beside the target)")
    parser.add_argument("--data", type=Path, default=None,
                        help="Speech Commands folder (default for a results folder: the one the study recorded)")
    parser.add_argument("--budget-class", help="for a results folder with several classes: the class to prune")
    parser.add_argument("--method", type=_list, default=["unstructured", "structured"],
                        help="unstructured (masks, same shape) and/or structured (channels removed); default both")
    parser.add_argument("--granularity", type=_list, default=None,
                        help="element|block|nm (unstructured), channel (structured); default element and channel")
    parser.add_argument("--norm", type=_list, default=["l1", "l2", "linf"],
                        help="l1,l2,linf (default all three; element-wise runs once: one weight's norms agree)")
    parser.add_argument("--block", default="1x4", help="block shape rows x inner-loop length (default 1x4; 4x1)")
    parser.add_argument("--nm", type=_list, default=["3:4", "2:4", "1:4", "1:8", "1:16"],
                        help="N:M patterns, each a sparsity 1-N/M (default 3:4,2:4,1:4,1:8,1:16)")
    parser.add_argument("--scope", choices=("layer", "global"), default="layer",
                        help="prune each layer by the sparsity (default) or rank all weights together")
    parser.add_argument("--sparsities", type=_floats, default=[0.3, 0.5, 0.7, 0.9, 0.95],
                        help="fractions in [0, 1) (default 0.3,0.5,0.7,0.9,0.95)")
    parser.add_argument("--finetune-steps", type=int, default=200, help="Adam steps per point (default 200)")
    parser.add_argument("--finetune-lr", type=float, default=5e-4, help="fine-tune learning rate (default 5e-4)")
    parser.add_argument("--cpu-repeats", type=int, default=30, help="timed batch-1 inferences per point (default 30)")
    parser.add_argument("--cliff-points", type=float, default=2.0,
                        help="a curve's cliff: first sparsity losing more validation accuracy (points; default 2)")
    parser.add_argument("--int8", action="store_true", help="also convert each point to int8 and score it (slow)")
    parser.add_argument("--board", default=None,
                        help="time each int8 point on a board profile, e.g. mps2_an500 (emulated M7; slow)")
    parser.add_argument("--port", default=None, help="with --board: a serial port (default: the emulator)")
    parser.add_argument("--front", action="store_true",
                        help="instead of the sweep: width vs structured pruning on the class's Pareto front "
                             "(front.csv, prune_front figure, the better front named; a results folder only)")
    parser.add_argument("--front-ratios", type=_floats, default=[0.25, 0.5],
                        help="with --front: channel fractions removed from each front model (default 0.25,0.5)")
    parser.add_argument("--front-top", type=int, default=3,
                        help="with --front: the most accurate front trials taken (default 3)")
    parser.add_argument("--speed-up-board", default="mps2_an500", choices=("mps2_an500", "mps2_an386", "none"),
                        help="emulated board that times the sparse kernels on the model's largest conv and FC "
                             "(kernels.csv, prune_speed_up figure; default mps2_an500; none skips it)")


def _target(args) -> tuple[Path, Any, str]:
    """(checkpoint, dataset folder, label)."""
    if args.target.is_file():
        if args.data is None:
            raise ConfigError(f"--data: needed for a single checkpoint ({args.target})")
        return args.target, args.data, args.target.parent.name or args.target.stem
    if not args.target.is_dir():
        raise ConfigError(f"{args.target}: no such checkpoint or results folder")
    from nas.results.folder import open_results

    results = open_results(args.target)
    best = results.best()
    if not best:
        raise ConfigError(f"{args.target}: no feasible trial with a checkpoint to prune")
    name = args.budget_class or (next(iter(best)) if len(best) == 1 else None)
    if name not in best:
        raise ConfigError(f"--budget-class: {args.target} holds classes {sorted(best)}; name one of them")
    return best[name].checkpoint, args.data or results.recorded_dataset(), name


def series_of(args) -> list:
    """The curves the flags ask for (ConfigError on an unknown method, granularity or norm)."""
    from nas.prune.masks import parse_pair
    from nas.prune.sweep import METHODS, Series

    unknown = [m for m in args.method if m not in METHODS]
    if unknown:
        raise ConfigError(f"--method: unknown {unknown}; expected some of {list(METHODS)}")
    known = [g for m in args.method for g in METHODS[m]]
    granularities = args.granularity or [METHODS[m][0] for m in args.method]
    stray = [g for g in granularities if g not in known]
    if stray:
        raise ConfigError(f"--granularity {','.join(stray)}: not a granularity of --method {','.join(args.method)} "
                          f"(unstructured: element|block|nm, structured: channel)")
    block = parse_pair("--block", args.block, "x")
    nm = tuple(parse_pair("--nm", p, ":") for p in args.nm)
    out = []
    for method in args.method:
        for g in (g for g in granularities if g in METHODS[method]):
            for norm in (args.norm[:1] if g == "element" else args.norm):
                out.append(Series(method, g, norm, block, nm))
    return out


def _kernel_speed_up(model, candidate, board: str, out: Path):
    """kernels.csv of the model's own layers on the sparse kernels, or None (skipped, or no toolchain)."""
    from nas.atomic import atomic_path
    from nas.prune.kernels import kernel_speed_up, missing_tools

    if board == "none":
        return None
    missing = missing_tools()
    if missing:
        print(f"kernel speed-up figure skipped: missing {', '.join(missing)} (scripts/bootstrap.sh installs them)")
        return None
    table = kernel_speed_up(model, candidate.input_shape, board)
    if table.empty:
        print(f"kernel speed-up figure skipped: {candidate.arch} has no conv or fully connected layer")
        return None
    with atomic_path(out / "kernels.csv") as tmp:
        table.to_csv(tmp, index=False)
    return table


def run(args: argparse.Namespace) -> int:
    import pandas as pd
    from tqdm import tqdm

    from nas.atomic import atomic_path
    from nas.data.cache import load_features
    from nas.export.accuracy import load_model
    from nas.prune.channels import channel_groups
    from nas.prune.kernels import break_even_lines
    from nas.prune.figures import figures, speed_up_figure
    from nas.prune.sweep import SweepConfig, cliff_lines, sweep
    from nas.report.figures import write_figure

    if args.finetune_steps < 0 or args.cpu_repeats < 1:
        raise ConfigError(f"--finetune-steps must be >= 0 and --cpu-repeats >= 1, got {args.finetune_steps} "
                          f"and {args.cpu_repeats}")
    if args.front:
        from nas.prune.front_cli import run_front

        if not args.target.is_dir():
            raise ConfigError(f"--front: {args.target} is not a results folder (the front comes from its trials)")
        _, data, label = _target(args)
        return run_front(args, args.target, label, data)
    series = series_of(args)
    if args.data is not None and not args.data.is_dir():
        raise ConfigError(f"--data {args.data}: no such dataset folder")
    checkpoint, data, label = _target(args)
    model, candidate = load_model(checkpoint)
    if any(s.method == "structured" for s in series):
        channel_groups(candidate, model)  # refuses an architecture without removable channels, before any work
    config = SweepConfig(args.sparsities, args.scope, args.finetune_steps, args.finetune_lr, args.cpu_repeats,
                         args.cliff_points, int8=args.int8)
    levels = [s.levels(args.sparsities) for s in series]  # checks every sparsity before any work
    sets = {split: load_features(data, candidate.frontend, split) for split in ("train", "validation", "test")}
    probe = None
    if args.board:
        from nas.board.probe import BoardLatencyProbe

        probe = BoardLatencyProbe(args.board, args.port)
        config.board = probe.measure
    out = args.out or (args.target.parent if args.target.is_file() else args.target) / "prune"
    out.mkdir(parents=True, exist_ok=True)
    total = 1 + 2 * sum(len(points) for points in levels)
    try:
        with tqdm(total=total, desc="prune", unit="point") as bar:
            config.progress = lambda name: (bar.set_postfix_str(name), bar.update())
            table = sweep(model, candidate, series, sets, config)
    finally:
        if probe is not None:
            probe.close()
    kernels = _kernel_speed_up(model, candidate, args.speed_up_board, out)
    table.insert(0, "model", f"{label}: {candidate.describe()}")
    csv = out / "prune.csv"
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False)
    title = f"Pruning {candidate.arch} ({label}, {data.name})"
    drawn = figures(table, title)
    if kernels is not None:
        drawn["prune_speed_up"] = speed_up_figure(kernels, title)
    written = [p for stem, fig in drawn.items() for p in write_figure(fig, out / stem)]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(table.drop(columns=["model", "spec", "footprint"]).to_string(index=False))
    print("\n".join(cliff_lines(table, args.cliff_points)))
    if kernels is not None:
        print(f"sparse kernels on {args.speed_up_board} (speed-up over the dense int8 kernel, emulated instructions):")
        print("\n".join(break_even_lines(kernels)))
    if args.board is None:
        print("mcu_ms is empty: pass --board mps2_an500 to time each point on the emulated Cortex-M7")
    print("On the board, unstructured points store each pruned filter sparse where its sparse kernel is predicted "
          "faster (else dense, zeros stored; flash_bytes is the cost model's dense layout); structured points are "
          "smaller dense models.")
    print(f"→ {csv}, " + ", ".join(str(p) for p in written if p.suffix == ".html"))
    return 0
