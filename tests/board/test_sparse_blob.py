"""Sparse filters in the model description (version 3): the host's per-layer choice and packing, and
on the emulated M7 pruned models whose outputs are the dense blob's bytes, with less flash and, at
high sparsity, fewer instructions; version-2 blobs still load, malformed sparse records are refused."""
from __future__ import annotations

import numpy as np
import pytest

from nas.board import model_blob
from nas.board.sparse_layers import (BREAK_EVEN, MEASURED_SPEED_UP, RECORD, predicted_speed_up, sparse_plan,
                                     sparsest_nm)
from nas.errors import BoardError, ConfigError
from nas.firmware.sparse_format import SparseFilter, prune, unpack
from nas.tflite_model import read_model

from .tf_models import cached_tflite, run_tflm

PRUNINGS = {"element": ("element", 0.9), "block": ("block", 0.75), "nm": ("nm", 1, 8)}  # no all-zero rows


@pytest.fixture(scope="module")
def pruned_models(pytestconfig) -> dict[tuple[str, str], object]:
    from pathlib import Path

    cache = Path(pytestconfig.cache.mkdir("kws_board_models"))
    return {(arch, g): cached_tflite(cache, arch, prune=p) for arch in ("cnn", "ds_cnn") for g, p in PRUNINGS.items()}


def _tensor_rows(blob: bytes):
    n_tensors = model_blob.HEADER.unpack_from(blob)[2]
    return [model_blob.TENSOR.unpack_from(blob, model_blob.HEADER.size + i * model_blob.TENSOR.size)
            for i in range(n_tensors)]


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _stored_filter(blob: bytes, row) -> SparseFilter:
    """The SparseFilter a blob's sparse tensor row describes (the firmware's reading of the record)."""
    offset = row[8]
    fmt, _, n, m, rows, taps, *starts = RECORD.unpack_from(blob, offset)
    counts = np.frombuffer(blob, "<u2", rows, offset + starts[0]) if starts[0] else np.zeros(0, np.uint16)
    units = int(counts.sum())
    if fmt == 2:  # N:M: N kept per group of M, by quads
        kept = 4 * rows * _ceil(_ceil(taps, m) * n, 4)
    else:
        kept = 4 * units
    arrays = []
    for start, dtype, count in zip(starts, ("<u2", "<u2", "u1", "i1"),
                                   (rows, units if fmt == 1 else 0, 0 if fmt == 1 else kept, kept)):
        arrays.append(np.frombuffer(blob, dtype, count, offset + start) if start else np.zeros(0, dtype))
    return SparseFilter(("element", "block", "nm")[fmt], rows, taps, n, m, *arrays)


# ---- the host: choice, packing, options ----

def test_break_even_is_where_the_measured_speed_up_crosses_one():
    for key, value in BREAK_EVEN.items():
        points = MEASURED_SPEED_UP[key]
        if np.isnan(value):
            assert max(speed for _, speed in points) < 1
            continue
        assert points[0][0] <= value <= points[-1][0]
        assert predicted_speed_up(*key, value + 0.01) >= 1
        assert predicted_speed_up(*key, value - 0.01) < 1


def test_sparsest_nm_finds_the_pattern_and_nothing_in_dense_weights():
    rng = np.random.default_rng(0)
    dense = rng.integers(1, 128, size=(8, 64)).astype(np.int8)
    assert sparsest_nm(dense) is None
    assert sparsest_nm(prune(dense, "nm", n=1, m=8)) == (1, 8)
    assert sparsest_nm(prune(dense, "nm", n=2, m=16)) in ((2, 16), (1, 8))  # 1:8 also holds only by chance
    assert 1 - np.divide(*sparsest_nm(prune(dense, "nm", n=2, m=16))) >= 1 - 2 / 16


@pytest.mark.parametrize("granularity", list(PRUNINGS))
def test_sparse_records_hold_exactly_the_pruned_weights_and_shrink_the_blob(pruned_models, granularity):
    path = pruned_models["ds_cnn", granularity]
    graph = read_model(path)
    dense, sparse = model_blob.tflite_to_blob(path, sparse="never"), model_blob.tflite_to_blob(path, sparse="always")
    plan = sparse_plan(graph, "always")
    assert {graph.ops[i].name for i in range(len(graph.ops)) if graph.ops[i].inputs[1:2]
            and graph.ops[i].inputs[1] in plan} == {"CONV_2D", "FULLY_CONNECTED"}
    rows = _tensor_rows(sparse)
    for index, row in enumerate(rows):
        assert row[3] == (index in plan)  # the sparse flag
        if index in plan:
            t = graph.tensors[index]
            weights = np.frombuffer(t.data, np.int8).reshape(t.shape[0], -1)
            np.testing.assert_array_equal(unpack(_stored_filter(sparse, row)), weights)
            assert tuple(row[4:8])[-len(t.shape):] == t.shape  # dense dims kept
    assert len(sparse) < len(dense)
    assert all(r[3] == 0 for r in _tensor_rows(dense))


def test_auto_keeps_dense_filters_dense_and_packs_pruned_ones(tflite_models, pruned_models):
    assert sparse_plan(read_model(tflite_models["ds_cnn"]), "auto") == {}
    plan = sparse_plan(read_model(pruned_models["ds_cnn", "block"]), "auto")
    assert plan and all(c.speed_up > 1 and c.filter.format == "block" for c in plan.values())
    with pytest.raises(ConfigError, match="sparse: expected one of"):
        model_blob.tflite_to_blob(tflite_models["ds_cnn"], sparse="sometimes")


# ---- on the emulated M7 ----

