"""Integer and minifloat fake quantization: level counts, zero, scales, straight-through gradients."""
from __future__ import annotations

import pytest
import torch

from nas.export.quant import IntFormat, MinifloatFormat, fake_quantize, minifloat_for_bits


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_symmetric_integers_have_odd_level_count_and_exact_zero(bits):
    x = torch.linspace(-3, 3, 10001)
    q = IntFormat(bits, symmetric=True, per_channel=False).quantize(x)
    levels = torch.unique(q)
    assert len(levels) == 2 ** bits - 1
    assert (levels == 0).any()
    assert q.abs().max() == pytest.approx(3.0)  # max-abs maps to the top level
    assert (q - x).abs().max() <= 3.0 / (2 ** (bits - 1) - 1) / 2 + 1e-6


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_asymmetric_integers_use_all_levels_over_min_max(bits):
    x = torch.linspace(-2, 4, 10001)  # zero falls on a level for these bit widths
    q = IntFormat(bits, symmetric=False, per_channel=False).quantize(x)
    assert len(torch.unique(q)) == 2 ** bits
    assert (q - x).abs().max() <= 6.0 / (2 ** bits - 1) / 2 + 1e-5


def test_per_channel_scales_follow_each_output_row():
    w = torch.stack([torch.linspace(-1, 1, 101), torch.linspace(-100, 100, 101)])
    per_channel = IntFormat(4, per_channel=True).quantize(w)
    per_tensor = IntFormat(4, per_channel=False).quantize(w)
    assert len(torch.unique(per_channel[0])) == 15  # the small row keeps its own 15 levels
    assert len(torch.unique(per_tensor[0])) < 3  # with one scale it collapses to (almost) zero


def test_minifloat_levels_are_the_format_values():
    fmt = MinifloatFormat(exponent_bits=2, mantissa_bits=1, per_channel=False)  # E2M1, bias 1
    # positive values of E2M1 without inf/NaN codes: 0, 0.5 (subnormal), 1, 1.5, 2, 3, 4, 6
    assert fmt.max_value == 6.0
    x = torch.linspace(-6, 6, 20001)
    levels = sorted(set(torch.unique(fmt.quantize(x)).tolist()))
    assert [v for v in levels if v >= 0] == [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
    assert minifloat_for_bits(8).label == "fp8 E4M3" and minifloat_for_bits(4).label == "fp4 E2M1"


def test_fake_quantize_passes_gradients_straight_through():
    x = torch.randn(50, requires_grad=True)
    y = fake_quantize(x, IntFormat(3, per_channel=False))
    assert not torch.equal(y.detach(), x.detach())
    (y * torch.arange(50.0)).sum().backward()
    assert torch.equal(x.grad, torch.arange(50.0))
