"""GRU: a stack of GRU layers of equal width; the top layer's last output feeds the 12-way FC.

Torch structure: Gru(F, cells, return_sequence=True) × (layers − 1) → Gru(cells, cells) →
Linear(classes). Each Gru is an explicit loop over T of two Linear layers and elementwise gates
(TF GRUCell semantics, one bias per matrix; see nas.spaces.modules).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nas.cost import layers as L
from nas.spaces.base import NUM_CLASSES, ArchSpec, SearchSpace, check_positive, register
from nas.spaces.domains import Draw, IntRange


def gru_stack(input_shape: tuple[int, int], layers: int, cells: int) -> list[L.Layer]:
    """Stacked GRU layers; all but the top one hand their whole output sequence on."""
    out, shape = [], input_shape
    for i in range(1, layers + 1):
        out.append(L.gru(f"gru{i}", shape, cells, return_sequence=i < layers, stacked=i > 1))
        shape = out[-1].output_shape
    return out


def build_gru_stack(input_size: int, layers: int, cells: int) -> list:
    from nas.spaces.modules import Gru

    return [Gru(input_size if i == 0 else cells, cells, return_sequence=i < layers - 1) for i in range(layers)]


@register
@dataclass(frozen=True)
class GruSpec(ArchSpec):
    arch = "gru"
    model_size_info_help = "layers cells"

    num_layers: int
    cells: int

    def __post_init__(self) -> None:
        check_positive(self.arch, "num_layers", self.num_layers)
        check_positive(self.arch, "cells", self.cells)

    @classmethod
    def from_model_size_info(cls, values: Sequence[int]) -> "GruSpec":
        return cls(*cls._check_length(values, 2))

    def to_model_size_info(self) -> list[int]:
        return [self.num_layers, self.cells]

    def _layers(self, input_shape: tuple[int, int], num_classes: int) -> list[L.Layer]:
        stack = gru_stack(input_shape, self.num_layers, self.cells)
        return stack + [L.dense("fc_out", stack[-1].output_shape, num_classes)]

    def build(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES):
        from torch import nn

        return nn.Sequential(*build_gru_stack(input_shape[1], self.num_layers, self.cells),
                             nn.Linear(self.cells, num_classes))


class GruSpace(SearchSpace):
    arch = "gru"

    def __init__(self, frontend: dict, layers: dict, cells: dict) -> None:
        super().__init__(frontend)
        self.layers = IntRange.parse("gru.layers", layers)
        self.cells = IntRange.parse("gru.cells", cells)

    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> GruSpec:
        return GruSpec(draw.int("layers", self.layers), draw.int("cells", self.cells))

    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[GruSpec]:
        # a stacked layer only adds weights, MACs and state: the top layer is ``cells`` wide either way
        return [GruSpec(self.layers.bounds()[0], self.cells.bounds()[0])]

    def spec_params(self, spec: GruSpec) -> dict[str, Any]:
        return {"layers": spec.num_layers, "cells": spec.cells}
