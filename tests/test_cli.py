"""The `kws-nas` dispatcher: verb listing, help without a verb, errors without tracebacks."""
from __future__ import annotations

import subprocess
import sys

import pytest

from nas.cli import VERBS, main


def test_help_lists_every_verb(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for verb in VERBS:
        assert verb in out


def test_no_verb_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "VERB" in capsys.readouterr().out


def test_user_error_is_one_line_without_traceback(capsys):
    assert main(["cost", "no_such_arch", "--model-size-info", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kws-nas cost: error: unknown architecture 'no_such_arch'")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_python_dash_m_nas_is_the_same_tool():
    done = subprocess.run([sys.executable, "-m", "nas", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "quant-sweep" in done.stdout


def test_every_verb_and_subcommand_takes_verbose():
    import argparse

    from nas.cli import build_parser, leaf_parsers

    parser, _ = build_parser()
    verbs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    leaves = [leaf for verb, p in verbs.items() if verb != "search" for leaf in leaf_parsers(p)]
    assert {leaf.prog for leaf in leaves} >= {"kws-nas data synth", "kws-nas board serve", "kws-nas export"}
    for leaf in leaves:
        assert "-v" in leaf._option_string_actions and "--verbose" in leaf._option_string_actions, leaf.prog


CONVERT_ONE_MODEL = """
import sys
import numpy as np
from nas.cli import quiet_tensorflow
quiet_tensorflow(sys.argv[1] == "verbose")
from nas.export.tflite import convert
from nas.spaces import build_model, candidate_from_model_size_info
c = candidate_from_model_size_info("dnn", [16, 16])
features = np.random.default_rng(0).normal(size=(8, c.frontend.num_frames, c.frontend.n_mfcc)).astype(np.float32)
print(len(convert(build_model(c).eval(), c.frontend, features, "dnn")))
"""


@pytest.mark.slow
def test_tensorflow_is_quiet_unless_verbose(tmp_path):
    import os

    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # this checkout's nas, from any folder
    lines = {}
    for mode in ("quiet", "verbose"):
        done = subprocess.run([sys.executable, "-c", CONVERT_ONE_MODEL, mode], capture_output=True, text=True,
                              timeout=300, env=env, cwd=tmp_path)
        assert done.returncode == 0 and int(done.stdout) > 1000, done.stderr
        lines[mode] = done.stderr.strip().splitlines()
    assert len(lines["quiet"]) <= 6, lines["quiet"]  # was about 15 for one conversion
    assert len(lines["verbose"]) >= len(lines["quiet"]) + 6
