"""Regression: CRNN conversions that came out with a float UNPACK (DEQUANTIZE) are full int8.

``data/crnn_float_unpack.tflite`` is a real converter output for CRNN [4,10,4,2,2,2,10,12] at
clip_ms=300 that kept the GRU reset gate's UNPACK in float (the quantizer does so in about one run
in three; see nas/export/float_islands.py).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nas.data.frontend_config import FrontEndConfig
from nas.export import tflite
from nas.export.float_islands import requantize_float_islands

FLOAT_UNPACK = Path(__file__).parent / "data" / "crnn_float_unpack.tflite"
REPRODUCERS = [  # (model_size_info, clip_ms) reported failing with DEQUANTIZE
    ([4, 4, 4, 1, 2, 2, 10, 12], 200),
    ([4, 10, 4, 2, 2, 2, 10, 12], 300),
    ([4, 4, 4, 2, 2, 2, 10, 12], 200),
]


def _ops(model: bytes) -> set[str]:
    return {name for name, _, _ in tflite.op_set(model)}


def test_float_unpack_island_becomes_int8_with_identical_outputs():
    bad = FLOAT_UNPACK.read_bytes()
    frontend = FrontEndConfig(clip_ms=300)
    assert {"DEQUANTIZE", "QUANTIZE"} <= _ops(bad)
    with pytest.raises(tflite.ConversionError, match="DEQUANTIZE"):
        tflite.check_int8_model(bad, frontend, "crnn")

    fixed = requantize_float_islands(bad)
    tflite.check_int8_model(fixed, frontend, "crnn")
    assert _ops(fixed) <= tflite.ALLOWED_OPS
    assert len(fixed) < len(bad)  # the float tensors and the two ops are gone
    x = np.random.default_rng(1).integers(-128, 128, (40, *frontend.input_shape)).astype(np.int8)
    # exact: the QUANTIZEs had the int8 source's own scale and zero point
    np.testing.assert_array_equal(tflite.run_tflite(fixed, x), tflite.run_tflite(bad, x))
    assert tflite.run_tflm(fixed, x).shape == (40, 12)


def test_clean_model_is_returned_unchanged():
    fixed = requantize_float_islands(FLOAT_UNPACK.read_bytes())
    assert requantize_float_islands(fixed) == fixed


def test_reported_crnn_reproducers_convert_to_full_int8_every_time():
    """Each reproducer converted four times in one process, after other models (as in the report)."""
    import torch

    from nas.spaces import build_model, candidate_from_model_size_info

    for _ in range(4):
        for size_info, clip_ms in REPRODUCERS:
            frontend = FrontEndConfig(clip_ms=clip_ms)
            candidate = candidate_from_model_size_info("crnn", size_info, frontend)
            torch.manual_seed(0)
            model = build_model(candidate).eval()
            step = 2.0 ** -frontend.int8_frac_bits
            rep = np.round(np.random.default_rng(0).normal(0, 20, (50, *frontend.input_shape)).clip(-128, 127)) * step
            model_bytes = tflite.convert(model, frontend, rep.astype(np.float32), "crnn")  # checks the op set
            assert "DEQUANTIZE" not in _ops(model_bytes)
