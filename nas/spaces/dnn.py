"""DNN: fully connected layers with ReLU on the flattened T × F features, then a 12-way output.

Torch structure: Flatten → (Linear → ReLU) × n → Linear. Converts 1:1 to int8 FULLY_CONNECTED ops.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nas.cost import layers as L
from nas.errors import ConfigError
from nas.spaces.base import NUM_CLASSES, ArchSpec, SearchSpace, check_positive, register
from nas.spaces.domains import Draw, IntRange


@register
@dataclass(frozen=True)
class DnnSpec(ArchSpec):
    arch = "dnn"
    model_size_info_help = "one width per hidden layer"

    widths: tuple[int, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.widths, (list, tuple)):
            raise ConfigError(f"dnn spec: widths must be a list of integers, got {self.widths!r}")
        object.__setattr__(self, "widths", tuple(self.widths))
        if not self.widths:
            raise ConfigError("dnn spec: widths must list at least one hidden layer")
        for i, w in enumerate(self.widths, 1):
            check_positive(self.arch, f"widths[{i}]", w)

    @classmethod
    def from_model_size_info(cls, values: Sequence[int]) -> "DnnSpec":
        values = list(values)
        if not values:
            raise ConfigError(f"dnn: model_size_info needs at least 1 number ({cls.model_size_info_help}), got 0")
        return cls(tuple(values))

    def to_model_size_info(self) -> list[int]:
        return list(self.widths)

    def _layers(self, input_shape: tuple[int, int], num_classes: int) -> list[L.Layer]:
        out: list[L.Layer] = []
        shape: tuple[int, ...] = tuple(input_shape)
        for i, width in enumerate(self.widths, 1):
            out.append(L.dense(f"fc{i}", shape, width))
            shape = (width,)
        out.append(L.dense("fc_out", shape, num_classes))
        return out

    def build(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES):
        from torch import nn

        modules: list[nn.Module] = [nn.Flatten()]
        n_in = input_shape[0] * input_shape[1]
        for width in self.widths:
            modules += [nn.Linear(n_in, width), nn.ReLU()]
            n_in = width
        modules.append(nn.Linear(n_in, num_classes))
        return nn.Sequential(*modules)


class DnnSpace(SearchSpace):
    """``n_layers`` hidden layers, each with its own ``layer{i}_width``."""

    arch = "dnn"

    def __init__(self, frontend: dict, n_layers: dict, width: dict) -> None:
        super().__init__(frontend)
        self.n_layers = IntRange.parse("dnn.n_layers", n_layers)
        self.width = IntRange.parse("dnn.width", width)

    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> DnnSpec:
        n = draw.int("n_layers", self.n_layers)
        return DnnSpec(tuple(draw.int(f"layer{i}_width", self.width) for i in range(1, n + 1)))

    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[DnnSpec]:
        # a hidden layer more at the lowest width only adds a width × width layer to the chain
        return [DnnSpec((self.width.bounds()[0],) * self.n_layers.bounds()[0])]

    def spec_params(self, spec: DnnSpec) -> dict[str, Any]:
        return {"n_layers": len(spec.widths), **{f"layer{i}_width": w for i, w in enumerate(spec.widths, 1)}}
