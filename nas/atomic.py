"""Atomic file writes: a temporary file in the same folder, renamed over the target when complete.

A killed writer leaves at most a stray hidden ``.tmp`` file, never a half file that looks whole, so
readers (a resumed study, the feature cache, `kws-nas report`) can trust whatever exists.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path to write; it replaces ``path`` when the block ends without error.

    The temporary name keeps the target's suffix (some writers, e.g. image exporters, pick the format
    from it) and carries the process id, so concurrent workers never write the same temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json_atomic(path: str | os.PathLike, data) -> Path:
    """``data`` as indented JSON with sorted keys (stable diffs between rewrites)."""
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
