"""Hostile and careless inputs, one row each: what kws-nas does with them, and its exit code.

Every module in ``benchmarks/reliability/`` lists ``CASES``. A case is either a command line run as
``python -m nas ARGV`` in a fresh temporary folder (``{tmp}`` and the placeholders its ``setup`` returns
are filled in), or a ``run`` callable for what is no command line (a board client over a socket).
Outcomes:

* ``error``: a non-zero exit with one clear error line and no traceback (what bad input should get);
* ``ok``: a zero exit where one was expected;
* ``traceback``: Python's traceback reached the user;
* ``silent``: exit 0 where the input was bad (a wrong result nobody is told about), or an error where
  the input was good;
* ``hang``: no answer within the case's time limit.

The goal is 0 tracebacks, 0 silent results and 0 hangs. ``--out FILE.csv`` keeps the table.

    .venv/bin/python benchmarks/bench_reliability.py [--only SUBSTRING] [--out reliability.csv]
"""
from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

CASES_DIR = Path(__file__).resolve().parent / "reliability"
REPO = CASES_DIR.parents[1]
OUTCOMES = ("error", "ok", "traceback", "silent", "hang")


def load_cases() -> list[dict]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"reliability_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases += [{**case, "group": path.stem} for case in module.CASES]
    return cases


def classify(case: dict, returncode: int, stdout: str, stderr: str) -> tuple[str, str]:
    """(outcome, the line a user reads) of a finished command.

    A bad input is clearly refused by a non-zero exit with an error line on stderr, or, for a report
    command such as ``data check``, with a stdout line naming ``case["names"]`` (the bad file).
    """
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    last = lines[-1].strip() if lines else ""
    named = next((line.strip() for line in stdout.splitlines() if case.get("names") and case["names"] in line), "")
    if "Traceback (most recent call last)" in stderr:
        return "traceback", last
    if returncode == 0:
        return ("ok", last) if case.get("expect", "error") == "ok" else ("silent", "exit 0 on bad input")
    if case.get("expect", "error") == "ok":
        return "silent", f"failed on good input: {last}"
    if "error" in last.lower():
        return "error", last
    return ("error", named) if named else ("silent", f"exit {returncode} without an error line")


def run_command(case: dict, tmp: Path, timeout: float) -> tuple[str, str, int | None]:
    values = {"tmp": str(tmp), **((case.get("setup") or (lambda _: {}))(tmp) or {})}
    argv = [str(a).format(**values) for a in case["argv"]]
    try:
        done = subprocess.run([sys.executable, "-m", "nas", *argv], cwd=tmp, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "hang", f"no answer in {timeout:.0f} s", None
    outcome, line = classify(case, done.returncode, done.stdout, done.stderr)
    return outcome, line, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case before it counts as a hang")
    parser.add_argument("--out", type=Path, help="also write the table as CSV")
    args = parser.parse_args()

    rows = []
    cases = [c for c in load_cases() if args.only in c["name"]]
    for i, case in enumerate(cases, 1):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="kws-reliability-") as tmp:
            if "run" in case:
                try:
                    outcome, line, code = *case["run"](Path(tmp)), None
                except Exception as err:  # the case's own client broke: count it, go on
                    outcome, line, code = "traceback", f"{type(err).__name__}: {err}", None
            else:
                outcome, line, code = run_command(case, Path(tmp), args.timeout)
        rows.append({"group": case["group"], "case": case["name"], "outcome": outcome, "exit": code,
                     "seconds": round(time.perf_counter() - started, 1), "what the user reads": line[:110]})
        print(f"[{i}/{len(cases)}] {case['name']}: {outcome}", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    if len(table):
        table["exit"] = table["exit"].astype("Int64")  # a socket case has no exit code
    with pd.option_context("display.max_colwidth", 110, "display.width", 250):
        print(table.to_string(index=False))
    counts = table["outcome"].value_counts() if len(table) else pd.Series(dtype=int)
    print("\n" + ", ".join(f"{counts.get(o, 0)} {o}" for o in OUTCOMES) + f" ({len(table)} cases)")
    if args.out:
        table.to_csv(args.out, index=False)
    return 0 if not any(counts.get(o, 0) for o in ("traceback", "silent", "hang")) else 1


if __name__ == "__main__":
    sys.exit(main())
