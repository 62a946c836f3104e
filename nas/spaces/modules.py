"""Small PyTorch modules the builders need beyond torch.nn (imported only when a model is built).

The recurrent layers follow TensorFlow's LSTMCell/GRUCell exactly (one weight matrix over the
concatenated [input, state] with a single bias), because that is what Hello Edge trained and counted,
and because an explicit loop over time of plain Linear layers and elementwise ops converts to int8
TFLite by unrolling: every step is FULLY_CONNECTED + LOGISTIC/TANH + MUL/ADD.
"""
from __future__ import annotations

import torch
from torch import nn


class AddChannel(nn.Module):
    """[B, T, F] → [B, 1, T, F]: the MFCC matrix as a one-channel image (time is the height)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(1)


class ConvToSequence(nn.Module):
    """[B, C, T, F] → [B, T, F·C]: one feature vector per time step, frequency-major like TF's NHWC."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, f = x.shape
        return x.permute(0, 2, 3, 1).reshape(b, t, f * c)


class Lstm(nn.Module):
    """One LSTM layer over [B, T, F].

    Gates (TF order i, j, f, o) come from ``gates([x_t, h])``; with peepholes the cell state feeds the
    i/f gates (old c) and the o gate (new c); with a projection ``h = proj(o · tanh(c))`` (no bias).
    Returns the last h [B, H] or, with return_sequence, all of them [B, T, H].
    """

    def __init__(self, input_size: int, cells: int, projection: int | None = None,
                 peepholes: bool = False, return_sequence: bool = False) -> None:
        super().__init__()
        self.cells = cells
        self.out_size = projection or cells
        self.return_sequence = return_sequence
        self.gates = nn.Linear(input_size + self.out_size, 4 * cells)
        with torch.no_grad():  # TF's forget_bias=1.0, folded into the bias so the graph stays plain
            self.gates.bias[2 * cells:3 * cells].fill_(1.0)
        self.peepholes = nn.Parameter(torch.zeros(3, cells)) if peepholes else None
        self.projection = nn.Linear(cells, projection, bias=False) if projection else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.new_zeros(x.shape[0], self.out_size)
        c = x.new_zeros(x.shape[0], self.cells)
        outputs = []
        for t in range(x.shape[1]):
            i, j, f, o = self.gates(torch.cat([x[:, t], h], dim=1)).chunk(4, dim=1)
            if self.peepholes is not None:
                i = i + self.peepholes[0] * c
                f = f + self.peepholes[1] * c
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(j)
            if self.peepholes is not None:
                o = o + self.peepholes[2] * c
            h = torch.sigmoid(o) * torch.tanh(c)
            if self.projection is not None:
                h = self.projection(h)
            outputs.append(h)
        return torch.stack(outputs, dim=1) if self.return_sequence else h


class Gru(nn.Module):
    """One GRU layer over [B, T, F], TF GRUCell semantics.

    ``r, u = σ(gates([x_t, h]))``, ``c = tanh(candidate([x_t, r·h]))``, ``h = u·h + (1−u)·c``.
    Returns the last h [B, H] or all of them [B, T, H].
    """

    def __init__(self, input_size: int, cells: int, return_sequence: bool = False) -> None:
        super().__init__()
        self.cells = cells
        self.return_sequence = return_sequence
        self.gates = nn.Linear(input_size + cells, 2 * cells)
        self.candidate = nn.Linear(input_size + cells, cells)
        with torch.no_grad():  # TF initialises the gate bias to 1 (start by keeping the state)
            self.gates.bias.fill_(1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.new_zeros(x.shape[0], self.cells)
        outputs = []
        for t in range(x.shape[1]):
            x_t = x[:, t]
            r, u = torch.sigmoid(self.gates(torch.cat([x_t, h], dim=1))).chunk(2, dim=1)
            c = torch.tanh(self.candidate(torch.cat([x_t, r * h], dim=1)))
            h = u * h + (1 - u) * c
            outputs.append(h)
        return torch.stack(outputs, dim=1) if self.return_sequence else h


def same_pad(input_size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]) -> nn.Module:
    """TF SAME padding as an explicit ZeroPad2d (torch's padding='same' refuses strides > 1)."""
    from nas.cost.layers import same_padding

    top, bottom = same_padding(input_size[0], kernel[0], stride[0])
    left, right = same_padding(input_size[1], kernel[1], stride[1])
    return nn.ZeroPad2d((left, right, top, bottom)) if (top, bottom, left, right) != (0, 0, 0, 0) else nn.Identity()
