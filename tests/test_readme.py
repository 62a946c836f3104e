"""The README's command table matches the CLI's own parsers: every verb (and subcommand) has a row,
every row names a real verb, and every --flag a row shows is one that verb's parser takes."""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from nas.cli import PASSTHROUGH_VERBS, VERBS, build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def _rows() -> list[str]:
    """The first cell of each row of the table under '## Commands'."""
    section = README.read_text().split("## Commands", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `kws-nas ")]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return {name: p for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for name, p in action.choices.items()}


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


@pytest.fixture(scope="module")
def parsers() -> dict[str, argparse.ArgumentParser]:
    """'data synth', 'cost', ... -> the parser that reads that command's flags."""
    from nas.search.cli import argument_parser

    verbs = _subparsers(build_parser()[0])
    found = {}
    for verb, parser in verbs.items():
        subs = _subparsers(parser)
        for name, sub in (subs.items() if subs else [("", parser)]):
            found[f"{verb} {name}".strip()] = sub
    for verb in PASSTHROUGH_VERBS:  # search: Hydra's own argument parser, plus -v
        found[verb] = argument_parser()
    return found


def _command(row: str, parsers) -> str:
    words = row.split("`")[1].split()[1:3]
    two = " ".join(words)
    return two if two in parsers else words[0]


def test_every_verb_and_subcommand_has_a_row_and_every_row_a_verb(parsers):
    commands = [_command(row, parsers) for row in _rows()]
    assert set(commands) == set(parsers), "README command table and the CLI disagree"
    assert {c.split()[0] for c in commands} == set(VERBS)


def test_every_flag_in_a_row_exists_in_that_commands_parser(parsers):
    checked = 0
    for row in _rows():
        command = _command(row, parsers)
        for flag in re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", row):
            assert flag in _flags(parsers[command]), f"README row of `kws-nas {command}` shows {flag}, which it does not take"
            checked += 1
    assert checked >= 10
