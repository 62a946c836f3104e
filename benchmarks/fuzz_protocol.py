"""Fuzz the firmware's command parser on the host with libFuzzer (clang): prints inputs run and crashes.

Needs Debian `clang` and `libfuzzer-14-dev` (scripts/bootstrap.sh). Runs at least 1 M inputs.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"
RUNS = 1_000_000
SEEDS = [b"name%", b"db load 490%db 0a0b%", b"infer 10 1%", b"model load 100%", b"stages 2 0%", b"x" * 90 + b"%"]


def main() -> int:
    clang = shutil.which("clang") or shutil.which("clang-14")
    if clang is None:
        print("fuzz_protocol: clang not installed (scripts/bootstrap.sh installs clang and libfuzzer-14-dev)")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        binary, corpus = Path(tmp) / "fuzz_protocol", Path(tmp) / "corpus"
        corpus.mkdir()
        for i, seed in enumerate(SEEDS):
            (corpus / f"seed{i}").write_bytes(seed)
        subprocess.run([clang, "-g", "-O1", "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
                        f"-I{FIRMWARE / 'src'}", str(FIRMWARE / "host/fuzz_protocol.c"), str(FIRMWARE / "src/protocol.c"),
                        "-o", str(binary)], check=True)
        result = subprocess.run([str(binary), f"-runs={RUNS}", "-max_len=512", str(corpus)],
                                capture_output=True, text=True)
    log = result.stderr
    done = re.findall(r"Done (\d+) runs in (\d+) second", log)
    runs, seconds = (int(done[-1][0]), int(done[-1][1])) if done else (0, 0)
    crashed = result.returncode != 0
    print(f"protocol fuzzing: {runs:,} inputs in {seconds} s, crashes: {'YES' if crashed else 0}")
    if crashed:
        print(log[-3000:])
    return 1 if crashed or runs < RUNS else 0


if __name__ == "__main__":
    sys.exit(main())
