"""Which split a Speech Commands file belongs to: the list files first, the hash rule otherwise.

The hash rule is the one that made the official lists (TensorFlow
``tensorflow/examples/speech_commands/input_data.py``, ``which_set``; Warden 2018): the SHA-1 of the
file name up to ``_nohash_`` becomes a percentage, so every clip of one speaker lands in one split.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from nas.errors import DataError

SPLITS = ("train", "validation", "test")
LIST_FILES = {"validation": "validation_list.txt", "test": "testing_list.txt"}
# TensorFlow's input_data.py: the hash is reduced modulo this + 1 before scaling to a percentage.
MAX_NUM_WAVS_PER_CLASS = 2**27 - 1
_NOHASH = re.compile(r"_nohash_.*$")


def speaker_of(file_name: str) -> str:
    """The part of a clip's base name before ``_nohash_`` (the speaker, or voice, hash)."""
    return _NOHASH.sub("", Path(file_name).name)


def hash_percentage(name: str) -> float:
    """Where ``name`` falls in [0, 100] under the hash rule."""
    digest = int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16)
    return (digest % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS)


def hash_split(hash_name: str, validation_percent: float = 10.0, testing_percent: float = 10.0) -> str:
    """The split the hash rule gives a speaker hash (see ``speaker_of``)."""
    p = hash_percentage(hash_name)
    if p < validation_percent:
        return "validation"
    if p < validation_percent + testing_percent:
        return "test"
    return "train"


def read_split_lists(root: Path) -> dict[str, str] | None:
    """Maps relative path → split for every file named in the list files; None when there are none.

    Raises:
        DataError: one list file is present and the other is missing.
    """
    present = {split: (root / name).is_file() for split, name in LIST_FILES.items()}
    if not any(present.values()):
        return None
    if not all(present.values()):
        have = next(LIST_FILES[s] for s, ok in present.items() if ok)
        missing = next(LIST_FILES[s] for s, ok in present.items() if not ok)
        raise DataError(
            f"{root / missing}: missing; expected it beside {have} (Speech Commands ships both list "
            f"files, or neither for the hash rule)"
        )
    assignment: dict[str, str] = {}
    for split, name in LIST_FILES.items():
        for line in (root / name).read_text(encoding="utf-8").splitlines():
            rel = line.strip().replace("\\", "/")
            if rel:
                assignment[rel] = split
    return assignment
