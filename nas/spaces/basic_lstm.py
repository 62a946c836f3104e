"""Basic LSTM: one LSTM layer (no peepholes, no projection); its last output feeds the 12-way FC.

Torch structure: Lstm(F, cells) (an explicit loop over T of Linear([x, h] → 4·cells) and
elementwise gates; see nas.spaces.modules) → Linear(classes).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nas.cost import layers as L
from nas.spaces.base import NUM_CLASSES, ArchSpec, SearchSpace, check_positive, register
from nas.spaces.domains import Draw, IntRange


@register
@dataclass(frozen=True)
class BasicLstmSpec(ArchSpec):
    arch = "basic_lstm"
    model_size_info_help = "cells"

    cells: int

    def __post_init__(self) -> None:
        check_positive(self.arch, "cells", self.cells)

    @classmethod
    def from_model_size_info(cls, values: Sequence[int]) -> "BasicLstmSpec":
        return cls(*cls._check_length(values, 1))

    def to_model_size_info(self) -> list[int]:
        return [self.cells]

    def _layers(self, input_shape: tuple[int, int], num_classes: int) -> list[L.Layer]:
        rnn = L.lstm("lstm", input_shape, self.cells, projection=None, peepholes=False, return_sequence=False)
        return [rnn, L.dense("fc_out", rnn.output_shape, num_classes)]

    def build(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES):
        from torch import nn

        from nas.spaces.modules import Lstm

        return nn.Sequential(Lstm(input_shape[1], self.cells), nn.Linear(self.cells, num_classes))


class BasicLstmSpace(SearchSpace):
    arch = "basic_lstm"

    def __init__(self, frontend: dict, cells: dict) -> None:
        super().__init__(frontend)
        self.cells = IntRange.parse("basic_lstm.cells", cells)

    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> BasicLstmSpec:
        return BasicLstmSpec(draw.int("cells", self.cells))

    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[BasicLstmSpec]:
        return [BasicLstmSpec(self.cells.bounds()[0])]

    def spec_params(self, spec: BasicLstmSpec) -> dict[str, Any]:
        return {"cells": spec.cells}
