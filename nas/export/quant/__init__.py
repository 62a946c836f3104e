"""Fake quantization in PyTorch: integer (2–16 bits) and minifloat formats, PTQ, QAT, bit-width sweeps."""
from nas.export.quant.fake_quant import accuracy, qat_finetune, quantized_copy
from nas.export.quant.formats import IntFormat, MinifloatFormat, NumberFormat, fake_quantize, minifloat_for_bits
from nas.export.quant.sweep import bit_sweep, sweep_figure

__all__ = [
    "IntFormat",
    "MinifloatFormat",
    "NumberFormat",
    "accuracy",
    "bit_sweep",
    "fake_quantize",
    "minifloat_for_bits",
    "qat_finetune",
    "quantized_copy",
    "sweep_figure",
]
