"""Every architecture's int8 model (all 13 ops the converter emits) runs on the emulated Cortex-M7
with outputs equal to the TFLite Micro host interpreter, byte for byte."""
from __future__ import annotations

import numpy as np
import pytest

from .candidate_models import SPECS, cached_tflite
from nas.board.model_blob import tflite_to_blob
from nas.export.tflite import ALLOWED_OPS, run_tflm
from nas.tflite_model import read_model

pytestmark = pytest.mark.firmware

RECURRENT_OPS = {"UNPACK", "ADD", "MUL", "LOGISTIC", "TANH", "FULLY_CONNECTED"}


@pytest.fixture(scope="module")
def candidate_models(pytestconfig):
    cache = pytestconfig.cache.mkdir("kws_board_candidate_models")
    return {name: cached_tflite(cache, name) for name in SPECS}


def _ops(path) -> set[str]:
    return {op.name for op in read_model(path).ops}


def test_the_models_cover_every_op_the_converter_emits(candidate_models):
    ops = {name: _ops(path) for name, path in candidate_models.items()}
    assert set().union(*ops.values()) == set(ALLOWED_OPS)
    assert "PAD" in ops["ds_cnn_pad"]
    for name in ("basic_lstm", "lstm", "gru", "crnn"):
        assert RECURRENT_OPS <= ops[name], name
    assert {"PACK", "SUB"} <= ops["gru"] and {"PACK", "SUB", "CONV_2D"} <= ops["crnn"]


@pytest.mark.parametrize("name", list(SPECS))
def test_outputs_equal_the_tflite_micro_host_interpreter(board, candidate_models, name):
    path = candidate_models[name]
    frontend = SPECS[name][2]
    summary = board.load(tflite_to_blob(path))
    assert summary["ops"] == len(read_model(path).ops)
    inputs = np.random.default_rng(11).integers(-128, 128, size=(4, *frontend.input_shape)).astype(np.int8)
    expected = run_tflm(path.read_bytes(), inputs)
    assert len({row.tobytes() for row in expected}) > 1, "degenerate model: every input gives the same output"
    for x, want in zip(inputs, expected):
        np.testing.assert_array_equal(board.infer(x).outputs.reshape(-1), want)


@pytest.mark.parametrize("name", ["basic_lstm", "gru"])
def test_a_recurrent_networks_time_hardly_depends_on_its_input(board, candidate_models, name):
    """LOGISTIC / TANH run through per-op tables built at load time (without them a gate's time
    follows its values: 10-20 % between these inputs); what is left is ADD / MUL's requantisation."""
    board.load(tflite_to_blob(candidate_models[name]))
    shape = SPECS[name][2].input_shape
    inputs = [np.zeros(shape, np.int8), np.random.default_rng(3).integers(-128, 128, size=shape).astype(np.int8)]
    zeros, noise = (board.infer(x, count=1, warmup=0).stages["network"] for x in inputs)
    assert abs(noise / zeros - 1) < 0.02


def test_a_preloaded_model_needs_no_upload_and_gives_the_same_outputs(firmware_image, candidate_models):
    """QEMU's loader writes the description into the model buffer; `model mem N%` accepts it."""
    from nas.board.emulated import EmulatedBoard

    path = candidate_models["gru"]
    blob = tflite_to_blob(path)
    inputs = np.random.default_rng(5).integers(-128, 128, size=(2, *SPECS["gru"][2].input_shape)).astype(np.int8)
    with EmulatedBoard(image=firmware_image, model=path) as emulated:
        assert emulated.preloaded == {"name": path.stem[:15], "ops": len(read_model(path).ops),
                                      "arena_bytes": emulated.preloaded["arena_bytes"], "blob_bytes": len(blob)}
        for x, want in zip(inputs, run_tflm(path.read_bytes(), inputs)):
            np.testing.assert_array_equal(emulated.infer(x).outputs.reshape(-1), want)
        # a wrong size is refused (the header's total disagrees) and the model is then gone
        assert emulated.command(f"model mem {len(blob) - 4}").errors == ["e-[model-size-mismatch]"]
        assert emulated.command("infer 1 0").errors[0].startswith("e-[no-model")
        assert emulated.command("model mem 0").errors[0].startswith("e-[model-mem-size: got 0")
        assert emulated.load_from_memory(len(blob))["blob_bytes"] == len(blob)  # the bytes are still there

