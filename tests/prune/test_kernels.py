"""The kernel speed-up of `kws-nas prune`: the model's own layers as kernel cases, and the measured
curves with their break-even on the emulated board."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nas.firmware.bench.sparse_speedup import break_even
from nas.prune.kernels import kernel_speed_up, missing_tools, model_layers
from nas.spaces import build_model, candidate_from_model_size_info


def ds_cnn():
    candidate = candidate_from_model_size_info("ds_cnn", [2, 32, 10, 4, 2, 2, 64, 3, 3, 1, 1])
    torch.manual_seed(0)
    return build_model(candidate), candidate


def test_model_layers_are_the_largest_standard_conv_and_fc_with_their_int8_weights():
    model, candidate = ds_cnn()
    layers = model_layers(model, candidate.input_shape)
    conv, fc = layers.values()
    # the pointwise 32→64 (the first conv 1→32 with 10×4 taps has fewer MACs; the depthwise has no sparse kernel)
    assert conv.op == "conv" and conv.filter == (64, 1, 1, 32) and conv.output[3] == 64
    assert conv.input[1:3] == conv.output[1:3]
    pointwise = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.out_channels == 64 and m.groups == 1][0]
    w = pointwise.weight.detach()[:, :, 0, 0].numpy()
    expected = np.round(w / np.abs(w).max(axis=1, keepdims=True) * 127)
    assert np.array_equal(conv.weights.reshape(64, 32), expected.astype(np.int8))
    assert fc.op == "fc" and fc.filter == (12, 64) and fc.weights.shape == (12, 64)
    assert np.abs(fc.weights).max(axis=1).tolist() == [127] * 12


def test_break_even_interpolates_where_the_speed_up_crosses_one():
    assert break_even([(0.5, 0.8), (0.2, 0.5), (0.7, 1.2)]) == pytest.approx(0.6)
    assert break_even([(0.2, 1.1), (0.5, 1.5)]) == 0.2  # already faster: the lowest sparsity, an upper bound
    assert np.isnan(break_even([(0.2, 0.3), (0.9, 0.9)]))


@pytest.mark.skipif(bool(missing_tools()), reason="needs arm-none-eabi-gcc, qemu-system-arm and make")
def test_kernel_speed_up_measures_every_granularity_and_order_bit_exact():
    model, candidate = ds_cnn()
    table = kernel_speed_up(model, candidate.input_shape, "mps2_an500")
    curves = table.groupby(["layer", "granularity", "order"])
    assert len(curves) == 2 * 3 * 2
    assert table["bit_identical"].all()
    conv_block = table[(table["op"] == "conv") & (table["granularity"] == "block")]
    for _, curve in conv_block.groupby("order"):
        speed = curve.sort_values("sparsity")["speed_up"].to_numpy()
        assert speed[-1] > speed[0]  # skipping more blocks runs faster
        even = curve["break_even"].iloc[0]
        assert even == break_even(zip(curve["sparsity"], curve["speed_up"])) and 0.2 <= even < 0.9
