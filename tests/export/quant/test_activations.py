"""Activation fake quantization: layer inputs on 2^b levels with exact zero, calibrated ranges, PTQ vs QAT."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.export.quant import IntFormat, accuracy, calibrate_input_ranges, qat_finetune, quantized_copy
from nas.export.quant.activations import QUANTIZED_LAYERS


def _layer_inputs(model: nn.Module, features: torch.Tensor, before_hooks: bool = False) -> dict[str, torch.Tensor]:
    """What each Linear/Conv2d receives: after the pre-hooks already there, or before them."""
    seen: dict[str, torch.Tensor] = {}
    handles = [m.register_forward_pre_hook(lambda mod, inp, name=name: seen.__setitem__(name, inp[0].detach()),
                                           prepend=before_hooks)
               for name, m in model.named_modules() if isinstance(m, QUANTIZED_LAYERS)]
    with torch.no_grad():
        model.eval()(features)
    for h in handles:
        h.remove()
    return seen


@pytest.mark.parametrize("arch", ["ds_cnn", "gru"])
def test_layer_inputs_take_at_most_2_to_the_bits_levels_and_zero_stays_exact(arch, trained, feature_sets):
    model, _ = trained(arch)
    x = feature_sets["validation"].features
    qmodel = quantized_copy(model, IntFormat(8), activation_bits=3, calibration=x)
    raw_inputs = _layer_inputs(qmodel, x, before_hooks=True)
    quant_inputs = _layer_inputs(qmodel, x)
    assert raw_inputs.keys() == quant_inputs.keys() and len(quant_inputs) >= 2
    for name, q in quant_inputs.items():
        assert len(torch.unique(q)) <= 2 ** 3, name
        assert len(torch.unique(raw_inputs[name])) > 2 ** 3, f"{name}: the unquantized input must be richer"
        assert torch.all(q[raw_inputs[name] == 0] == 0), f"{name}: zeros (padding, ReLU) must stay exact"


def test_calibrated_ranges_cover_what_each_layer_saw(trained, feature_sets):
    model, _ = trained("cnn")
    x = feature_sets["train"].features
    ranges = calibrate_input_ranges(model, x, batch=100)
    for name, seen in _layer_inputs(model, x).items():
        low, high = ranges[name]
        assert low == pytest.approx(min(0.0, float(seen.min()))) and high == pytest.approx(float(seen.max()))
    assert not any(m._forward_pre_hooks for m in model.modules()), "calibration leaves no hook behind"


def test_narrow_activations_cost_accuracy_and_8_bits_hardly_any(trained, feature_sets):
    model, _ = trained("ds_cnn")
    train, val = feature_sets["train"], feature_sets["validation"]
    weights = IntFormat(8)
    float_acc = accuracy(model, val.features, val.labels)
    a8 = accuracy(quantized_copy(model, weights, 8, train.features), val.features, val.labels)
    a2 = accuracy(quantized_copy(model, weights, 2, train.features), val.features, val.labels)
    assert abs(a8 - float_acc) <= 0.02
    assert a2 < a8


def test_qat_trains_through_quantized_activations(trained, feature_sets):
    model, _ = trained("ds_cnn")
    train, val = feature_sets["train"], feature_sets["validation"]
    fmt = IntFormat(4, symmetric=True, per_channel=False)
    ptq = accuracy(quantized_copy(model, fmt, 4, train.features), val.features, val.labels)
    qmodel = qat_finetune(model, fmt, train.features, train.labels, steps=300, activation_bits=4)
    qat = accuracy(qmodel, val.features, val.labels)
    assert qat >= ptq
    with torch.no_grad():  # after QAT the ranges hold: evaluation is repeatable
        assert torch.equal(qmodel(val.features), qmodel(val.features))


def test_activation_quantization_without_calibration_features_is_refused(trained):
    model, _ = trained("dnn")
    with pytest.raises(ValueError, match="calibration"):
        quantized_copy(model, IntFormat(8), activation_bits=8)
