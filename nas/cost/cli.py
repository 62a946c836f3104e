"""`kws-nas cost`: memory and ops of one architecture, per layer, and its fit to a budget or board.

With ``--board`` and a calibrated board (``constraints/<board>.latency.json``), the predicted latency
comes out too: per layer and in total, in the model's unit (instructions on the emulator) and in ms at
the board's clock (an estimate).

Examples:
    kws-nas cost ds_cnn --model-size-info 5 64 10 4 2 2 64 3 3 1 1 64 3 3 1 1 64 3 3 1 1 64 3 3 1 1
    kws-nas cost dnn --model-size-info 144 144 144 --stride-ms 40 --budget small --json
    kws-nas cost gru --spec '{"num_layers": 1, "cells": 154}' --board nano33ble
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("arch", help="dnn, cnn, basic_lstm, lstm, gru, crnn, ds_cnn or tc_resnet")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--spec", metavar="JSON",
                        help="the spec (or a whole candidate) as JSON text or a path to a .json file")
    source.add_argument("--model-size-info", metavar="N", nargs="+", type=int,
                        help="Hello Edge's model_size_info numbers for this architecture")
    parser.add_argument("--window-ms", type=float, default=None, help="MFCC window (default 40)")
    parser.add_argument("--stride-ms", type=float, default=None, help="MFCC stride (default 20)")
    parser.add_argument("--dct", type=int, default=None, help="number of MFCCs (default 10)")
    parser.add_argument("--budget", help="a budget class from constraints/ (small, medium, large)")
    parser.add_argument("--board", help="a board profile from constraints/ (e.g. stm32f746g_disco)")
    parser.add_argument("--rate", type=float, default=None,
                        help="always-on inferences per second: the front end's latency for only the new "
                             "feature frames of each inference (default: the whole clip)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def _read_json(text: str) -> dict:
    from nas.errors import ConfigError

    source = "--spec"
    if not text.lstrip().startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise ConfigError(f"--spec: {text!r} is neither a JSON object nor an existing file")
        source, text = str(path), path.read_text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{source}: invalid JSON ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a JSON object, got {type(data).__name__}")
    return data


def _candidate(args: argparse.Namespace):
    from nas.data.frontend_config import FrontEndConfig
    from nas.errors import ConfigError
    from nas.spaces import Candidate, candidate_from_model_size_info, spec_class

    spec_cls = spec_class(args.arch)
    overrides = {k: v for k, v in (("window_ms", args.window_ms), ("stride_ms", args.stride_ms),
                                   ("n_mfcc", args.dct)) if v is not None}
    if args.model_size_info is not None:
        return candidate_from_model_size_info(args.arch, args.model_size_info, FrontEndConfig(**overrides))
    data = _read_json(args.spec)
    if "spec" in data:  # a whole candidate, e.g. from a trial's candidate.json
        candidate = Candidate.from_dict(data)
        if candidate.arch != args.arch:
            raise ConfigError(f"--spec: candidate is a {candidate.arch!r}, not {args.arch!r}")
        frontend = FrontEndConfig.from_dict({**candidate.frontend.to_dict(), **overrides})
        candidate = Candidate(args.arch, candidate.spec, frontend)
    else:
        candidate = Candidate(args.arch, spec_cls.from_dict(data), FrontEndConfig(**overrides))
    candidate.spec.layers(candidate.input_shape)
    return candidate


def _report(args: argparse.Namespace) -> dict:
    from nas.cost import estimate, latency
    from nas.cost.budget import load_board, load_budget

    candidate = _candidate(args)
    board = load_board(args.board) if args.board else None
    predictor = latency.for_board(board) if board else None
    new_frames = None
    if args.rate is not None:
        from nas.data.streaming import new_frames_per_inference, rate_hop_ms

        new_frames = new_frames_per_inference(candidate.frontend, rate_hop_ms(args.rate))
    cost = estimate(candidate, latency=predictor, new_frames=new_frames)
    out = {"candidate": candidate.to_dict(), "description": candidate.describe(), **cost.to_dict()}
    if args.budget:
        budget = load_budget(args.budget)
        out["budget"] = {"name": budget.name, "constraints": budget.constraints(cost),
                         "feasible": budget.feasible(cost)}
    if board:
        out["board"] = {"name": board.name, **board.usage(cost), "latency_model": predictor is not None,
                        "latency_ms_estimate": board.latency_ms_estimate(cost),
                        "constraints": board.constraints(cost), "feasible": board.feasible(cost)}
    return out


def _print_text(report: dict) -> None:
    import pandas as pd

    table = pd.DataFrame(report["layers"])
    for col in ("input_shape", "output_shape"):
        table[col] = table[col].map(lambda s: "×".join(map(str, s)))
    print(report["description"])
    print(table.to_string(index=False))
    print(f"\nparams (float model)      {report['params']:>12,}")
    print(f"params (deployed)         {report['params_deployed']:>12,}")
    print(f"MACs                      {report['macs']:>12,}")
    print(f"ops (2 × MACs)            {report['ops']:>12,}   ({report['ops'] / 1e6:.2f} MOps)")
    print(f"memory, Hello Edge        {report['memory_hello_edge_bytes']:>12,} B ({report['memory_hello_edge_bytes'] / 1e3:.1f} KB)")
    print(f"memory, deployment        {report['memory_deploy_bytes']:>12,} B "
          f"(flash {report['flash_bytes']:,} B + RAM {report['ram_bytes']:,} B)")
    if report["latency_ms"] is not None:
        measured_in = "instructions" if report["latency_instructions"] is not None else "us"
        print(f"latency ({report['latency_board']})   {report['latency_' + measured_in]:>12,.0f} {measured_in} "
              f"= {report['latency_ms']:.2f} ms per inference (estimate from the board's latency model)")
    if report["frontend_latency_ms"] is not None:
        measured_in = "instructions" if report["frontend_latency_instructions"] is not None else "us"
        print(f"front end                 {report['frontend_latency_' + measured_in]:>12,.0f} {measured_in} "
              f"= {report['frontend_latency_ms']:.2f} ms per inference ({report['frontend_frames']} feature frames)")
    for key in ("budget", "board"):
        if key in report:
            part = report[key]
            verdict = "fits" if part["feasible"] else "does NOT fit"
            print(f"\n{key} {part['name']}: {verdict} (constraint = usage / limit - 1, <= 0 feasible)")
            for name, value in part["constraints"].items():
                print(f"  {name:<8} {value:+.3f}  {'ok' if value <= 0 else 'over'}")
            if key == "board":
                source = ("its latency model" if part["latency_model"] else
                          f"MACs × cycles_per_mac: no latency model, run kws-nas board calibrate --board {part['name']}")
                print(f"  flash {part['flash_pct']:.1f} %, RAM {part['ram_pct']:.1f} %, "
                      f"latency ≈ {part['latency_ms_estimate']:.2f} ms (estimate, {source})")


def run(args: argparse.Namespace) -> int:
    report = _report(args)
    if args.json:
        print(json.dumps(report))
    else:
        _print_text(report)
    return 0
