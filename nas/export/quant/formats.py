"""Number formats for fake quantization: n-bit integers and minifloats, with a straight-through estimator.

Every format maps a float tensor to the nearest value it can represent (still a float tensor), with a
scale chosen from the tensor itself (max-abs, or min/max for asymmetric integers), per tensor or per
output channel (dim 0). ``fake_quantize`` returns ``x + (q − x).detach()``: the forward pass sees q,
the backward pass the identity (the straight-through estimator), which is what QAT trains through.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch


class NumberFormat(Protocol):
    """A low-precision format: ``quantize`` rounds to it (no gradient); ``label`` names it in tables."""

    bits: int
    per_channel: bool

    def quantize(self, x: torch.Tensor) -> torch.Tensor: ...

    @property
    def label(self) -> str: ...


def _reduce_dims(x: torch.Tensor, per_channel: bool) -> tuple[int, ...] | None:
    return tuple(range(1, x.dim())) if per_channel and x.dim() > 1 else None


def _amax(x: torch.Tensor, per_channel: bool) -> torch.Tensor:
    dims = _reduce_dims(x, per_channel)
    a = x.abs().amax(dim=dims, keepdim=True) if dims else x.abs().max()
    return a.clamp_min(1e-12)


@dataclass(frozen=True)
class IntFormat:
    """``bits``-bit integers. Symmetric: levels ±(2^(b−1)−1)·s, zero exact. Asymmetric: 2^b levels on [min, max]."""

    bits: int
    symmetric: bool = True
    per_channel: bool = True

    def __post_init__(self) -> None:
        if not 2 <= self.bits <= 16:
            raise ValueError(f"integer bits must be in 2..16, got {self.bits}")

    @property
    def label(self) -> str:
        kind = "sym" if self.symmetric else "asym"
        return f"int{self.bits} {kind} {'per-channel' if self.per_channel else 'per-tensor'}"

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        if self.symmetric:
            top = 2 ** (self.bits - 1) - 1
            scale = _amax(x, self.per_channel) / top
            return torch.clamp(torch.round(x / scale), -top, top) * scale
        dims = _reduce_dims(x, self.per_channel)
        low = x.amin(dim=dims, keepdim=True) if dims else x.min()
        high = x.amax(dim=dims, keepdim=True) if dims else x.max()
        low, high = low.clamp_max(0.0), high.clamp_min(0.0)  # keep 0 representable (zero padding, ReLU)
        levels = 2 ** self.bits - 1
        scale = ((high - low) / levels).clamp_min(1e-12)
        zero_point = torch.round(-low / scale)
        return (torch.clamp(torch.round(x / scale) + zero_point, 0, levels) - zero_point) * scale


@dataclass(frozen=True)
class MinifloatFormat:
    """Sign + ``exponent_bits`` + ``mantissa_bits`` (e.g. E4M3 for 8 bits), IEEE-style bias and subnormals,
    no codes reserved for inf/NaN; the tensor (or channel) is scaled so its max-abs is the largest value."""

    exponent_bits: int
    mantissa_bits: int
    per_channel: bool = True

    def __post_init__(self) -> None:
        if self.exponent_bits < 1 or self.mantissa_bits < 0:
            raise ValueError(f"minifloat needs >= 1 exponent bit and >= 0 mantissa bits, got "
                             f"E{self.exponent_bits}M{self.mantissa_bits}")

    @property
    def bits(self) -> int:
        return 1 + self.exponent_bits + self.mantissa_bits

    @property
    def label(self) -> str:
        return f"fp{self.bits} E{self.exponent_bits}M{self.mantissa_bits}"

    @property
    def max_value(self) -> float:
        bias = 2 ** (self.exponent_bits - 1) - 1
        return (2 - 2.0 ** -self.mantissa_bits) * 2.0 ** (2 ** self.exponent_bits - 1 - bias)

    def quantize(self, x: torch.Tensor) -> torch.Tensor:
        bias = 2 ** (self.exponent_bits - 1) - 1
        scale = _amax(x, self.per_channel) / self.max_value
        y = x / scale
        # the exponent of each value, floored at the subnormal exponent 1 − bias
        exponent = torch.floor(torch.log2(y.abs().clamp_min(1e-30))).clamp(min=1 - bias)
        step = torch.pow(2.0, exponent - self.mantissa_bits)
        q = torch.clamp(torch.round(y / step) * step, -self.max_value, self.max_value)
        return q * scale


def minifloat_for_bits(bits: int, exponent_bits: int | None = None, per_channel: bool = True) -> MinifloatFormat:
    """The default split of ``bits`` into sign/exponent/mantissa: E = ceil((b−1)/2) (E2M1, E3M2, E4M3 ...)."""
    e = exponent_bits if exponent_bits is not None else max(1, -(-(bits - 1) // 2))
    if e > bits - 1:
        raise ValueError(f"{bits}-bit minifloat cannot have {e} exponent bits")
    return MinifloatFormat(e, bits - 1 - e, per_channel)


def fake_quantize(x: torch.Tensor, fmt: NumberFormat) -> torch.Tensor:
    """q(x) in the forward pass, identity gradient in the backward pass (straight-through estimator)."""
    return x + (fmt.quantize(x.detach()) - x).detach()
