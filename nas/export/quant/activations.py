"""Activation fake quantization: every Linear/Conv2d input rounded to an n-bit grid over a calibrated range.

TFLite's int8 activations are per tensor and asymmetric, over the range seen on representative data;
this does the same at any width: one calibration pass records the min/max of each layer's input (0 kept
inside, so zero padding and ReLU zeros stay exact), then a forward pre-hook fake-quantizes that input
with that range; in QAT the range follows the data as a moving average, and the rounding passes
gradients straight through inside the range.
"""
from __future__ import annotations

import torch
from torch import nn

QUANTIZED_LAYERS = (nn.Linear, nn.Conv2d)


class _RangeObserver:
    def __init__(self) -> None:
        self.low, self.high = 0.0, 0.0

    def __call__(self, module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        x = inputs[0].detach()
        self.low, self.high = min(self.low, float(x.min())), max(self.high, float(x.max()))


class _FakeQuantInput:
    """Forward pre-hook: the layer's input on ``2^bits`` asymmetric levels over [low, high].

    While ``tracking`` (QAT), the range follows the inputs as an exponential moving average of their
    min/max, as TensorFlow's and PyTorch's QAT observers do: with a frozen range, weights that drift
    push activations into the clamp and training collapses.
    """

    def __init__(self, bits: int, low: float, high: float, momentum: float = 0.01) -> None:
        self.levels = 2 ** bits - 1
        self.low, self.high, self.momentum = low, high, momentum
        self.tracking = False

    def __call__(self, module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        x = inputs[0]
        if self.tracking:
            m = self.momentum
            self.low = (1 - m) * self.low + m * min(0.0, float(x.detach().min()))
            self.high = (1 - m) * self.high + m * max(0.0, float(x.detach().max()))
        scale = max(self.high - self.low, 1e-12) / self.levels
        zero_point = round(-self.low / scale)
        low, high = -zero_point * scale, (self.levels - zero_point) * scale
        # the straight-through gradient stops where the clamp cuts (inputs outside the range)
        clipped = torch.clamp(x, low, high)
        q = torch.round(clipped.detach() / scale) * scale
        return (clipped + (q - clipped).detach(), *inputs[1:])


def calibrate_input_ranges(model: nn.Module, features: torch.Tensor, batch: int = 500) -> dict[str, tuple[float, float]]:
    """Layer name → (min, max) of its input over ``features``, for every Linear/Conv2d of ``model``."""
    observers = {name: _RangeObserver() for name, m in model.named_modules() if isinstance(m, QUANTIZED_LAYERS)}
    modules = dict(model.named_modules())
    handles = [modules[name].register_forward_pre_hook(obs) for name, obs in observers.items()]
    model.eval()
    try:
        with torch.no_grad():
            for i in range(0, len(features), batch):
                model(features[i:i + batch])
    finally:
        for handle in handles:
            handle.remove()
    return {name: (obs.low, obs.high) for name, obs in observers.items()}


def quantize_layer_inputs(model: nn.Module, bits: int, ranges: dict[str, tuple[float, float]]) -> nn.Module:
    """Register the fake-quantizing pre-hooks on ``model`` in place (its layers named as in ``ranges``)."""
    if not 2 <= bits <= 16:
        raise ValueError(f"activation bits must be in 2..16, got {bits}")
    modules = dict(model.named_modules())
    for name, (low, high) in ranges.items():
        modules[name].register_forward_pre_hook(_FakeQuantInput(bits, low, high))
    return model


def track_input_ranges(model: nn.Module, tracking: bool) -> None:
    """Let the quantized inputs' ranges follow the data (QAT) or hold them (evaluation)."""
    for module in model.modules():
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, _FakeQuantInput):
                hook.tracking = tracking
