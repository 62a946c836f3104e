"""CNN: two VALID convolutions, a linear low-rank layer, a hidden FC, the output FC (Hello Edge).

Torch structure: AddChannel → (Conv2d(bias=False) → BatchNorm2d → ReLU) × 2 → Flatten →
Linear(lin) (no activation) → Linear(fc, bias=False) → BatchNorm1d → ReLU → Linear(classes).
Batch norm folds into the preceding conv/FC on export (and in the cost model).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nas.cost import layers as L
from nas.spaces.base import NUM_CLASSES, ArchSpec, SearchSpace, spec_fields, check_positive, register
from nas.spaces.conv import Conv2dSpec, cheapest_valid_convs
from nas.spaces.domains import Draw, IntRange


@register
@dataclass(frozen=True)
class CnnSpec(ArchSpec):
    arch = "cnn"
    model_size_info_help = "f1 kt1 kf1 st1 sf1 f2 kt2 kf2 st2 sf2 linear fc"

    conv1: Conv2dSpec
    conv2: Conv2dSpec
    linear: int
    fc: int

    def __post_init__(self) -> None:
        self.conv1.check(self.arch, "conv1")
        self.conv2.check(self.arch, "conv2")
        check_positive(self.arch, "linear", self.linear)
        check_positive(self.arch, "fc", self.fc)

    @classmethod
    def from_dict(cls, data: dict) -> "CnnSpec":
        d = spec_fields(cls, data)
        return cls(Conv2dSpec.from_dict(cls.arch, "conv1", d["conv1"]),
                   Conv2dSpec.from_dict(cls.arch, "conv2", d["conv2"]), d["linear"], d["fc"])

    @classmethod
    def from_model_size_info(cls, values: Sequence[int]) -> "CnnSpec":
        v = cls._check_length(values, 12)
        return cls(Conv2dSpec(*v[0:5]), Conv2dSpec(*v[5:10]), v[10], v[11])

    def to_model_size_info(self) -> list[int]:
        return self.conv1.to_list() + self.conv2.to_list() + [self.linear, self.fc]

    def _layers(self, input_shape: tuple[int, int], num_classes: int) -> list[L.Layer]:
        c1 = L.conv2d("conv1", (*input_shape, 1), self.conv1.filters, self.conv1.kernel,
                      self.conv1.stride, "valid", batch_norm=True)
        c2 = L.conv2d("conv2", c1.output_shape, self.conv2.filters, self.conv2.kernel,
                      self.conv2.stride, "valid", batch_norm=True)
        lin = L.dense("linear", c2.output_shape, self.linear)
        fc = L.dense("fc1", lin.output_shape, self.fc, batch_norm=True)
        return [c1, c2, lin, fc, L.dense("fc_out", fc.output_shape, num_classes)]

    def build(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES):
        from torch import nn

        from nas.spaces.modules import AddChannel

        shapes = self.layers(input_shape, num_classes)
        flat = shapes[1].output_elems
        return nn.Sequential(
            AddChannel(),
            nn.Conv2d(1, self.conv1.filters, self.conv1.kernel, self.conv1.stride, bias=False),
            nn.BatchNorm2d(self.conv1.filters), nn.ReLU(),
            nn.Conv2d(self.conv1.filters, self.conv2.filters, self.conv2.kernel, self.conv2.stride, bias=False),
            nn.BatchNorm2d(self.conv2.filters), nn.ReLU(),
            nn.Flatten(),
            nn.Linear(flat, self.linear),
            nn.Linear(self.linear, self.fc, bias=False), nn.BatchNorm1d(self.fc), nn.ReLU(),
            nn.Linear(self.fc, num_classes),
        )


class CnnSpace(SearchSpace):
    """conv{1,2}_{filters,kernel_t,kernel_f,stride_t,stride_f}, linear, fc; kernels capped by the input."""

    arch = "cnn"

    def __init__(self, frontend: dict, filters: dict, kernel_t: dict, kernel_f: dict, stride_t: dict,
                 stride_f: dict, linear: dict, fc: dict) -> None:
        super().__init__(frontend)
        self.filters = IntRange.parse("cnn.filters", filters)
        self.kernel_t = IntRange.parse("cnn.kernel_t", kernel_t)
        self.kernel_f = IntRange.parse("cnn.kernel_f", kernel_f)
        self.stride_t = IntRange.parse("cnn.stride_t", stride_t)
        self.stride_f = IntRange.parse("cnn.stride_f", stride_f)
        self.linear = IntRange.parse("cnn.linear", linear)
        self.fc = IntRange.parse("cnn.fc", fc)

    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> CnnSpec:
        t, f = input_shape
        convs = []
        for i in (1, 2):
            conv = Conv2dSpec(
                draw.int(f"conv{i}_filters", self.filters),
                draw.int(f"conv{i}_kernel_t", self.kernel_t, cap=t),
                draw.int(f"conv{i}_kernel_f", self.kernel_f, cap=f),
                draw.int(f"conv{i}_stride_t", self.stride_t),
                draw.int(f"conv{i}_stride_f", self.stride_f),
            )
            t = L.conv_output_size(t, conv.kernel_t, conv.stride_t, "valid")
            f = L.conv_output_size(f, conv.kernel_f, conv.stride_f, "valid")
            convs.append(conv)
        return CnnSpec(convs[0], convs[1], draw.int("linear", self.linear), draw.int("fc", self.fc))

    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[CnnSpec]:
        # VALID padding: a small kernel leaves a large map for the next layers, so kernels are enumerated
        t, f = input_shape
        filters = self.filters.bounds()[0]
        specs = []
        for time in cheapest_valid_convs(t, [(self.kernel_t, self.stride_t)] * 2):
            for freq in cheapest_valid_convs(f, [(self.kernel_f, self.stride_f)] * 2):
                conv1, conv2 = (Conv2dSpec(filters, kt, kf, st, sf) for (kt, st), (kf, sf) in zip(time, freq))
                specs.append(CnnSpec(conv1, conv2, self.linear.bounds()[0], self.fc.bounds()[0]))
        return specs

    def spec_params(self, spec: CnnSpec) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for i, conv in ((1, spec.conv1), (2, spec.conv2)):
            params.update({f"conv{i}_{k}": v for k, v in vars(conv).items()})
        return {**params, "linear": spec.linear, "fc": spec.fc}