@pytest.mark.firmware
@pytest.mark.parametrize("arch", ["cnn", "ds_cnn"])
@pytest.mark.parametrize("granularity", list(PRUNINGS))
def test_sparse_blobs_are_bit_exact_to_the_dense_blob_and_tflite_micro(board, pruned_models, arch, granularity):
    path = pruned_models[arch, granularity]
    inputs = np.random.default_rng(3).integers(-128, 128, size=(2, 49, 10)).astype(np.int8)
    expected = run_tflm(path, inputs)
    for mode in ("never", "always", "auto"):
        board.load(model_blob.tflite_to_blob(path, sparse=mode))
        for x, want in zip(inputs, expected):
            np.testing.assert_array_equal(board.infer(x).outputs, want, err_msg=mode)


@pytest.mark.firmware
def test_version_2_blobs_load_and_other_versions_are_refused_in_one_line(board, tflite_models):
    blob = bytearray(model_blob.tflite_to_blob(tflite_models["cnn"], sparse="never"))
    x = np.random.default_rng(5).integers(-128, 128, size=(49, 10)).astype(np.int8)
    board.load(bytes(blob))
    want = board.infer(x).outputs
    blob[4:8] = (2).to_bytes(4, "little")
    board.load(bytes(blob))
    np.testing.assert_array_equal(board.infer(x).outputs, want)
    for version in (1, 4):
        blob[4:8] = version.to_bytes(4, "little")
        with pytest.raises(BoardError, match="model-version: this firmware loads versions 2-3"):
            board.load(bytes(blob))


@pytest.mark.firmware
def test_malformed_sparse_records_are_refused(board, pruned_models):
    path = pruned_models["ds_cnn", "block"]
    blob = model_blob.tflite_to_blob(path, sparse="always")
    rows = _tensor_rows(blob)
    index = next(i for i, r in enumerate(rows) if r[3] and RECORD.unpack_from(blob, r[8])[0] == 1)
    record = RECORD.unpack_from(blob, rows[index][8])
    broken = bytearray(blob)  # a block index past the row's last group
    broken[rows[index][8] + record[7]:rows[index][8] + record[7] + 2] = (0xFFFF).to_bytes(2, "little")
    with pytest.raises(BoardError, match="model-sparse-index-outside-row"):
        board.load(bytes(broken))
    broken = bytearray(blob)  # the sparse flag in a version-2 blob
    broken[4:8] = (2).to_bytes(4, "little")
    with pytest.raises(BoardError, match="model-tensor-sparse-flag"):
        board.load(bytes(broken))
    assert board.load(blob)["ops"] > 0  # the board stays usable


@pytest.mark.firmware
def test_a_pruned_ds_cnn_runs_in_fewer_instructions_and_less_flash(firmware_image, pytestconfig):
    """Hello Edge DS-CNN small, 1x4 blocks at 0.9, through the normal path (board.load of a .tflite)."""
    from pathlib import Path

    from nas.board.emulated import EmulatedBoard

    cache = Path(pytestconfig.cache.mkdir("kws_board_models"))
    path = cached_tflite(cache, "ds_cnn_small", prune=("block", 0.9))
    x = np.random.default_rng(9).integers(-128, 128, size=(49, 10)).astype(np.int8)
    dense_blob = model_blob.tflite_to_blob(path, sparse="never")
    with EmulatedBoard(image=firmware_image, model=dense_blob) as emulated:
        dense = emulated.infer(x)
    with EmulatedBoard(image=firmware_image, model=path) as emulated:  # tflite_to_blob's default: auto
        sparse = emulated.infer(x)
    np.testing.assert_array_equal(sparse.outputs, dense.outputs)
    assert sparse.stages["network"] < 0.8 * dense.stages["network"]
    assert len(model_blob.tflite_to_blob(path)) < 0.7 * len(dense_blob)
    # Its all-zero channels (tiny scales, right shifts past 23) keep the dense kernels' fast
    # requantisation: the dense blob is no slower than the unpruned model's.
    with EmulatedBoard(image=firmware_image, model=cached_tflite(cache, "ds_cnn_small")) as emulated:
        unpruned = emulated.infer(x)
    assert dense.stages["network"] <= 1.01 * unpruned.stages["network"]


@pytest.mark.firmware
@pytest.mark.parametrize("name", ["dnn", "cnn", "ds_cnn", "gru"])
def test_our_converters_models_with_pruned_filters_run_bit_exact(board, pytestconfig, name):
    """Models made as the search makes them (per-tensor FC; the GRU's cells share filters across time
    steps), every eligible filter pruned in place on the int8 graph, one granularity after another."""
    from .candidate_models import SPECS
    from .candidate_models import cached_tflite as candidate_tflite

    graph = read_model(candidate_tflite(pytestconfig.cache.mkdir("kws_board_candidate_models"), name))
    filters = sorted(sparse_plan(graph, "always"))
    assert filters
    for i, index in enumerate(filters):
        t = graph.tensors[index]
        rows = np.frombuffer(t.data, np.int8).reshape(t.shape[0], -1)
        if i % 3 == 2 and rows.shape[1] >= 8:
            pruned = prune(rows, "nm", n=2, m=4)
        else:
            pruned = prune(rows, ("element", "block", "block")[i % 3], 0.5)
        t.data = pruned.tobytes()
    inputs = np.random.default_rng(13).integers(-128, 128, size=(2, *SPECS[name][2].input_shape)).astype(np.int8)
    outputs = {}
    for mode in ("never", "always"):
        board.load(model_blob.graph_to_blob(graph, name, sparse=mode))
        outputs[mode] = [board.infer(x).outputs for x in inputs]
    np.testing.assert_array_equal(outputs["always"], outputs["never"])
    assert len({o.tobytes() for o in outputs["never"]}) > 1, "degenerate: every input gives the same output"
