"""TC-ResNet: temporal convolutions over MFCC channels with residual blocks (beyond Hello Edge).

Source: Choi et al. 2019, "Temporal Convolution for Real-time Keyword Spotting on Mobile Devices"
(arXiv:1904.03814). The MFCC matrix is read as F channels of a T × 1 map, so every conv is a 1-D
convolution over time (a (k, 1) kernel) that sees all coefficients at once. TC-ResNet8 is a 3 × 1
conv of 16 channels, then three blocks of 24, 32, 48 channels with 9 × 1 kernels and stride 2, then a
global average pool and the output FC (about 66 k parameters on 40 MFCCs).

Torch structure: MfccAsChannels ([B, T, F] → [B, F, T, 1]) → [ZeroPad2d] → Conv2d (k, 1) (bias=False)
→ BatchNorm2d → ReLU, then per block a `ResidualBlock` with body [ZeroPad2d] → Conv2d (k, 1) stride
(s, 1) → BatchNorm2d → ReLU → [ZeroPad2d] → Conv2d (k, 1) → BatchNorm2d and shortcut Conv2d 1 × 1
stride (s, 1) → BatchNorm2d → ReLU (the paper's projection; only when the stride or the channel count
changes, else the identity), output ``relu(body + shortcut)``; → AvgPool2d (whole map) → Flatten →
Linear(classes). SAME padding (TensorFlow's rule), as in the paper's implementation.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Sequence

from nas.cost import layers as L
from nas.errors import ConfigError
from nas.spaces.base import NUM_CLASSES, ArchSpec, SearchSpace, check_positive, register, spec_fields
from nas.spaces.domains import Draw, IntRange, parse_choices


@dataclass(frozen=True)
class TcBlockSpec:
    """One residual block: both temporal convs have ``filters`` channels and a (kernel_t, 1) kernel;
    the first strides by ``stride_t`` over time."""

    filters: int
    kernel_t: int
    stride_t: int

    def check(self, prefix: str) -> None:
        for f in fields(self):
            check_positive(TcResNetSpec.arch, f"{prefix}.{f.name}", getattr(self, f.name))

    @classmethod
    def from_dict(cls, prefix: str, data: object) -> "TcBlockSpec":
        names = [f.name for f in fields(cls)]
        if not isinstance(data, dict) or set(data) != set(names):
            raise ConfigError(f"tc_resnet spec: {prefix} must be an object with keys {names}, got {data!r}")
        return cls(**data)


@register
@dataclass(frozen=True)
class TcResNetSpec(ArchSpec):
    """``model_size_info`` = ``[n, first_filters, first_kernel_t, then filters kernel_t stride_t for
    each of the n blocks]``; TC-ResNet8 is ``[3, 16, 3, 24, 9, 2, 32, 9, 2, 48, 9, 2]``."""

    arch = "tc_resnet"
    model_size_info_help = "n, first_filters, first_kernel_t, then filters kernel_t stride_t for each of the n blocks"

    first_filters: int
    first_kernel_t: int
    blocks: tuple[TcBlockSpec, ...]

    def __post_init__(self) -> None:
        check_positive(self.arch, "first_filters", self.first_filters)
        check_positive(self.arch, "first_kernel_t", self.first_kernel_t)
        if not isinstance(self.blocks, (list, tuple)) or not self.blocks:
            raise ConfigError(f"tc_resnet spec: blocks must be a non-empty list, got {self.blocks!r}")
        object.__setattr__(self, "blocks", tuple(self.blocks))
        for i, block in enumerate(self.blocks, 1):
            if not isinstance(block, TcBlockSpec):
                raise ConfigError(f"tc_resnet spec: block{i} must be a TcBlockSpec, got {block!r}")
            block.check(f"block{i}")

    @classmethod
    def from_dict(cls, data: dict) -> "TcResNetSpec":
        values = spec_fields(cls, data)
        if not isinstance(values["blocks"], list):
            raise ConfigError(f"tc_resnet spec: blocks must be a list, got {values['blocks']!r}")
        blocks = tuple(TcBlockSpec.from_dict(f"block{i}", b) for i, b in enumerate(values["blocks"], 1))
        return cls(values["first_filters"], values["first_kernel_t"], blocks)

    @classmethod
    def from_model_size_info(cls, values: Sequence[int]) -> "TcResNetSpec":
        values = list(values)
        if not values or isinstance(values[0], bool) or not isinstance(values[0], int) or values[0] <= 0:
            raise ConfigError(f"tc_resnet: model_size_info must start with a positive block count n "
                              f"({cls.model_size_info_help}), got {values[:1]}")
        v = cls._check_length(values, 3 + 3 * values[0])
        return cls(v[1], v[2], tuple(TcBlockSpec(*v[3 + 3 * i:6 + 3 * i]) for i in range(v[0])))

    def to_model_size_info(self) -> list[int]:
        return [len(self.blocks), self.first_filters, self.first_kernel_t] + [
            x for b in self.blocks for x in (b.filters, b.kernel_t, b.stride_t)]

    def _layers(self, input_shape: tuple[int, int], num_classes: int) -> list[L.Layer]:
        t, f = input_shape
        out = [L.conv2d("conv1", (t, 1, f), self.first_filters, (self.first_kernel_t, 1), (1, 1), "same",
                        batch_norm=True)]
        for i, block in enumerate(self.blocks, 1):
            skip = out[-1]  # the block's input: alive until the add reads it (or its projection)
            x_elems = skip.output_elems
            body1 = L.conv2d(f"block{i}_conv1", skip.output_shape, block.filters, (block.kernel_t, 1),
                             (block.stride_t, 1), "same", batch_norm=True)
            body2 = L.conv2d(f"block{i}_conv2", body1.output_shape, block.filters, (block.kernel_t, 1),
                             (1, 1), "same", batch_norm=True)
            # Hello Edge convention extended to a skip: the second conv runs while x is still held
            body2 = dataclasses.replace(body2, hello_edge_activations=body2.input_elems + body2.output_elems + x_elems)
            out += [body1, body2]
            shortcut_name = skip.name
            if block.stride_t > 1 or block.filters != skip.output_shape[2]:
                proj = L.conv2d(f"block{i}_shortcut", skip.output_shape, block.filters, (1, 1),
                                (block.stride_t, 1), "same", batch_norm=True)
                out.append(dataclasses.replace(proj, inputs=(skip.name,),
                                               hello_edge_activations=x_elems + 2 * proj.output_elems))
                shortcut_name = proj.name
            out.append(L.add(f"block{i}_add", body2.output_shape, (body2.name, shortcut_name)))
        out.append(L.avg_pool("avg_pool", out[-1].output_shape))
        out.append(L.dense("fc_out", out[-1].output_shape, num_classes))
        return out

    def build(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES):
        from torch import nn

        from nas.spaces.modules import same_pad
        from nas.spaces.residual import MfccAsChannels, ResidualBlock

        t, f = input_shape
        k0 = (self.first_kernel_t, 1)
        modules: list[nn.Module] = [
            MfccAsChannels(), same_pad((t, 1), k0, (1, 1)),
            nn.Conv2d(f, self.first_filters, k0, bias=False), nn.BatchNorm2d(self.first_filters), nn.ReLU(),
        ]
        channels = self.first_filters
        for block in self.blocks:
            k, s, c = (block.kernel_t, 1), (block.stride_t, 1), block.filters
            t_out = L.conv_output_size(t, 1, block.stride_t, "same")
            body = nn.Sequential(
                same_pad((t, 1), k, s), nn.Conv2d(channels, c, k, s, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                same_pad((t_out, 1), k, (1, 1)), nn.Conv2d(c, c, k, bias=False), nn.BatchNorm2d(c),
            )
            shortcut = (nn.Sequential(nn.Conv2d(channels, c, 1, s, bias=False), nn.BatchNorm2d(c), nn.ReLU())
                        if block.stride_t > 1 or c != channels else nn.Identity())
            modules.append(ResidualBlock(body, shortcut))
            t, channels = t_out, c
        modules += [nn.AvgPool2d((t, 1)), nn.Flatten(), nn.Linear(channels, num_classes)]
        return nn.Sequential(*modules)


class TcResNetSpace(SearchSpace):
    """A width multiplier times per-block base channels, n_blocks blocks, temporal kernels capped by
    the time steps left after the block's stride. Parameters: ``width_multiplier``, ``first_filters``,
    ``first_kernel_t``, ``n_blocks``, ``block{i}_filters`` / ``_kernel_t`` / ``_stride_t``."""

    arch = "tc_resnet"

    def __init__(self, frontend: dict, width_multiplier: list, first_filters: dict, first_kernel_t: dict,
                 n_blocks: dict, filters: dict, kernel_t: dict, stride_t: dict) -> None:
        super().__init__(frontend)
        self.width_multiplier = parse_choices("tc_resnet.width_multiplier", width_multiplier)
        if not all(isinstance(m, (int, float)) and not isinstance(m, bool) and m > 0 for m in self.width_multiplier):
            raise ConfigError(f"search space: tc_resnet.width_multiplier must hold positive numbers, "
                              f"got {list(self.width_multiplier)}")
        p = IntRange.parse
        self.first_filters = p("tc_resnet.first_filters", first_filters)
        self.first_kernel_t = p("tc_resnet.first_kernel_t", first_kernel_t)
        self.n_blocks = p("tc_resnet.n_blocks", n_blocks)
        self.filters = p("tc_resnet.filters", filters)
        self.kernel_t = p("tc_resnet.kernel_t", kernel_t)
        self.stride_t = p("tc_resnet.stride_t", stride_t)

    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> TcResNetSpec:
        t = input_shape[0]
        width = draw.choice("width_multiplier", self.width_multiplier)

        def scaled(base: int) -> int:
            return max(1, round(width * base))

        first = scaled(draw.int("first_filters", self.first_filters))
        first_kernel = draw.int("first_kernel_t", self.first_kernel_t, cap=t)
        blocks = []
        for i in range(1, draw.int("n_blocks", self.n_blocks) + 1):
            filters = scaled(draw.int(f"block{i}_filters", self.filters))
            stride = draw.int(f"block{i}_stride_t", self.stride_t)
            t = L.conv_output_size(t, 1, stride, "same")
            # both convs of the block must fit: the second one slides over the strided output
            blocks.append(TcBlockSpec(filters, draw.int(f"block{i}_kernel_t", self.kernel_t, cap=t), stride))
        return TcResNetSpec(first, first_kernel, tuple(blocks))

    def spec_params(self, spec: TcResNetSpec) -> dict[str, Any]:
        # the inverse at width 1: the spec already holds the scaled channel counts
        params: dict[str, Any] = {"width_multiplier": 1.0, "first_filters": spec.first_filters,
                                  "first_kernel_t": spec.first_kernel_t, "n_blocks": len(spec.blocks)}
        for i, block in enumerate(spec.blocks, 1):
            params.update({f"block{i}_{k}": v for k, v in vars(block).items()})
        return params
