"""The deployment convention: int8 weights in flash, and an activation arena planned by lifetimes.

Flash: int8 weights (1 B), int32 biases (4 B), and quantization parameters: a float32 scale and an
int32 zero point per weight channel and per activation tensor (TFLite stores them per channel).
RAM: every activation tensor is int8 and lives from the layer that writes it to the layer that reads
it; kernels' scratch buffers live during their layer; these are packed by the greedy planner that
TFLite Micro's GreedyMemoryPlanner uses (largest first, lowest offset that overlaps nothing alive at
the same time). Recurrent state is persistent and comes on top.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from nas.cost.layers import Layer

WEIGHT_BYTES = 1
BIAS_BYTES = 4
QUANT_PARAM_BYTES = 8  # float32 scale + int32 zero point
ACTIVATION_BYTES = 1


@dataclass(frozen=True)
class Buffer:
    """size bytes needed from layer index ``first`` through ``last`` (inclusive)."""

    size: int
    first: int
    last: int


def plan_greedy(buffers: Sequence[Buffer]) -> tuple[int, list[int]]:
    """Offsets for ``buffers`` so that no two alive at once overlap; returns (arena bytes, offsets)."""
    order = sorted(range(len(buffers)), key=lambda i: (-buffers[i].size, buffers[i].first))
    offsets: list[int | None] = [None] * len(buffers)
    for i in order:
        b = buffers[i]
        alive = sorted((offsets[j], buffers[j].size) for j in range(len(buffers))
                       if offsets[j] is not None and buffers[j].first <= b.last and b.first <= buffers[j].last)
        offset = 0
        for start, size in alive:
            if offset + b.size <= start:
                break  # the gap before this buffer is large enough
            offset = max(offset, start + size)
        offsets[i] = offset
    total = max((o + b.size for o, b in zip(offsets, buffers)), default=0)
    return total, [int(o) for o in offsets]


@dataclass(frozen=True)
class DeployCost:
    flash_bytes: int
    arena_bytes: int
    state_bytes: int

    @property
    def ram_bytes(self) -> int:
        return self.arena_bytes + self.state_bytes

    @property
    def total_bytes(self) -> int:
        return self.flash_bytes + self.ram_bytes


def layer_flash_bytes(layer: Layer) -> int:
    return (layer.weights * WEIGHT_BYTES + layer.biases * BIAS_BYTES
            + (layer.quant_channels + 1) * QUANT_PARAM_BYTES)  # + 1: the layer's output tensor


def activation_buffers(input_elems: int, layers: Sequence[Layer]) -> list[Buffer]:
    """Tensor 0 is the input, tensor i + 1 layer i's output; each lives from the layer that writes it
    to the last layer that reads it (a residual block's skip tensor lives across the block), and the
    last output stays until the end."""
    n = len(layers)
    tensor_of = {"input": 0, **{layer.name: i + 1 for i, layer in enumerate(layers)}}
    last_read = [0] + list(range(n))  # at least where each is written (the last output: to the end)
    for i, layer in enumerate(layers):
        for t in ([i] if layer.inputs is None else [tensor_of[name] for name in layer.inputs]):
            last_read[t] = max(last_read[t], i)
    buffers = [Buffer(input_elems * ACTIVATION_BYTES, 0, last_read[0])]
    for i, layer in enumerate(layers):
        buffers.append(Buffer(layer.output_elems * ACTIVATION_BYTES, i, last_read[i + 1]))
        if layer.scratch_bytes:
            buffers.append(Buffer(layer.scratch_bytes, i, i))
    return buffers


def deploy_cost(layers: Sequence[Layer]) -> DeployCost:
    flash = QUANT_PARAM_BYTES + sum(layer_flash_bytes(layer) for layer in layers)  # + input tensor's
    arena, _ = plan_greedy(activation_buffers(layers[0].input_elems, layers))
    return DeployCost(flash, arena, sum(layer.state_bytes for layer in layers))
