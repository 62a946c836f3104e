"""The .tflite → model description converter: TFLite's multiplier arithmetic, a sound arena plan,
and clear refusals."""
import math
import re

import pytest

from nas.board import model_blob
from nas.errors import ConfigError
from nas.tflite_model import read_model


@pytest.mark.parametrize("real", [1e-9, 0.000123, 0.2, 0.5, 0.999999999, 1.0, 3.7, 1234.5])
def test_quantize_multiplier_represents_the_scale_to_q31_precision(real):
    multiplier, shift = model_blob.quantize_multiplier(real)
    assert (1 << 30) <= multiplier < (1 << 31)
    assert math.isclose(multiplier * 2.0 ** (shift - 31), real, rel_tol=2 ** -30)


def test_quantize_multiplier_zero_and_underflow():
    assert model_blob.quantize_multiplier(0.0) == (0, 0)
    assert model_blob.quantize_multiplier(1e-12) == (0, 0)  # below 2**-32: TFLite gives zero


@pytest.mark.parametrize("arch", ["dnn", "cnn", "ds_cnn"])
def test_arena_plan_never_overlaps_tensors_alive_at_the_same_time(tflite_models, arch):
    graph = read_model(tflite_models[arch])
    offsets, arena = model_blob.plan_arena(graph)
    live = {}
    for i, op in enumerate(graph.ops):
        for t in op.inputs + op.outputs:
            if t >= 0 and graph.tensors[t].data is None:
                live.setdefault(t, [i, i])[1] = i
    for t in graph.inputs:
        live[t] = [0, len(graph.ops)]
    for t in graph.outputs:
        live[t][1] = len(graph.ops)
    for a in live:
        assert offsets[a] + graph.tensors[a].nbytes <= arena
        for b in live:
            if a < b and not (live[a][1] < live[b][0] or live[b][1] < live[a][0]):
                a_end, b_end = offsets[a] + graph.tensors[a].nbytes, offsets[b] + graph.tensors[b].nbytes
                assert a_end <= offsets[b] or b_end <= offsets[a], (a, b)
    assert arena < sum(graph.tensors[t].nbytes for t in live)  # reuse happened


def test_blob_header_names_the_model_and_its_sizes(tflite_models):
    blob = model_blob.tflite_to_blob(tflite_models["ds_cnn"], name="kws01")
    fields = model_blob.HEADER.unpack_from(blob)
    assert fields[0] == model_blob.MAGIC and fields[7] == len(blob)
    assert fields[8].rstrip(b"\0") == b"kws01"


def test_unsupported_ops_and_bad_files_are_refused_by_name(tmp_path, tflite_models):
    graph = read_model(tflite_models["dnn"])
    graph.ops[0].name = "WHILE"
    with pytest.raises(ConfigError, match=r"\['WHILE'\] are not supported"):
        model_blob.graph_to_blob(graph)
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ConfigError, match="junk.tflite"):
        model_blob.tflite_to_blob(junk)
    with pytest.raises(ConfigError, match="no such file"):
        model_blob.tflite_to_blob(tmp_path / "missing.tflite")


def test_float_tensors_are_refused_by_name(tflite_models):
    graph = read_model(tflite_models["dnn"])  # the reader keeps every dtype; the firmware takes integers only
    graph.tensors[3].dtype = "float32"
    name = re.escape(graph.tensors[3].name)
    with pytest.raises(ConfigError, match=rf"tensor 3 \({name}\) has TFLite type float32; expected a full-int8"):
        model_blob.graph_to_blob(graph)


def test_a_model_with_more_ops_than_the_firmware_holds_is_refused_before_upload(tflite_models, monkeypatch):
    graph = read_model(tflite_models["cnn"])
    model_blob.graph_to_blob(graph, "fits")
    monkeypatch.setattr(model_blob, "MAX_OPS", len(graph.ops) - 1)  # the firmware's 4096, scaled down
    with pytest.raises(ConfigError, match=rf"{len(graph.ops)} ops .* the firmware holds at most {len(graph.ops) - 1}"):
        model_blob.graph_to_blob(graph, "too_many")
