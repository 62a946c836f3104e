"""Full-int8 conversion of every architecture, run in TFLite Micro's host interpreter and in TFLite."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from nas.export import tflite
from nas.export.from_torch import ConversionError, torch_to_ir

ARCHS = ["basic_lstm", "cnn", "crnn", "dnn", "ds_cnn", "gru", "lstm"]


def _randomise_batch_norm(model: torch.nn.Module) -> None:
    """Non-trivial running statistics, so folding is really exercised."""
    gen = torch.Generator().manual_seed(3)
    for m in model.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)


@pytest.mark.parametrize("arch", ARCHS)
def test_float_graph_matches_torch(arch, trained, feature_sets):
    import tensorflow as tf

    from nas.export import tf_graph
    from nas.spaces import build_model

    trained_model, candidate = trained(arch)
    model = build_model(candidate)  # a copy: the session's trained model stays as it is
    model.load_state_dict(trained_model.state_dict())
    model.eval()
    _randomise_batch_norm(model)
    x = feature_sets["validation"].features[:8]
    with torch.no_grad():
        expected = model(x).numpy()
    fn = tf_graph.concrete_function(torch_to_ir(model, candidate.input_shape, arch), candidate.input_shape)
    got = np.concatenate([fn(tf.constant(x[i:i + 1].numpy())).numpy() for i in range(len(x))])
    assert np.abs(got - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())


@pytest.mark.parametrize("arch", ARCHS)
def test_int8_conversion_runs_in_tflm_and_keeps_accuracy(arch, trained, feature_sets, tmp_path):
    from nas.export import deploy_footprint, int8_accuracy

    model, candidate = trained(arch)
    path = tmp_path / f"{arch}.tflite"
    result = int8_accuracy(model, candidate, feature_sets, path)
    val = result["validation"]
    assert val["n"] == len(feature_sets["validation"].labels)
    assert val["float"] > 0.4, "the briefly trained float model should be far above chance (1/12)"
    # int8 on the same clips, from TFLite Micro and from TFLite: close to float
    assert val["int8"] >= val["float"] - 0.05
    assert abs(val["int8_tflite"] - val["int8"]) <= 0.03
    model_bytes = path.read_bytes()
    assert len(model_bytes) == result["flash_bytes"]
    ops = tflite.op_set(model_bytes)
    assert {name for name, _, _ in ops} <= tflite.ALLOWED_OPS
    assert all(set(outs) == {"int8"} for _, _, outs in ops)
    footprint = deploy_footprint(path)
    assert footprint["flash_bytes"] == len(model_bytes)
    assert 0 < footprint["activation_bytes"] <= footprint["arena_bytes"]


@pytest.mark.parametrize("arch", ["ds_cnn", "gru"])
def test_int8_input_is_the_front_ends_int8_mfcc(arch, trained, feature_sets, export_frontend):
    """The board's int8 MFCC (MfccFrontEnd.quantize_int8) feeds the model without any rescaling."""
    from tflite_micro.python.tflite_micro import runtime

    from nas.data.frontend import MfccFrontEnd

    model, candidate = trained(arch)
    model_bytes = tflite.convert(model, candidate.frontend, feature_sets["train"].features.numpy(), arch)
    interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=tflite.TFLM_HOST_ARENA)
    params = interpreter.get_input_details(0)["quantization_parameters"]
    assert list(params["scales"]) == [2.0 ** -export_frontend.int8_frac_bits]
    assert list(params["zero_points"]) == [0]
    x = feature_sets["validation"].features[:4]
    board = MfccFrontEnd(candidate.frontend).quantize_int8(x).numpy()
    assert np.array_equal(board, tflite.quantize_features(x.numpy(), candidate.frontend))


def test_calibration_draws_from_the_whole_training_set_not_its_first_rows(trained, feature_sets):
    """Feature sets are stored class by class; here the first 300 rows are quiet, like _silence_."""
    model, candidate = trained("ds_cnn")
    train = feature_sets["train"].features.numpy()
    stored = np.concatenate([0.05 * train[:300], train])
    val = feature_sets["validation"]
    q = tflite.quantize_features(val.features.numpy(), candidate.frontend)
    with torch.no_grad():
        float_acc = float((model(val.features).argmax(1) == val.labels).float().mean())
    int8 = tflite.run_tflm(tflite.convert(model, candidate.frontend, stored, "ds_cnn"), q)
    assert float(np.mean(int8.argmax(1) == val.labels.numpy())) >= float_acc - 0.05


