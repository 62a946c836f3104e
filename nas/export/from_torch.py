"""Read a trained torch model (an ``nn.Sequential`` from `nas.spaces`) into a `graph_ir` layer list.

The walk runs a dummy batch through the children one by one, so every module knows its input shape;
that is what the layout changes need (torch flattens conv maps channel-major, TFLite channel-last, so
the Linear after a Flatten gets its input columns permuted). Batch norm is folded into the conv or
linear before it, ReLU into the layer before it, ZeroPad2d into the next conv's pads. A
`ResidualBlock` (TC-ResNet) becomes an `ir.Residual` whose two branches are walked from its input.
A module the walk does not know is refused with a `ConversionError` naming it and the architecture.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nas.errors import KwsNasError
from nas.export import graph_ir as ir
from nas.spaces import modules as spaces_modules
from nas.spaces import residual


class ConversionError(KwsNasError):
    """The model holds something the int8 TFLite path cannot express."""


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().cpu().numpy()


def _fold_bn(weight: np.ndarray, bias: np.ndarray, bn: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """Batch norm (eval statistics) folded into the output channels (axis 0) of ``weight``."""
    scale = _np(bn.weight) / np.sqrt(_np(bn.running_var) + bn.eps)
    shape = (-1,) + (1,) * (weight.ndim - 1)
    return weight * scale.reshape(shape), (bias - _np(bn.running_mean)) * scale + _np(bn.bias)


def _f32(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(np.ascontiguousarray(a, dtype=np.float32) for a in arrays)


def _lstm(m: spaces_modules.Lstm, n_in: int) -> ir.LSTM:
    w, b, h = _np(m.gates.weight), _np(m.gates.bias), m.cells
    # torch chunks (i, j, f, o); the IR wants (i, f, g=j, o)
    order = (0, 2, 1, 3)
    x_k = _f32(*(w[g * h:(g + 1) * h, :n_in].T for g in order))
    h_k = _f32(*(w[g * h:(g + 1) * h, n_in:].T for g in order))
    biases = _f32(*(b[g * h:(g + 1) * h] for g in order))
    peep = None if m.peepholes is None else _f32(*_np(m.peepholes))
    proj = None if m.projection is None else _f32(_np(m.projection.weight).T)[0]
    return ir.LSTM(x_k, h_k, biases, peep, proj, m.return_sequence)


def _gru(m: spaces_modules.Gru, n_in: int) -> ir.GRU:
    h = m.cells
    wg, bg = _np(m.gates.weight), _np(m.gates.bias)
    wc, bc = _np(m.candidate.weight), _np(m.candidate.bias)
    x_k = _f32(wg[:h, :n_in].T, wg[h:, :n_in].T, wc[:, :n_in].T)
    h_k = _f32(wg[:h, n_in:].T, wg[h:, n_in:].T, wc[:, n_in:].T)
    return ir.GRU(x_k, h_k, _f32(bg[:h], bg[h:], bc), m.return_sequence)


def _conv_pads(conv: nn.Conv2d, pending: tuple[int, int, int, int]) -> ir.Pads:
    if isinstance(conv.padding, str) or conv.padding_mode != "zeros":
        raise ConversionError(f"Conv2d padding {conv.padding!r}/{conv.padding_mode}: expected integer zero pads")
    left, right, top, bottom = pending
    pt, pf = conv.padding
    return ((top + pt, bottom + pt), (left + pf, right + pf))


def torch_to_ir(model: nn.Module, input_shape: tuple[int, int], arch: str = "model") -> list[ir.Layer]:
    """The layer list of ``model`` (an nn.Sequential in eval mode) for a [T, F] input."""
    if not isinstance(model, nn.Sequential):
        raise ConversionError(f"{arch}: expected an nn.Sequential, got {type(model).__name__}")
    return _walk(model.eval(), torch.zeros(1, *input_shape), arch)


def _walk(model: nn.Sequential, x: torch.Tensor, arch: str) -> list[ir.Layer]:
    """The layer list of ``model``'s children run on the example batch ``x`` (a residual block's
    branches are walked the same way, from the block's input)."""
    children = [m for m in model.children() if not isinstance(m, (nn.Dropout, nn.Identity))]
    layers: list[ir.Layer] = []
    pending_pad = (0, 0, 0, 0)
    # the torch layout of the flattened vector the next Linear reads: (C, H, W) when it came from a conv map
    flattened_from: tuple[int, int, int] | None = None
    i = 0
    with torch.no_grad():
        while i < len(children):
            m = children[i]
            nxt = children[i + 1] if i + 1 < len(children) else None
            y = m(x)
            consumed = 1
            if isinstance(m, spaces_modules.AddChannel):
                layers.append(ir.Reshape((*x.shape[1:], 1)))
            elif isinstance(m, residual.MfccAsChannels):  # [B, F, T, 1] is [T, 1, F] channels-last
                layers.append(ir.Reshape((int(y.shape[2]), 1, int(y.shape[1]))))
            elif isinstance(m, residual.ResidualBlock):
                if not isinstance(m.body, nn.Sequential) or not isinstance(m.shortcut, (nn.Sequential, nn.Identity)):
                    raise ConversionError(f"{arch}: a ResidualBlock's branches must be nn.Sequential or nn.Identity")
                shortcut = [] if isinstance(m.shortcut, nn.Identity) else _walk(m.shortcut, x, arch)
                layers.append(ir.Residual(tuple(_walk(m.body, x, arch)), tuple(shortcut)))
            elif isinstance(m, nn.ZeroPad2d):
                pending_pad = tuple(int(p) for p in m.padding)
            elif isinstance(m, nn.Conv2d):
                w, b = _np(m.weight), (_np(m.bias) if m.bias is not None else np.zeros(m.out_channels))
                if isinstance(nxt, nn.BatchNorm2d):
                    w, b = _fold_bn(w, b, nxt)
                    y, consumed = nxt(y), 2
                relu = isinstance(children[i + consumed] if i + consumed < len(children) else None, nn.ReLU)
                if relu:
                    y, consumed = torch.relu(y), consumed + 1
                if m.dilation != (1, 1):
                    raise ConversionError(f"{arch}: Conv2d dilation {m.dilation} is not supported")
                pads = _conv_pads(m, pending_pad)
                pending_pad = (0, 0, 0, 0)
                if m.groups == 1:
                    kernel = w.transpose(2, 3, 1, 0)  # [out, in, kt, kf] → [kt, kf, in, out]
                    layers.append(ir.Conv2D(*_f32(kernel, b), tuple(m.stride), pads, relu))
                elif m.groups == m.in_channels == m.out_channels:
                    kernel = w.transpose(2, 3, 0, 1)  # [C, 1, kt, kf] → [kt, kf, C, 1]
                    layers.append(ir.DepthwiseConv2D(*_f32(kernel, b), tuple(m.stride), pads, relu))
                else:
                    raise ConversionError(f"{arch}: Conv2d with groups={m.groups} is not supported")
            elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AvgPool2d)):
                if y.shape[2:] != (1, 1):
                    raise ConversionError(f"{arch}: {type(m).__name__} must pool the whole map, got output {tuple(y.shape)}")
                layers.append(ir.GlobalAveragePool())
            elif isinstance(m, nn.Flatten):
                if x.dim() == 4 and x.shape[2:] != (1, 1):
                    flattened_from = tuple(x.shape[1:])
                    layers.append(ir.Reshape((int(y.shape[1]),)))
                elif x.dim() == 3:
                    layers.append(ir.Reshape((int(y.shape[1]),)))
                # a [B, C, 1, 1] map after the global pool is already [C] in the IR
            elif isinstance(m, spaces_modules.ConvToSequence):
                layers.append(ir.Reshape(tuple(int(d) for d in y.shape[1:])))
            elif isinstance(m, nn.Linear):
                w = _np(m.weight)
                b = _np(m.bias) if m.bias is not None else None
                if isinstance(nxt, nn.BatchNorm1d):
                    w, b = _fold_bn(w, b if b is not None else np.zeros(m.out_features), nxt)
                    y, consumed = nxt(y), 2
                relu = isinstance(children[i + consumed] if i + consumed < len(children) else None, nn.ReLU)
                if relu:
                    y, consumed = torch.relu(y), consumed + 1
                kernel = w.T  # [in, out]
                if flattened_from is not None:  # rows in torch's (C, H, W) order → TFLite's (H, W, C)
                    c, hh, ww = flattened_from
                    kernel = kernel.reshape(c, hh, ww, -1).transpose(1, 2, 0, 3).reshape(c * hh * ww, -1)
                    flattened_from = None
                layers.append(ir.Dense(kernel.astype(np.float32), None if b is None else b.astype(np.float32), relu))
            elif isinstance(m, spaces_modules.Lstm):
                layers.append(_lstm(m, int(x.shape[2])))
            elif isinstance(m, spaces_modules.Gru):
                layers.append(_gru(m, int(x.shape[2])))
            elif isinstance(m, nn.ReLU):
                raise ConversionError(f"{arch}: a ReLU must follow a Conv2d or Linear (after {type(children[i - 1]).__name__})")
            else:
                raise ConversionError(f"{arch}: module {type(m).__name__} has no int8 TFLite conversion")
            x = y
            i += consumed
    return layers
