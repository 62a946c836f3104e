"""CRNN: one VALID convolution, GRU layers over the conv output's time axis, a hidden FC, output FC.

Torch structure: AddChannel → Conv2d(bias=True) → ReLU → ConvToSequence ([B, C, T', F'] →
[B, T', F'·C]) → Gru × gru_layers (as in nas.spaces.gru) → Linear(fc) → ReLU → Linear(classes).
Hello Edge's CRNN has no batch norm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nas.cost import layers as L
from nas.spaces.base import NUM_CLASSES, ArchSpec, SearchSpace, spec_fields, check_positive, register
from nas.spaces.conv import Conv2dSpec, cheapest_valid_convs
from nas.spaces.domains import Draw, IntRange
from nas.spaces.gru import build_gru_stack, gru_stack


@register
@dataclass(frozen=True)
class CrnnSpec(ArchSpec):
    arch = "crnn"
    model_size_info_help = "f kt kf st sf gru_layers gru_cells fc"

    conv: Conv2dSpec
    gru_layers: int
    gru_cells: int
    fc: int

    def __post_init__(self) -> None:
        self.conv.check(self.arch, "conv")
        for name in ("gru_layers", "gru_cells", "fc"):
            check_positive(self.arch, name, getattr(self, name))

    @classmethod
    def from_dict(cls, data: dict) -> "CrnnSpec":
        d = spec_fields(cls, data)
        return cls(Conv2dSpec.from_dict(cls.arch, "conv", d["conv"]), d["gru_layers"], d["gru_cells"], d["fc"])

    @classmethod
    def from_model_size_info(cls, values: Sequence[int]) -> "CrnnSpec":
        v = cls._check_length(values, 8)
        return cls(Conv2dSpec(*v[0:5]), v[5], v[6], v[7])

    def to_model_size_info(self) -> list[int]:
        return self.conv.to_list() + [self.gru_layers, self.gru_cells, self.fc]

    def _layers(self, input_shape: tuple[int, int], num_classes: int) -> list[L.Layer]:
        conv = L.conv2d("conv1", (*input_shape, 1), self.conv.filters, self.conv.kernel, self.conv.stride,
                        "valid", batch_norm=False)
        t, f, c = conv.output_shape
        stack = gru_stack((t, f * c), self.gru_layers, self.gru_cells)
        fc = L.dense("fc1", stack[-1].output_shape, self.fc)
        return [conv, *stack, fc, L.dense("fc_out", fc.output_shape, num_classes)]

    def build(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES):
        from torch import nn

        from nas.spaces.modules import AddChannel, ConvToSequence

        _, f, c = self.layers(input_shape, num_classes)[0].output_shape
        return nn.Sequential(
            AddChannel(),
            nn.Conv2d(1, self.conv.filters, self.conv.kernel, self.conv.stride), nn.ReLU(),
            ConvToSequence(),
            *build_gru_stack(f * c, self.gru_layers, self.gru_cells),
            nn.Linear(self.gru_cells, self.fc), nn.ReLU(),
            nn.Linear(self.fc, num_classes),
        )


class CrnnSpace(SearchSpace):
    arch = "crnn"

    def __init__(self, frontend: dict, filters: dict, kernel_t: dict, kernel_f: dict, stride_t: dict,
                 stride_f: dict, gru_layers: dict, gru_cells: dict, fc: dict) -> None:
        super().__init__(frontend)
        self.filters = IntRange.parse("crnn.filters", filters)
        self.kernel_t = IntRange.parse("crnn.kernel_t", kernel_t)
        self.kernel_f = IntRange.parse("crnn.kernel_f", kernel_f)
        self.stride_t = IntRange.parse("crnn.stride_t", stride_t)
        self.stride_f = IntRange.parse("crnn.stride_f", stride_f)
        self.gru_layers = IntRange.parse("crnn.gru_layers", gru_layers)
        self.gru_cells = IntRange.parse("crnn.gru_cells", gru_cells)
        self.fc = IntRange.parse("crnn.fc", fc)

    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> CrnnSpec:
        t, f = input_shape
        conv = Conv2dSpec(
            draw.int("conv_filters", self.filters),
            draw.int("conv_kernel_t", self.kernel_t, cap=t),
            draw.int("conv_kernel_f", self.kernel_f, cap=f),
            draw.int("conv_stride_t", self.stride_t),
            draw.int("conv_stride_f", self.stride_f),
        )
        return CrnnSpec(conv, draw.int("gru_layers", self.gru_layers), draw.int("gru_cells", self.gru_cells),
                        draw.int("fc", self.fc))

    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[CrnnSpec]:
        # VALID padding: a small kernel leaves a large map for the GRU, so kernels are enumerated; a
        # stacked GRU layer only adds (the top one is gru_cells wide either way)
        t, f = input_shape
        specs = []
        for ((kt, st),) in cheapest_valid_convs(t, [(self.kernel_t, self.stride_t)]):
            for ((kf, sf),) in cheapest_valid_convs(f, [(self.kernel_f, self.stride_f)]):
                conv = Conv2dSpec(self.filters.bounds()[0], kt, kf, st, sf)
                specs.append(CrnnSpec(conv, self.gru_layers.bounds()[0], self.gru_cells.bounds()[0],
                                      self.fc.bounds()[0]))
        return specs

    def spec_params(self, spec: CrnnSpec) -> dict[str, Any]:
        return {**{f"conv_{k}": v for k, v in vars(spec.conv).items()},
                "gru_layers": spec.gru_layers, "gru_cells": spec.gru_cells, "fc": spec.fc}
