"""Shape-level description of one network layer: what every cost convention is computed from.

Each architecture turns its spec into a list of `Layer` records (``ArchSpec.layers``); the Hello Edge
and deployment conventions then only add numbers up. Nothing here imports torch.

Shapes are per clip, channels last: a conv feature map is (time, frequency, channels), a sequence is
(time, features), a vector is (features,).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from nas.errors import ConfigError

# int8 LSTM/GRU kernels keep gate pre-activations in int16 (TFLite's integer LSTM does the same).
GATE_BYTES = 2
# The LSTM cell state stays int16 for the same reason; the hidden state is int8.
CELL_STATE_BYTES = 2


@dataclass(frozen=True)
class Layer:
    """One layer as the cost model sees it (batch norm folded, activation fused).

    Attributes:
        name: unique, human-readable ("conv1", "dw2", "gru1", "fc_out").
        kind: "conv2d", "depthwise_conv2d", "dense", "lstm", "gru", "avg_pool" or "add".
        input_shape / output_shape: per clip, channels last.
        weights: weight elements after folding batch norm (int8 on the board).
        biases: bias elements after folding (int32 on the board).
        trainable: parameters of the float PyTorch layer (batch norm scale and shift included),
            so ``sum(trainable)`` equals the built model's parameter count.
        macs: multiply-accumulates of the matrix products (RNN: summed over all time steps).
        quant_channels: per-channel weight scales the int8 kernel needs (output channels or gate rows).
        state_bytes: recurrent state kept across time steps.
        scratch_bytes: temporary buffer the kernel needs while it runs.
        hello_edge_activations: input + output elements Hello Edge counts for an RNN layer, which
            differ from its tensor shapes when layers are stacked (see `_rnn_hello_edge_activations`),
            or for a layer inside a residual block, which also holds the skip tensor.
        inputs: names of the layers whose outputs it reads ("input" for the model input); None
            means the previous layer's output. Residual blocks need it: their skip tensor stays alive.
        kernel / stride: (time, frequency) of a convolution; the board's kernels take different
            paths by them (nas.cost.latency).
    """

    name: str
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    weights: int
    biases: int
    trainable: int
    macs: int
    quant_channels: int
    state_bytes: int = 0
    scratch_bytes: int = 0
    hello_edge_activations: int | None = None
    inputs: tuple[str, ...] | None = None
    kernel: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None

    @property
    def input_elems(self) -> int:
        return math.prod(self.input_shape)

    @property
    def output_elems(self) -> int:
        return math.prod(self.output_shape)

    @property
    def params(self) -> int:
        """Deployed parameter count (weights + biases): what Hello Edge counts."""
        return self.weights + self.biases

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        d["output_shape"] = list(self.output_shape)
        return d


def _check_kernel(name: str, field: str, kernel: int, size: int) -> None:
    if kernel > size:
        raise ConfigError(f"{name}: {field} {kernel} is larger than its input ({size})")


def conv_output_size(size: int, kernel: int, stride: int, padding: str) -> int:
    """Output length along one axis, as TensorFlow computes it for VALID and SAME padding."""
    if padding == "valid":
        return (size - kernel) // stride + 1
    return -(-size // stride)


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) zero padding of TensorFlow's SAME mode: the extra element goes after."""
    total = max((conv_output_size(size, kernel, stride, "same") - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d(
    name: str, input_shape: tuple[int, int, int], filters: int, kernel: tuple[int, int],
    stride: tuple[int, int], padding: str, batch_norm: bool,
) -> Layer:
    """Standard convolution; with batch_norm the float layer has no bias but BN scale and shift."""
    t, f, c = input_shape
    _check_kernel(name, "kernel_t", kernel[0], t)
    _check_kernel(name, "kernel_f", kernel[1], f)
    out = (conv_output_size(t, kernel[0], stride[0], padding),
           conv_output_size(f, kernel[1], stride[1], padding), filters)
    weights = kernel[0] * kernel[1] * c * filters
    trainable = weights + (2 * filters if batch_norm else filters)
    return Layer(name, "conv2d", input_shape, out, weights, filters, trainable,
                 macs=out[0] * out[1] * kernel[0] * kernel[1] * c * filters, quant_channels=filters,
                 kernel=tuple(kernel), stride=tuple(stride))


def depthwise_conv2d(
    name: str, input_shape: tuple[int, int, int], kernel: tuple[int, int], stride: tuple[int, int],
    batch_norm: bool,
) -> Layer:
    """Depthwise convolution, multiplier 1, SAME padding (DS-CNN)."""
    t, f, c = input_shape
    _check_kernel(name, "kernel_t", kernel[0], t)
    _check_kernel(name, "kernel_f", kernel[1], f)
    out = (conv_output_size(t, kernel[0], stride[0], "same"),
           conv_output_size(f, kernel[1], stride[1], "same"), c)
    weights = kernel[0] * kernel[1] * c
    trainable = weights + (2 * c if batch_norm else c)
    return Layer(name, "depthwise_conv2d", input_shape, out, weights, c, trainable,
                 macs=out[0] * out[1] * kernel[0] * kernel[1] * c, quant_channels=c,
                 kernel=tuple(kernel), stride=tuple(stride))


def dense(name: str, input_shape: tuple[int, ...], units: int, batch_norm: bool = False, bias: bool = True) -> Layer:
    """Fully connected layer on the flattened input."""
    n_in = math.prod(input_shape)
    weights = n_in * units
    biases = units if (bias or batch_norm) else 0
    trainable = weights + (2 * units if batch_norm else biases)
    return Layer(name, "dense", input_shape, (units,), weights, biases, trainable,
                 macs=n_in * units, quant_channels=units)


def _rnn_hello_edge_activations(input_shape: tuple[int, int], n_out: int, stacked: bool) -> int:
    """Hello Edge runs stacked RNN layers as one multi-layer cell, step by step (TF MultiRNNCell):
    a stacked layer sees one step of the layer below, and every layer's output is its state."""
    steps, n_in = input_shape
    return (n_in if stacked else steps * n_in) + n_out


def lstm(
    name: str, input_shape: tuple[int, int], cells: int, projection: int | None, peepholes: bool,
    return_sequence: bool, stacked: bool = False,
) -> Layer:
    """LSTM (TensorFlow LSTMCell layout): one [x, h] → 4 gates matrix with one bias, optional
    diagonal peepholes (i, f, o) and an output projection without bias."""
    steps, n_in = input_shape
    n_out = projection or cells
    gate_weights = 4 * cells * (n_in + n_out)
    proj_weights = cells * projection if projection else 0
    weights = gate_weights + proj_weights + (3 * cells if peepholes else 0)
    out = (steps, n_out) if return_sequence else (n_out,)
    return Layer(name, "lstm", input_shape, out, weights, 4 * cells, weights + 4 * cells,
                 macs=steps * (gate_weights + proj_weights),
                 quant_channels=4 * cells + (projection or 0),
                 state_bytes=n_out + CELL_STATE_BYTES * cells,
                 scratch_bytes=GATE_BYTES * 4 * cells,
                 hello_edge_activations=_rnn_hello_edge_activations(input_shape, n_out, stacked))


def gru(name: str, input_shape: tuple[int, int], cells: int, return_sequence: bool, stacked: bool = False) -> Layer:
    """GRU (TensorFlow GRUCell layout): [x, h] → (reset, update) and [x, r·h] → candidate,
    one bias per matrix. ``stacked``: its input is the output sequence of another RNN layer."""
    steps, n_in = input_shape
    weights = 3 * cells * (n_in + cells)
    out = (steps, cells) if return_sequence else (cells,)
    return Layer(name, "gru", input_shape, out, weights, 3 * cells, weights + 3 * cells,
                 macs=steps * weights, quant_channels=3 * cells,
                 state_bytes=cells, scratch_bytes=GATE_BYTES * 3 * cells,
                 hello_edge_activations=_rnn_hello_edge_activations(input_shape, cells, stacked))


def avg_pool(name: str, input_shape: tuple[int, int, int]) -> Layer:
    """Global average pool over time and frequency (no MACs in the Hello Edge convention)."""
    return Layer(name, "avg_pool", input_shape, (1, 1, input_shape[2]), 0, 0, 0, macs=0, quant_channels=0)


def add(name: str, shape: tuple[int, ...], inputs: tuple[str, str]) -> Layer:
    """Elementwise sum of two tensors of ``shape`` (a residual connection); free in Hello Edge's ops."""
    n = math.prod(shape)
    return Layer(name, "add", shape, shape, 0, 0, 0, macs=0, quant_channels=0,
                 hello_edge_activations=3 * n, inputs=inputs)
