"""LSTM with peepholes and an output projection (Hello Edge's "LSTM", after Sak et al. 2014).

Torch structure: Lstm(F, cells, projection, peepholes=True) (explicit loop over T: Linear([x, h] →
4·cells), diagonal peephole weights, Linear(cells → projection, no bias); see nas.spaces.modules)
→ Linear(classes). torch.nn.LSTM has proj_size but no peepholes, hence our own cell.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from nas.cost import layers as L
from nas.spaces.base import NUM_CLASSES, ArchSpec, SearchSpace, check_positive, register
from nas.spaces.domains import Draw, IntRange


@register
@dataclass(frozen=True)
class LstmSpec(ArchSpec):
    arch = "lstm"
    model_size_info_help = "projection cells"

    projection: int
    cells: int

    def __post_init__(self) -> None:
        check_positive(self.arch, "projection", self.projection)
        check_positive(self.arch, "cells", self.cells)

    @classmethod
    def from_model_size_info(cls, values: Sequence[int]) -> "LstmSpec":
        return cls(*cls._check_length(values, 2))

    def to_model_size_info(self) -> list[int]:
        return [self.projection, self.cells]

    def _layers(self, input_shape: tuple[int, int], num_classes: int) -> list[L.Layer]:
        rnn = L.lstm("lstm", input_shape, self.cells, projection=self.projection, peepholes=True,
                     return_sequence=False)
        return [rnn, L.dense("fc_out", rnn.output_shape, num_classes)]

    def build(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES):
        from torch import nn

        from nas.spaces.modules import Lstm

        return nn.Sequential(Lstm(input_shape[1], self.cells, projection=self.projection, peepholes=True),
                             nn.Linear(self.projection, num_classes))


class LstmSpace(SearchSpace):
    """cells, then projection capped at cells (a projection wider than the cell adds nothing)."""

    arch = "lstm"

    def __init__(self, frontend: dict, cells: dict, projection: dict) -> None:
        super().__init__(frontend)
        self.cells = IntRange.parse("lstm.cells", cells)
        self.projection = IntRange.parse("lstm.projection", projection)

    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> LstmSpec:
        cells = draw.int("cells", self.cells)
        return LstmSpec(projection=draw.int("projection", self.projection, cap=cells), cells=cells)

    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[LstmSpec]:
        cells = self.cells.bounds()[0]  # the fewest cells also allow the narrowest projection
        return [LstmSpec(projection=self.projection.bounds(cap=cells)[0], cells=cells)]

    def spec_params(self, spec: LstmSpec) -> dict[str, Any]:
        return {"cells": spec.cells, "projection": spec.projection}
