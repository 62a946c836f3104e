"""Boots a bench image on the emulated board and collects what it prints: the one QEMU runner of
firmware/bench (benchmarks/bench_kernels.py, sparse_runner.py).

``-icount shift=0``: one guest instruction is 1 ns of virtual time, so the images' SysTick readings
count instructions whatever the host's load.
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Sequence

MACHINES = {"mps2_an500": "mps2-an500", "mps2_an386": "mps2-an386"}


def image_lines(elf: Path, board: str, row_prefix: str, done: str, error_prefix: str | None = None,
                extra_args: Sequence[str] = (), timeout_s: float = 120.0) -> list[str]:
    """The lines starting with ``row_prefix`` that ``elf`` prints before ``done``.

    Raises:
        RuntimeError: a line starts with ``error_prefix``.
        TimeoutError: ``done`` did not come within ``timeout_s``.
    """
    cmd = ["qemu-system-arm", "-machine", MACHINES[board], "-icount", "shift=0", "-nographic", "-monitor", "none",
           "-serial", "stdio", "-kernel", str(elf), *extra_args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, deadline = [], time.monotonic() + timeout_s
    try:
        for line in proc.stdout:
            line = line.strip()
            if error_prefix and line.startswith(error_prefix):
                raise RuntimeError(f"{elf.name}: {line}")
            if line == done:
                break
            if line.startswith(row_prefix):
                lines.append(line)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{elf.name} did not finish within {timeout_s} s")
    finally:
        proc.kill()
        proc.wait()
    return lines
