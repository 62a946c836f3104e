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
            return _scaled(width, base)

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

    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[TcResNetSpec]:
        """Kernels at their lows (SAME padding: a map's size depends on the stride alone) and, per width
        multiplier and block count, the channel and stride choices that trade a shortcut projection
        against a smaller map: a block keeping its input's channels at stride 1 needs none."""
        t = input_shape[0]
        specs: list[TcResNetSpec] = []
        for width in self.width_multiplier:
            firsts = {_scaled(width, base) for base in self.first_filters.values()}
            block_channels = {_scaled(width, base) for base in self.filters.values()}
            kernel = self.first_kernel_t.bounds(cap=t)[0]
            for first in {min(firsts)} | (firsts & {min(block_channels)}):
                for n in self.n_blocks.values():
                    specs += [TcResNetSpec(first, kernel, blocks)
                              for blocks in self._cheapest_blocks(first, t, n, block_channels)]
        return _narrowest(specs)

    def _cheapest_blocks(self, channels: int, t: int, n: int, block_channels: set[int]) -> list[tuple]:
        """Block sequences of length n after a map of ``channels`` × ``t``: the fewest channels or the
        input's (an identity shortcut), at stride 1 (no projection needed) or the largest stride."""
        if n == 0:
            return [()]
        out = []
        for filters in {min(block_channels)} | (block_channels & {channels}):
            strides = {self.stride_t.values()[-1]}
            if filters == channels and self.stride_t.low == 1:
                strides.add(1)
            for stride in strides:
                t_out = L.conv_output_size(t, 1, stride, "same")
                if stride > 1 and t_out == t and 1 in strides:
                    continue  # striding a map of one step only adds the projection
                block = TcBlockSpec(filters, self.kernel_t.bounds(cap=t_out)[0], stride)
                out += [(block, *rest) for rest in self._cheapest_blocks(filters, t_out, n - 1, block_channels)]
        return out

    def spec_params(self, spec: TcResNetSpec) -> dict[str, Any]:
        """The parameters at the first width multiplier (1 first) whose bases give every channel count;
        width 1 with the counts as bases when none does (then `contains` is False)."""
        for width in sorted(self.width_multiplier, key=lambda w: w != 1.0):
            bases = [_base_of(width, spec.first_filters, self.first_filters),
                     *(_base_of(width, block.filters, self.filters) for block in spec.blocks)]
            if None not in bases:
                break
        else:
            width, bases = 1.0, [spec.first_filters, *(block.filters for block in spec.blocks)]
        params: dict[str, Any] = {"width_multiplier": width, "first_filters": bases[0],
                                  "first_kernel_t": spec.first_kernel_t, "n_blocks": len(spec.blocks)}
        for i, (block, base) in enumerate(zip(spec.blocks, bases[1:]), 1):
            params.update({f"block{i}_filters": base, f"block{i}_kernel_t": block.kernel_t,
                           f"block{i}_stride_t": block.stride_t})
        return params


def _narrowest(specs: list[TcResNetSpec]) -> list[TcResNetSpec]:
    """The specs no other spec of the same layers (kernels, strides, projections) undercuts in every
    channel count: with the layers fixed, every cost grows with each count."""
    kept: dict[tuple, list[TcResNetSpec]] = {}
    for spec in specs:
        channels = [spec.first_filters, *(block.filters for block in spec.blocks)]
        projections = tuple(b.stride_t > 1 or b.filters != c for b, c in zip(spec.blocks, channels))
        key = (spec.first_kernel_t, tuple((b.kernel_t, b.stride_t) for b in spec.blocks), projections)
        group = kept.setdefault(key, [])
        if not any(_undercuts(other, spec) for other in group):
            group[:] = [other for other in group if not _undercuts(spec, other)] + [spec]
    return [spec for group in kept.values() for spec in group]


def _undercuts(a: TcResNetSpec, b: TcResNetSpec) -> bool:
    """Whether ``a`` has no more channels than ``b`` anywhere (same layers assumed)."""
    return a.first_filters <= b.first_filters and all(x.filters <= y.filters for x, y in zip(a.blocks, b.blocks))


def _scaled(width: float, base: int) -> int:
    """The channel count a width multiplier makes of a drawn base count."""
    return max(1, round(width * base))


def _base_of(width: float, channels: int, bases: IntRange) -> int | None:
    """The smallest base in range that ``width`` scales to ``channels``; None when none does."""
    return next((base for base in bases.values() if _scaled(width, base) == channels), None)
