"""`kws-nas <verb>`: one module per verb; a verb's module is imported when the parser is built.

Each verb module defines ``add_arguments(parser)`` and ``run(args) -> int``; heavy imports
(torch, tensorflow) stay inside ``run``. Every verb takes ``-v/--verbose`` (TensorFlow's own log
lines, hidden otherwise). ``search`` is a Hydra app and receives its own argv untouched.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from nas.errors import KwsNasError

# verb -> (module, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "data": ("nas.data.cli", "generate, check, fetch or featurise a Speech Commands dataset"),
    "plot-audio": ("nas.report.audio_cli", "plot waveform, spectrum, spectrogram, mel and MFCC of one clip"),
    "cost": ("nas.cost.cli", "int8 memory and ops of one architecture, and its budget feasibility"),
    "search": ("nas.search.cli", "run an Optuna search (a Hydra app: key=value overrides, --multirun)"),
    "retrain": ("nas.search.retrain_cli", "retrain a study's best candidates and Hello Edge's model with several seeds"),
    "report": ("nas.report.cli", "rebuild tables and figures of a results folder from its storage"),
    "dashboard": ("nas.report.dashboard_cli", "watch a study (or a multirun on one storage) in optuna-dashboard"),
    "evaluate": ("nas.train.evaluate_cli", "score a checkpoint or a results folder on a dataset"),
    "export": ("nas.export.cli", "export the best model per budget class to int8 .tflite and C sources"),
    "quant-sweep": ("nas.export.quant_cli", "accuracy vs bit-width for PTQ, QAT and minifloat"),
    "prune": ("nas.prune.cli", "accuracy vs size and speed of unstructured and structured pruning"),
    "bench": ("nas.board.bench_cli", "measure one .tflite on a board and print the latency breakdown"),
    "board": ("nas.board.cli", "serve the emulated board, calibrate a board's latency model, flash a board"),
    "stream": ("nas.stream.cli", "detect keywords in a long recording (or a folder of them) and score them against labels"),
    "listen": ("nas.stream.listen", "detect keywords live from a microphone (or a wav played as one)"),
}
PASSTHROUGH_VERBS = {"search"}


def quiet_tensorflow(verbose: bool) -> None:
    """Hide TensorFlow's C++ and absl log lines (about 30 per conversion) unless ``verbose``.

    Must run before tensorflow is imported: its C++ logging reads the level once.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    logging.getLogger("absl").setLevel(logging.INFO if verbose else logging.ERROR)


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The dispatcher's parser and each non-passthrough verb's module (tests read its subparsers)."""
    parser = argparse.ArgumentParser(
        prog="kws-nas",
        description="Hardware-aware neural architecture search for keyword spotting on Arm Cortex-M.",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    modules = {}
    for verb, (module_name, help_text) in VERBS.items():
        p = sub.add_parser(verb, help=help_text, description=help_text)
        if verb in PASSTHROUGH_VERBS:
            continue
        modules[verb] = importlib.import_module(module_name)
        modules[verb].add_arguments(p)
        for leaf in leaf_parsers(p):
            leaf.add_argument("-v", "--verbose", action="store_true", help="show TensorFlow's own log lines")
    return parser, modules


def leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` itself, or the parsers of its subcommands (``data synth``, ``board serve``), recursively."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for action in subs for child in action.choices.values() for leaf in leaf_parsers(child)]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASSTHROUGH_VERBS:
        module = importlib.import_module(VERBS[argv[0]][0])
        return int(module.main(argv[1:]) or 0)

    parser, modules = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # key=value overrides after the flags (argparse takes positionals in one run only)
        if not hasattr(args, "overrides") or any(e.startswith("-") or "=" not in e for e in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides += extra
    if args.verb is None:
        parser.print_help()
        return 2
    quiet_tensorflow(args.verbose)
    try:
        return int(modules[args.verb].run(args) or 0)
    except KwsNasError as err:
        print(f"kws-nas {args.verb}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
