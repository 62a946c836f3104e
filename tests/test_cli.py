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
