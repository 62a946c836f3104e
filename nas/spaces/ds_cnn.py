"""DS-CNN: a standard conv, then depthwise-separable blocks, SAME padding, average pool, output FC.

Torch structure: AddChannel → [ZeroPad2d] → Conv2d(bias=False) → BatchNorm2d → ReLU, then per block
[ZeroPad2d] → Conv2d(groups=C, bias=False) → BatchNorm2d → ReLU → Conv2d 1×1(bias=False) →
BatchNorm2d → ReLU; → AvgPool2d(whole map) → Flatten → Linear(classes). The explicit ZeroPad2d
reproduces TF's SAME padding with strides (extra row/column after). Batch norm folds into each conv.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nas.cost import layers as L
from nas.errors import ConfigError
from nas.spaces.base import NUM_CLASSES, ArchSpec, SearchSpace, spec_fields, register
from nas.spaces.conv import Conv2dSpec
from nas.spaces.domains import Draw, IntRange, parse_choices


@register
@dataclass(frozen=True)
class DsCnnSpec(ArchSpec):
    arch = "ds_cnn"
    model_size_info_help = "n, then f kt kf st sf for each of the n layers"

    blocks: tuple[Conv2dSpec, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.blocks, (list, tuple)) or not self.blocks:
            raise ConfigError(f"ds_cnn spec: blocks must be a non-empty list, got {self.blocks!r}")
        object.__setattr__(self, "blocks", tuple(self.blocks))
        for i, block in enumerate(self.blocks, 1):
            block.check(self.arch, f"layer{i}")

    @classmethod
    def from_dict(cls, data: dict) -> "DsCnnSpec":
        blocks = spec_fields(cls, data)["blocks"]
        if not isinstance(blocks, list):
            raise ConfigError(f"ds_cnn spec: blocks must be a list, got {blocks!r}")
        return cls(tuple(Conv2dSpec.from_dict(cls.arch, f"layer{i}", b) for i, b in enumerate(blocks, 1)))

    @classmethod
    def from_model_size_info(cls, values: Sequence[int]) -> "DsCnnSpec":
        values = list(values)
        if not values or isinstance(values[0], bool) or not isinstance(values[0], int) or values[0] <= 0:
            raise ConfigError(f"ds_cnn: model_size_info must start with a positive layer count n "
                              f"({cls.model_size_info_help}), got {values[:1]}")
        v = cls._check_length(values, 1 + 5 * values[0])
        return cls(tuple(Conv2dSpec(*v[1 + 5 * i:6 + 5 * i]) for i in range(values[0])))

    def to_model_size_info(self) -> list[int]:
        return [len(self.blocks)] + [x for b in self.blocks for x in b.to_list()]

    def _layers(self, input_shape: tuple[int, int], num_classes: int) -> list[L.Layer]:
        first = self.blocks[0]
        out = [L.conv2d("conv1", (*input_shape, 1), first.filters, first.kernel, first.stride, "same",
                        batch_norm=True)]
        for i, block in enumerate(self.blocks[1:], 2):
            out.append(L.depthwise_conv2d(f"dw{i}", out[-1].output_shape, block.kernel, block.stride,
                                          batch_norm=True))
            out.append(L.conv2d(f"pw{i}", out[-1].output_shape, block.filters, (1, 1), (1, 1), "same",
                                batch_norm=True))
        out.append(L.avg_pool("avg_pool", out[-1].output_shape))
        out.append(L.dense("fc_out", out[-1].output_shape, num_classes))
        return out

    def build(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES):
        from torch import nn

        from nas.spaces.modules import AddChannel, same_pad

        shapes = self.layers(input_shape, num_classes)
        first = self.blocks[0]
        modules: list[nn.Module] = [
            AddChannel(), same_pad(input_shape, first.kernel, first.stride),
            nn.Conv2d(1, first.filters, first.kernel, first.stride, bias=False),
            nn.BatchNorm2d(first.filters), nn.ReLU(),
        ]
        channels, size = first.filters, shapes[0].output_shape[:2]
        for block in self.blocks[1:]:
            modules += [
                same_pad(size, block.kernel, block.stride),
                nn.Conv2d(channels, channels, block.kernel, block.stride, groups=channels, bias=False),
                nn.BatchNorm2d(channels), nn.ReLU(),
                nn.Conv2d(channels, block.filters, 1, bias=False), nn.BatchNorm2d(block.filters), nn.ReLU(),
            ]
            size = tuple(L.conv_output_size(n, 1, s, "same") for n, s in zip(size, block.stride))
            channels = block.filters
        modules += [nn.AvgPool2d(size), nn.Flatten(), nn.Linear(channels, num_classes)]
        return nn.Sequential(*modules)


class DsCnnSpace(SearchSpace):
    """n_layers blocks; block 1 is the standard conv (its own kernel/stride ranges), blocks 2..n are
    depthwise-separable (``layer{i}_filters``, ``layer{i}_kernel_t`` ... each capped by the map size)."""

    arch = "ds_cnn"

    def __init__(self, frontend: dict, n_layers: dict, filters: dict, first_kernel_t: dict,
                 first_kernel_f: dict, first_stride_t: dict, first_stride_f: dict, kernel_t: dict,
                 kernel_f: dict, stride_t: dict, stride_f: dict) -> None:
        super().__init__(frontend)
        p = IntRange.parse
        self.n_layers = p("ds_cnn.n_layers", n_layers)
        self.filters = p("ds_cnn.filters", filters)
        self.first = (p("ds_cnn.first_kernel_t", first_kernel_t), p("ds_cnn.first_kernel_f", first_kernel_f),
                      p("ds_cnn.first_stride_t", first_stride_t), p("ds_cnn.first_stride_f", first_stride_f))
        self.rest = (p("ds_cnn.kernel_t", kernel_t), p("ds_cnn.kernel_f", kernel_f),
                     p("ds_cnn.stride_t", stride_t), p("ds_cnn.stride_f", stride_f))

    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> DsCnnSpec:
        t, f = input_shape
        blocks = []
        for i in range(1, draw.int("n_layers", self.n_layers) + 1):
            kt, kf, st, sf = self.first if i == 1 else self.rest
            block = Conv2dSpec(
                draw.int(f"layer{i}_filters", self.filters),
                draw.int(f"layer{i}_kernel_t", kt, cap=t),
                draw.int(f"layer{i}_kernel_f", kf, cap=f),
                draw.int(f"layer{i}_stride_t", st),
                draw.int(f"layer{i}_stride_f", sf),
            )
            t = L.conv_output_size(t, block.kernel_t, block.stride_t, "same")
            f = L.conv_output_size(f, block.kernel_f, block.stride_f, "same")
            blocks.append(block)
        return DsCnnSpec(tuple(blocks))

    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[DsCnnSpec]:
        # SAME padding: a map's size depends on the stride alone, so kernels sit at their lows and
        # strides at their highs; a block more only adds layers (the pooled output FC reads as many
        # channels either way)
        filters = self.filters.bounds()[0]
        t, f = input_shape
        blocks = []
        for i in range(1, self.n_layers.bounds()[0] + 1):
            kt, kf, st, sf = self.first if i == 1 else self.rest
            block = Conv2dSpec(filters, kt.bounds(cap=t)[0], kf.bounds(cap=f)[0], st.values()[-1], sf.values()[-1])
            t = L.conv_output_size(t, block.kernel_t, block.stride_t, "same")
            f = L.conv_output_size(f, block.kernel_f, block.stride_f, "same")
            blocks.append(block)
        return [DsCnnSpec(tuple(blocks))]

    def spec_params(self, spec: DsCnnSpec) -> dict[str, Any]:
        params: dict[str, Any] = {"n_layers": len(spec.blocks)}
        for i, block in enumerate(spec.blocks, 1):
            params.update({f"layer{i}_{k}": v for k, v in vars(block).items()})
        return params


class DsCnnStagedSpace(SearchSpace):
    """The first conv, then ``stages`` stages of depthwise-separable blocks (MCUNet/MicroNets style).

    A stage is ``stage{s}_depth`` blocks (a choice; 0 skips the stage) of one width and one kernel; its
    first block carries the stage's stride, the others stride 1. About 20 dimensions instead of 5 per
    layer, so a sampler learns from a few dozen trials. Every trial draws every parameter (unused ones of
    an empty stage too): the same names and dimensions in each trial suit multivariate TPE. Hello Edge's
    DS-CNNs are one stage as wide as the first conv (their strided block starts the stage).
    ``search_spaces/ds_cnn_staged.yaml``; opt-in: it did not beat `DsCnnSpace` in benchmarks/bench_search.py.
    """

    arch = "ds_cnn"

    def __init__(self, frontend: dict, first_filters: dict, first_kernel_t: dict, first_kernel_f: dict,
                 first_stride_t: dict, first_stride_f: dict, stages: int, depth: list, width: dict,
                 kernel_t: dict, kernel_f: dict, stride_t: dict, stride_f: dict) -> None:
        super().__init__(frontend)
        p = IntRange.parse
        if isinstance(stages, bool) or not isinstance(stages, int) or stages < 1:
            raise ConfigError(f"search space: ds_cnn.stages must be a positive integer, got {stages!r}")
        self.stages = stages
        self.depth = parse_choices("ds_cnn.depth", depth)
        if any(isinstance(d, bool) or not isinstance(d, int) or d < 0 for d in self.depth):
            raise ConfigError(f"search space: ds_cnn.depth must list integers >= 0, got {list(self.depth)}")
        self.first = (p("ds_cnn.first_filters", first_filters), p("ds_cnn.first_kernel_t", first_kernel_t),
                      p("ds_cnn.first_kernel_f", first_kernel_f), p("ds_cnn.first_stride_t", first_stride_t),
                      p("ds_cnn.first_stride_f", first_stride_f))
        self.width = p("ds_cnn.width", width)
        self.kernel = (p("ds_cnn.kernel_t", kernel_t), p("ds_cnn.kernel_f", kernel_f))
        self.stride = (p("ds_cnn.stride_t", stride_t), p("ds_cnn.stride_f", stride_f))

    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> DsCnnSpec:
        t, f = input_shape
        filters, kt, kf, st, sf = self.first
        first = Conv2dSpec(draw.int("first_filters", filters), draw.int("first_kernel_t", kt, cap=t),
                           draw.int("first_kernel_f", kf, cap=f), draw.int("first_stride_t", st),
                           draw.int("first_stride_f", sf))
        t, f = (L.conv_output_size(n, 1, s, "same") for n, s in ((t, first.stride_t), (f, first.stride_f)))
        blocks = [first]
        for s in range(1, self.stages + 1):
            depth = draw.choice(f"stage{s}_depth", self.depth)
            width = draw.int(f"stage{s}_width", self.width)
            stride = (draw.int(f"stage{s}_stride_t", self.stride[0]), draw.int(f"stage{s}_stride_f", self.stride[1]))
            if depth:  # an empty stage leaves the map as it is
                t, f = (L.conv_output_size(n, 1, st, "same") for n, st in ((t, stride[0]), (f, stride[1])))
            # capped by the map after the stride, which every block of the stage slides over
            kernel = (draw.int(f"stage{s}_kernel_t", self.kernel[0], cap=t),
                      draw.int(f"stage{s}_kernel_f", self.kernel[1], cap=f))
            blocks += [Conv2dSpec(width, *kernel, *(stride if i == 0 else (1, 1))) for i in range(depth)]
        return DsCnnSpec(tuple(blocks))

    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[DsCnnSpec]:
        # SAME padding, as in DsCnnSpace: kernels at their lows, strides at their highs, the fewest
        # blocks per stage and the narrowest widths
        filters, kt, kf, st, sf = self.first
        t, f = input_shape
        first = Conv2dSpec(filters.low, kt.bounds(cap=t)[0], kf.bounds(cap=f)[0], st.values()[-1], sf.values()[-1])
        t, f = (L.conv_output_size(n, 1, s, "same") for n, s in ((t, first.stride_t), (f, first.stride_f)))
        blocks = [first]
        for _ in range(self.stages):
            depth = min(self.depth)
            stride = (self.stride[0].values()[-1], self.stride[1].values()[-1])
            if depth:
                t, f = (L.conv_output_size(n, 1, s, "same") for n, s in ((t, stride[0]), (f, stride[1])))
            kernel = (self.kernel[0].bounds(cap=t)[0], self.kernel[1].bounds(cap=f)[0])
            blocks += [Conv2dSpec(self.width.low, *kernel, *(stride if i == 0 else (1, 1))) for i in range(depth)]
        return [DsCnnSpec(tuple(blocks))]

    def spec_params(self, spec: DsCnnSpec) -> dict[str, Any]:
        """Splits the blocks after the first conv into stages: a stage runs while width and kernel stay
        the same, strides are 1 and its depth is below the largest choice. When ``spec`` has more
        stages than the space, the parameters returned do not resample to it (`contains` says False)."""
        first = spec.blocks[0]
        params: dict[str, Any] = {f"first_{k}": v for k, v in vars(first).items()}
        stages: list[list[Conv2dSpec]] = []
        for block in spec.blocks[1:]:
            stage = stages[-1] if stages else None
            if (stage and block.stride == (1, 1) and (block.filters, block.kernel) == (stage[0].filters, stage[0].kernel)
                    and len(stage) < max(self.depth)):
                stage.append(block)
            else:
                stages.append([block])
        for s in range(1, self.stages + 1):
            stage = stages[s - 1] if s <= len(stages) else []
            head = stage[0] if stage else None
            params.update({
                f"stage{s}_depth": len(stage),
                f"stage{s}_width": head.filters if head else self.width.low,
                f"stage{s}_stride_t": head.stride_t if head else self.stride[0].low,
                f"stage{s}_stride_f": head.stride_f if head else self.stride[1].low,
                f"stage{s}_kernel_t": head.kernel_t if head else self.kernel[0].low,
                f"stage{s}_kernel_f": head.kernel_f if head else self.kernel[1].low,
            })
        return params