def test_int8_accuracy_calibrates_on_the_given_set_and_scores_only_the_splits(trained, feature_sets):
    from nas.export import int8_accuracy

    from .conftest import Features

    model, candidate = trained("ds_cnn")
    val = {"validation": feature_sets["validation"]}
    train = feature_sets["train"]
    good = int8_accuracy(model, candidate, val, calibration=train)
    quiet = int8_accuracy(model, candidate, val, calibration=Features(0.05 * train.features, train.labels))
    assert set(good) == {"validation", "flash_bytes", "ops"}  # the calibration set is not scored
    assert good["validation"]["int8"] >= good["validation"]["float"] - 0.05
    assert quiet["validation"]["int8"] < good["validation"]["int8"] - 0.2  # so it really calibrated on it


def test_representative_subset_is_seeded_ordered_and_spread():
    rows = np.arange(10_000, dtype=np.float32)[:, None]
    subset = tflite.representative_subset(rows, size=300)
    assert subset.shape == (300, 1) and np.all(np.diff(subset[:, 0]) > 0)
    assert np.array_equal(subset, tflite.representative_subset(rows, size=300))
    counts = np.histogram(subset[:, 0], bins=10, range=(0, 10_000))[0]
    assert counts.min() >= 15, counts  # every tenth of the set is represented
    assert np.array_equal(tflite.representative_subset(rows[:50], size=300), rows[:50])


def test_tflm_and_tflite_agree_within_one_step(trained, feature_sets):
    model, candidate = trained("cnn")
    model_bytes = tflite.convert(model, candidate.frontend, feature_sets["train"].features.numpy(), "cnn")
    q = tflite.quantize_features(feature_sets["validation"].features[:16].numpy(), candidate.frontend)
    a, b = tflite.run_tflm(model_bytes, q), tflite.run_tflite(model_bytes, q)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_arena_figure_is_what_tflm_needs(trained, feature_sets, tmp_path):
    from tflite_micro.python.tflite_micro import runtime

    model, candidate = trained("ds_cnn")
    path = tmp_path / "m.tflite"
    path.write_bytes(tflite.convert(model, candidate.frontend, feature_sets["train"].features.numpy(), "ds_cnn"))
    arena = tflite.deploy_footprint(path)["arena_bytes"]
    runtime.Interpreter.from_file(str(path), arena_size=arena)
    with pytest.raises(RuntimeError):
        runtime.Interpreter.from_file(str(path), arena_size=arena - tflite.ARENA_STEP)


def test_unknown_module_is_refused_with_its_name_and_arch(export_frontend):
    t, f = export_frontend.input_shape
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(t * f, 12), torch.nn.GELU())
    with pytest.raises(ConversionError, match=r"dnn: module GELU"):
        torch_to_ir(model, export_frontend.input_shape, "dnn")


def test_float_ops_are_refused_naming_the_op(export_frontend):
    import tensorflow as tf

    from nas.export import graph_ir as ir
    from nas.export import tf_graph

    t, f = export_frontend.input_shape
    layers = [ir.Reshape((t * f,)), ir.Dense(np.ones((t * f, 12), np.float32), None, False)]
    float_model = tf.lite.TFLiteConverter.from_concrete_functions(
        [tf_graph.concrete_function(layers, export_frontend.input_shape)]).convert()
    with pytest.raises(ConversionError, match=r"dnn: op (RESHAPE|FULLY_CONNECTED) is not full int8"):
        tflite.check_int8_model(float_model, export_frontend, "dnn")


def test_converter_message_names_the_op_and_arch():
    err = tflite._converter_error(RuntimeError("error: 'tf.Erf' op is neither a custom op nor a flex op"), "crnn")
    assert "crnn" in str(err) and "tf.Erf" in str(err)
