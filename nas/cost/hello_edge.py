"""The Hello Edge cost convention (Zhang et al. 2017, section 4; /work/shared/design/hardware.md).

memory = deployed weights and biases × 1 byte + the largest (input + output) activation pair of any
single layer at 1 byte per element (the input features count as the first layer's input);
ops = 2 × MACs of conv/depthwise/pointwise/FC layers and RNN gate matrices over all time steps.
Batch norm is folded, pooling and elementwise gate arithmetic are free.
"""
from __future__ import annotations

from typing import Sequence

from nas.cost.layers import Layer


def activation_elems(layer: Layer) -> int:
    """Input + output elements this layer holds at once, as Hello Edge counts them."""
    if layer.hello_edge_activations is not None:
        return layer.hello_edge_activations
    return layer.input_elems + layer.output_elems


def memory_bytes(layers: Sequence[Layer]) -> int:
    return sum(layer.params for layer in layers) + max(activation_elems(layer) for layer in layers)


def ops(layers: Sequence[Layer]) -> int:
    return 2 * sum(layer.macs for layer in layers)
