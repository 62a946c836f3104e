"""A framework-neutral layer list: what the torch model computes, in TFLite's tensor conventions.

`from_torch` reads a trained torch model into this list and `tf_graph` writes it as a TensorFlow
function for the TFLite converter. Keeping the middle as plain numpy arrays means the weight layout
conversions (NCHW → NHWC, torch's [out, in] → [in, out], batch-norm folding) happen in one place and
are tested once against the torch forward pass.

Shapes exclude the batch dimension. Weights are float32 numpy arrays:
dense kernels [in, out], conv kernels [kt, kf, in, out], depthwise kernels [kt, kf, channels, 1].
Recurrent gate weights are stored per gate so every gate is its own FULLY_CONNECTED in TFLite
(its own per-channel scales, and no SPLIT or CONCATENATION in the op set).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Pads = tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right)) = (time, frequency)


@dataclass(frozen=True)
class Reshape:
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Conv2D:
    kernel: np.ndarray
    bias: np.ndarray
    strides: tuple[int, int]
    pads: Pads
    relu: bool


@dataclass(frozen=True)
class DepthwiseConv2D:
    kernel: np.ndarray
    bias: np.ndarray
    strides: tuple[int, int]
    pads: Pads
    relu: bool


@dataclass(frozen=True)
class GlobalAveragePool:
    """Mean over the time and frequency axes of an [T, F, C] map → [C]."""


@dataclass(frozen=True)
class Dense:
    kernel: np.ndarray
    bias: np.ndarray | None
    relu: bool


@dataclass(frozen=True)
class LSTM:
    """One LSTM layer over a [T, in] sequence; gates in order i, f, g (cell input), o.

    ``x_kernels[g]`` is [in, H], ``h_kernels[g]`` is [state, H] where state is the projection size
    when ``projection`` is set; ``biases[g]`` already holds every bias term of gate g.
    ``peepholes`` = (w_ci, w_cf, w_co), each [H]; ``projection`` is [H, P] without bias.
    """

    x_kernels: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    h_kernels: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    biases: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    peepholes: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    projection: np.ndarray | None
    return_sequences: bool


@dataclass(frozen=True)
class GRU:
    """One GRU layer, TensorFlow GRUCell semantics (what Hello Edge trained; gates r, u, candidate c).

    r = σ(x W_xr + h W_hr + b_r), u = σ(x W_xu + h W_hu + b_u),
    c = tanh(x W_xc + (r ⊙ h) W_hc + b_c), h' = u ⊙ h + (1 − u) ⊙ c = c + u ⊙ (h − c).
    """

    x_kernels: tuple[np.ndarray, np.ndarray, np.ndarray]
    h_kernels: tuple[np.ndarray, np.ndarray, np.ndarray]
    biases: tuple[np.ndarray, np.ndarray, np.ndarray]
    return_sequences: bool


@dataclass(frozen=True)
class Residual:
    """``relu(body(x) + shortcut(x))`` over a [T, F, C] map: in TFLite one ADD (ReLU fused) of two
    int8 tensors. An empty ``shortcut`` is the identity."""

    body: tuple["Layer", ...]
    shortcut: tuple["Layer", ...]


Layer = Reshape | Conv2D | DepthwiseConv2D | GlobalAveragePool | Dense | LSTM | GRU | Residual
