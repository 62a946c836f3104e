"""Fake quantization in PyTorch: integer (2–16 bits) and minifloat formats for weights, integer activations,
PTQ, QAT, bit-width sweeps."""
from nas.export.quant.activations import calibrate_input_ranges, quantize_layer_inputs
from nas.export.quant.fake_quant import accuracy, qat_finetune, quantized_copy
from nas.export.quant.formats import IntFormat, MinifloatFormat, NumberFormat, fake_quantize, minifloat_for_bits
from nas.export.quant.sweep import bit_sweep, sweep_figure

__all__ = [
    "IntFormat",
    "MinifloatFormat",
    "NumberFormat",
    "accuracy",
    "bit_sweep",
    "calibrate_input_ranges",
    "fake_quantize",
    "minifloat_for_bits",
    "qat_finetune",
    "quantize_layer_inputs",
    "quantized_copy",
    "sweep_figure",
]
