"""TC-ResNet's residual blocks convert to int8 TFLite (CONV_2D + ADD of two int8 tensors) and run in TFLite Micro."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nas.export import tflite
from nas.export.from_torch import ConversionError, torch_to_ir
from nas.spaces import build_model, candidate_from_model_size_info
from nas.spaces.residual import ResidualBlock
from tests.export.conftest import FRONTEND, train_briefly
from tests.export.test_tflite import _randomise_batch_norm

# block 1: identity shortcut (stride 1, same width); block 2: 1×1 projection with stride 2
SMALL_TC_RESNET = [2, 16, 3, 16, 3, 1, 24, 3, 2]


@pytest.fixture(scope="module")
def trained_tc_resnet(feature_sets):
    candidate = candidate_from_model_size_info("tc_resnet", SMALL_TC_RESNET, FRONTEND)
    torch.manual_seed(0)
    return train_briefly(build_model(candidate), feature_sets["train"]), candidate


def test_float_graph_matches_torch(trained_tc_resnet, feature_sets):
    import tensorflow as tf

    from nas.export import tf_graph

    trained, candidate = trained_tc_resnet
    model = build_model(candidate)
    model.load_state_dict(trained.state_dict())
    model.eval()
    _randomise_batch_norm(model)
    x = feature_sets["validation"].features[:8]
    with torch.no_grad():
        expected = model(x).numpy()
    fn = tf_graph.concrete_function(torch_to_ir(model, candidate.input_shape, "tc_resnet"), candidate.input_shape)
    got = np.concatenate([fn(tf.constant(x[i:i + 1].numpy())).numpy() for i in range(len(x))])
    assert np.abs(got - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())


def test_int8_conversion_runs_in_tflm_with_two_int8_adds(trained_tc_resnet, feature_sets, tmp_path):
    from nas.export import int8_accuracy

    model, candidate = trained_tc_resnet
    path = tmp_path / "tc_resnet.tflite"
    val = int8_accuracy(model, candidate, feature_sets, path)["validation"]
    assert val["float"] > 0.4
    assert val["int8"] >= val["float"] - 0.05  # TFLite Micro's host interpreter
    assert abs(val["int8_tflite"] - val["int8"]) <= 0.03
    ops = tflite.op_set(path.read_bytes())
    assert {name for name, _, _ in ops} <= tflite.ALLOWED_OPS
    assert ops[("ADD", ("int8", "int8"), ("int8",))] == 2  # one per block, ReLU fused
    assert sum(n for (name, _, _), n in ops.items() if name == "CONV_2D") == 1 + 2 * 2 + 1  # + one projection


def test_a_residual_branch_that_is_not_sequential_is_a_conversion_error():
    model = nn.Sequential(ResidualBlock(nn.Conv2d(1, 1, 1), nn.Identity()))
    with pytest.raises(ConversionError, match="tc_resnet: a ResidualBlock's branches must be nn.Sequential"):
        torch_to_ir(model, (4, 1), "tc_resnet")
