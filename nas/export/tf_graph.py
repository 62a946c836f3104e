"""Write a `graph_ir` layer list as a TensorFlow function the TFLite converter lowers to a small op set.

Recurrent layers are unrolled over time: one batched FULLY_CONNECTED per gate projects every input
step at once and an UNPACK splits the steps; then per step FULLY_CONNECTED (recurrent weights, shared by
all steps) + ADD + LOGISTIC / TANH + MUL, and SUB for the GRU update; stacked layers PACK the sequence.
So the .tflite needs no fused LSTM kernel, no control flow and no resource variables: every op is one
a small C interpreter implements in a page.
The zero initial state is folded away (the first step skips the recurrent products).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from nas.export import graph_ir as ir


def _pad_mode(pads: ir.Pads, kernel: tuple[int, int], strides: tuple[int, int], size: tuple[int, int]):
    """'VALID', 'SAME' when the pads equal TensorFlow's SAME rule, else None (an explicit PAD is needed)."""
    if pads == ((0, 0), (0, 0)):
        return "VALID"
    same = []
    for n, k, s in zip(size, kernel, strides):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        same.append((total // 2, total - total // 2))
    return "SAME" if tuple(same) == tuple(pads) else None


def _conv(x: tf.Tensor, layer: ir.Conv2D | ir.DepthwiseConv2D) -> tf.Tensor:
    kernel = tf.constant(layer.kernel, tf.float32)
    size = (int(x.shape[1]), int(x.shape[2]))
    mode = _pad_mode(layer.pads, layer.kernel.shape[:2], layer.strides, size)
    if mode is None:
        x = tf.pad(x, [[0, 0], list(layer.pads[0]), list(layer.pads[1]), [0, 0]])
        mode = "VALID"
    strides = [1, *layer.strides, 1]
    if isinstance(layer, ir.Conv2D):
        y = tf.nn.conv2d(x, kernel, strides, mode)
    else:
        y = tf.nn.depthwise_conv2d(x, kernel, strides, mode)
    y = tf.nn.bias_add(y, tf.constant(layer.bias, tf.float32))
    return tf.nn.relu(y) if layer.relu else y


def _dense(x: tf.Tensor, kernel: np.ndarray, bias: np.ndarray | None = None, relu: bool = False) -> tf.Tensor:
    y = tf.matmul(x, tf.constant(kernel, tf.float32))
    if bias is not None:
        y = tf.nn.bias_add(y, tf.constant(bias, tf.float32))
    return tf.nn.relu(y) if relu else y


def _input_projections(seq: tf.Tensor, kernels, biases) -> list[list[tf.Tensor]]:
    """x W_g + b_g for every gate g and time step, as one batched FULLY_CONNECTED per gate.

    Returns ``[gate][t]`` tensors of shape [1, H]; one UNPACK per gate splits the steps.
    """
    steps, width = int(seq.shape[1]), int(seq.shape[2])
    flat = tf.reshape(seq, [steps, width])
    out = []
    for kernel, bias in zip(kernels, biases):
        proj = tf.reshape(_dense(flat, kernel, bias), [1, steps, kernel.shape[1]])
        out.append(tf.unstack(proj, axis=1))
    return out


def _lstm(seq: tf.Tensor, layer: ir.LSTM) -> list[tf.Tensor]:
    x_pre = _input_projections(seq, layer.x_kernels, layer.biases)
    h = c = None
    outputs = []
    for t in range(int(seq.shape[1])):
        pre = [x_pre[g][t] for g in range(4)]
        if h is not None:
            pre = [a + _dense(h, layer.h_kernels[g]) for g, a in enumerate(pre)]
        i_pre, f_pre, g_pre, o_pre = pre
        if layer.peepholes is not None and c is not None:
            i_pre = i_pre + c * tf.constant(layer.peepholes[0])
            f_pre = f_pre + c * tf.constant(layer.peepholes[1])
        i, g = tf.sigmoid(i_pre), tf.tanh(g_pre)
        c = i * g if c is None else tf.sigmoid(f_pre) * c + i * g
        if layer.peepholes is not None:
            o_pre = o_pre + c * tf.constant(layer.peepholes[2])
        m = tf.sigmoid(o_pre) * tf.tanh(c)
        h = _dense(m, layer.projection) if layer.projection is not None else m
        outputs.append(h)
    return outputs


def _gru(seq: tf.Tensor, layer: ir.GRU) -> list[tf.Tensor]:
    r_pre, u_pre, c_pre = _input_projections(seq, layer.x_kernels, layer.biases)
    h = None
    outputs = []
    for t in range(int(seq.shape[1])):
        if h is None:  # h = 0: the recurrent products vanish and h' = c − u ⊙ c
            c = tf.tanh(c_pre[t])
            h = c - tf.sigmoid(u_pre[t]) * c
        else:
            r = tf.sigmoid(r_pre[t] + _dense(h, layer.h_kernels[0]))
            u = tf.sigmoid(u_pre[t] + _dense(h, layer.h_kernels[1]))
            c = tf.tanh(c_pre[t] + _dense(r * h, layer.h_kernels[2]))
            h = c + u * (h - c)
        outputs.append(h)
    return outputs


def forward(x: tf.Tensor, layers: Sequence[ir.Layer]) -> tf.Tensor:
    """Apply the layer list to a batch-1 ``x`` [1, *input_shape]."""
    for layer in layers:
        if isinstance(layer, (ir.LSTM, ir.GRU)):
            outputs = _lstm(x, layer) if isinstance(layer, ir.LSTM) else _gru(x, layer)
            # a stacked layer reads the whole sequence: PACK it back into [1, T, H]
            x = tf.stack(outputs, axis=1) if layer.return_sequences else outputs[-1]
        elif isinstance(layer, ir.Reshape):
            x = tf.reshape(x, [-1, *layer.shape])
        elif isinstance(layer, (ir.Conv2D, ir.DepthwiseConv2D)):
            x = _conv(x, layer)
        elif isinstance(layer, ir.GlobalAveragePool):
            # AVERAGE_POOL_2D over the whole map (not MEAN): the kernel every KWS runtime already has
            window = [1, int(x.shape[1]), int(x.shape[2]), 1]
            x = tf.reshape(tf.nn.avg_pool2d(x, window, window, "VALID"), [-1, int(x.shape[3])])
        elif isinstance(layer, ir.Dense):
            x = _dense(x, layer.kernel, layer.bias, layer.relu)
        elif isinstance(layer, ir.Residual):
            x = tf.nn.relu(forward(x, layer.body) + forward(x, layer.shortcut))
        else:
            raise TypeError(f"unknown layer {type(layer).__name__}")
    return x


def concrete_function(layers: Sequence[ir.Layer], input_shape: tuple[int, ...]):
    """A batch-1 concrete function of the layer list, for the converter and for float checks."""

    @tf.function(autograph=False, input_signature=[tf.TensorSpec([1, *input_shape], tf.float32, name="mfcc")])
    def model(x):
        return forward(x, layers)

    return model.get_concrete_function()
