"""Atomic writes: the target is either the old file or the whole new one, never half of either."""
from __future__ import annotations

import pytest

from nas.atomic import atomic_path, write_bytes_atomic, write_text_atomic


def test_a_completed_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "deep" / "table.csv"
    write_text_atomic(target, "old\n")
    write_text_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in target.parent.iterdir()] == ["table.csv"]


def test_a_failing_writer_keeps_the_old_file_and_cleans_up(tmp_path):
    target = write_bytes_atomic(tmp_path / "model.tflite", b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half a mod")
            raise RuntimeError("killed mid-write")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


def test_the_temporary_keeps_the_suffix_and_is_hidden_beside_the_target(tmp_path):
    with atomic_path(tmp_path / "pareto.png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp.name.startswith(".")
        tmp.write_bytes(b"png")
    assert (tmp_path / "pareto.png").read_bytes() == b"png"
