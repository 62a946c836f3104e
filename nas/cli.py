"""`kws-nas <verb>`: one module per verb, imported only when that verb runs.

Each verb module defines ``add_arguments(parser)`` and ``run(args) -> int``; heavy imports
(torch, tensorflow) stay inside ``run`` so that ``kws-nas --help`` answers at once.
``search`` is a Hydra app and receives its own argv untouched.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from nas.errors import KwsNasError

# verb -> (module, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "data": ("nas.data.cli", "generate, check, fetch or featurise a Speech Commands dataset"),
    "plot-audio": ("nas.report.audio_cli", "plot waveform, spectrum, spectrogram, mel and MFCC of one clip"),
    "cost": ("nas.cost.cli", "int8 memory and ops of one architecture, and its budget feasibility"),
    "search": ("nas.search.cli", "run an Optuna search (a Hydra app: key=value overrides, --multirun)"),
    "report": ("nas.report.cli", "rebuild tables and figures of a results folder from its storage"),
    "evaluate": ("nas.train.evaluate_cli", "score a checkpoint or a results folder on a dataset"),
    "export": ("nas.export.cli", "export the best model per budget class to int8 .tflite and C sources"),
    "quant-sweep": ("nas.export.quant_cli", "accuracy vs bit-width for PTQ, QAT and minifloat"),
    "bench": ("nas.board.bench_cli", "measure one .tflite on a board and print the latency breakdown"),
    "board": ("nas.board.cli", "serve the emulated board on a TCP port"),
}
PASSTHROUGH_VERBS = {"search"}


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # its parent package is not there either
        return False


def _available_verbs() -> dict[str, tuple[str, str]]:
    return {v: spec for v, spec in VERBS.items() if _module_exists(spec[0])}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbs = _available_verbs()
    if argv and argv[0] in PASSTHROUGH_VERBS and argv[0] in verbs:
        module = importlib.import_module(verbs[argv[0]][0])
        return int(module.main(argv[1:]) or 0)

    parser = argparse.ArgumentParser(
        prog="kws-nas",
        description="Hardware-aware neural architecture search for keyword spotting on Arm Cortex-M.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    modules = {}
    for verb, (module_name, help_text) in verbs.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        if verb in PASSTHROUGH_VERBS:
            continue
        modules[verb] = importlib.import_module(module_name)
        modules[verb].add_arguments(p)
    args = parser.parse_args(argv)
    if args.verb is None:
        parser.print_help()
        return 2
    try:
        return int(modules[args.verb].run(args) or 0)
    except KwsNasError as err:
        print(f"kws-nas {args.verb}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
