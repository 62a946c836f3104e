"""`kws-nas quant-sweep RESULTS_DIR_or_CHECKPOINT [--data DIR]`: test accuracy vs bit width.

For one checkpoint, or for each budget class's best trial of a results folder (the one its
``best.json`` names: best by the accuracy objective the study optimised, ties to less memory), the
weights are fake-quantized to 2..8 bits three ways:
integer PTQ, integer QAT (a short straight-through fine-tune on the augmented training split) and
minifloat PTQ. Accuracy is on the test split by default: the trials were chosen on validation.
Activations (every layer's input) are int8 by default, as on the board; ``--activation-bits same``
quantizes them to the weights' width (W4A4 ...), ``float`` leaves them alone.
Writes ``quant_sweep.csv`` and ``quant_sweep.html/png`` into ``--out`` (default: beside the input).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nas.atomic import atomic_path
from nas.errors import ConfigError


def _bits(text: str) -> list[int]:
    try:
        low, _, high = text.partition("-")
        bits = list(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected bits like '2-8' or '4', got {text!r}") from None
    if not bits or bits[0] < 2 or bits[-1] > 16:
        raise argparse.ArgumentTypeError(f"bits must lie in 2..16, got {text!r}")
    return bits


def _activation_bits(text: str) -> int | str | None:
    if text in ("float", "same"):
        return None if text == "float" else text
    try:
        bits = int(text)
    except ValueError:
        bits = 0
    if not 2 <= bits <= 16:
        raise argparse.ArgumentTypeError(f"expected 'float', 'same' or bits in 2..16, got {text!r}")
    return bits


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", type=Path, help="a checkpoint (model.pt) or a kws-nas search results folder")
    parser.add_argument("--data", type=Path, default=None,
                        help="the Speech Commands folder to train and score on (default for a results folder: "
                             "the one the study recorded)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: beside the target)")
    parser.add_argument("--bits", type=_bits, default=list(range(2, 9)), help="bit widths, e.g. 2-8 (default)")
    parser.add_argument("--asymmetric", action="store_true", help="asymmetric integers (default: symmetric)")
    parser.add_argument("--per-tensor", action="store_true", help="one scale per tensor (default: per channel)")
    parser.add_argument("--qat-steps", type=int, default=300, help="QAT fine-tune steps per bit width (default: 300)")
    parser.add_argument("--split", choices=("test", "validation"), default="test",
                        help="the split scored (default: test; a search chose its trials on validation)")
    parser.add_argument("--activation-bits", type=_activation_bits, default=8, metavar="{float,same,N}",
                        help="layer inputs: N bits (default 8, as on the board), 'same' as the weights, or 'float'")
    parser.add_argument("--exponent-bits", type=int, default=None,
                        help="minifloat exponent bits (default: ceil((bits-1)/2): E2M1, E3M2, E4M3, ...)")


def _targets(target: Path, data: Path | None) -> tuple[dict[str, Path], Any]:
    """(label → checkpoint path, dataset): ``data``, else the one a results folder records (its folder,
    or the test-set archive split by speaker as the search split it)."""
    if target.is_file():
        if data is None:
            raise ConfigError(f"--data: needed for a single checkpoint ({target})")
        return {target.parent.name or target.stem: target}, data
    if not target.is_dir():
        raise ConfigError(f"{target}: no such checkpoint or results folder")
    from nas.results.folder import open_results

    results = open_results(target)
    best = results.best()
    if not best:
        raise ConfigError(f"{target}: no feasible trial with a checkpoint to sweep")
    return {cls: trial.checkpoint for cls, trial in sorted(best.items())}, data or results.recorded_dataset()


def run(args: argparse.Namespace) -> int:
    import pandas as pd
    from tqdm import tqdm

    from nas.data.cache import load_features
    from nas.export.accuracy import load_model
    from nas.export.quant import bit_sweep, sweep_figure
    from nas.report.figures import write_figure

    if args.qat_steps < 0:
        raise ConfigError(f"--qat-steps must be >= 0, got {args.qat_steps}")
    if args.data is not None and not args.data.is_dir():
        raise ConfigError(f"--data {args.data}: no such dataset folder")
    targets, data = _targets(args.target, args.data)
    out = args.out or (args.target.parent if args.target.is_file() else args.target) / "quant_sweep"
    out.mkdir(parents=True, exist_ok=True)
    frames = []
    with tqdm(total=len(targets) * len(args.bits), desc="quant-sweep", unit="width") as bar:
        for label, checkpoint in targets.items():
            model, candidate = load_model(checkpoint)
            train = load_features(data, candidate.frontend, "train")
            scored = load_features(data, candidate.frontend, args.split)
            df = bit_sweep(model, (train.features, train.labels), (scored.features, scored.labels), args.bits,
                           symmetric=not args.asymmetric, per_channel=not args.per_tensor,
                           qat_steps=args.qat_steps, exponent_bits=args.exponent_bits,
                           activation_bits=args.activation_bits, progress=bar.update)
            df.insert(0, "model", f"{label}: {candidate.describe()}")
            df.insert(1, "split", args.split)
            frames.append(df)
    table = pd.concat(frames, ignore_index=True)
    csv = out / "quant_sweep.csv"
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False)
    activations = {None: "float activations", "same": "activations as wide as the weights"}.get(
        args.activation_bits, f"int{args.activation_bits} activations")
    x_title = "bits (weights and activations)" if args.activation_bits == "same" else "weight bits"
    write_figure(sweep_figure(table, f"Accuracy vs bit width, {activations} ({data.name})", x_title,
                              args.split), out / "quant_sweep")
    print(table.to_string(index=False))
    print(f"→ {csv}, {out / 'quant_sweep.html'}")
    return 0
