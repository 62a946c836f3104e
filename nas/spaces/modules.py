"""Small PyTorch modules the builders need beyond torch.nn (imported only when a model is built).

The recurrent layers follow TensorFlow's LSTMCell/GRUCell exactly (one weight matrix over the
concatenated [input, state] with a single bias), because that is what Hello Edge trained and counted,
and because a loop over time of plain Linear layers and elementwise ops converts to int8 TFLite by
unrolling: every step is FULLY_CONNECTED + LOGISTIC/TANH + MUL/ADD (nas.export.from_torch reads these
parameters). Their forward passes compute the same function faster (tests/spaces/test_modules.py):
an LSTM without peepholes runs torch's fused LSTM kernel (oneDNN / cuDNN) on its reordered weights; the
GRU (TF's reset gate multiplies the state before the matmul, which torch.nn.GRU does not) projects the
whole input sequence in one matmul and loops only over the recurrent part. The peephole LSTM has no
fused kernel and runs ``step_by_step``.
"""
from __future__ import annotations

import torch
import torch.nn.utils.prune  # noqa: F401  (nn.utils.prune.is_pruned)
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
        if self.peepholes is not None or not fast_path(self):
            # no fused kernel has peepholes, and with a 10-wide input hoisting its matmul saves nothing
            # (measured 0.8x: benchmarks/bench_recipe.py): one step at a time
            return step_by_step(self, x)
        return self._fused(x)

    def _fused(self, x: torch.Tensor) -> torch.Tensor:
        """torch's LSTM kernel: TF's gate order i, j, f, o is torch's i, g, f, o with g and f swapped;
        TF's one bias becomes torch's input bias (its state bias is zero)."""
        h_size, n_in = self.cells, x.shape[2]
        order = torch.cat([torch.arange(0, h_size), torch.arange(2 * h_size, 3 * h_size),
                           torch.arange(h_size, 2 * h_size), torch.arange(3 * h_size, 4 * h_size)]).to(x.device)
        w, b = self.gates.weight[order], self.gates.bias[order]
        params = [w[:, :n_in], w[:, n_in:], b, torch.zeros_like(b)]
        if self.projection is not None:
            params.append(self.projection.weight)
        x = x.float()
        state = (x.new_zeros(1, x.shape[0], self.out_size), x.new_zeros(1, x.shape[0], h_size))
        # float32 under any autocast: not every cuDNN / oneDNN build has a bfloat16 LSTM, and its state is small
        with torch.autocast(x.device.type, enabled=False):
            out, h, _ = torch.lstm(x, state, params, True, 1, 0.0, self.training, False, True)
        return out if self.return_sequence else h[0]


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
        if not fast_path(self):
            return step_by_step(self, x)
        n_in = x.shape[2]
        # every step's input part of both matmuls at once: [B, T, 3H]; the loop keeps the state's part
        x_part = nn.functional.linear(x, torch.cat([self.gates.weight[:, :n_in], self.candidate.weight[:, :n_in]]),
                                      torch.cat([self.gates.bias, self.candidate.bias]))
        # contiguous once: a strided view would be copied by every step's matmul
        w_gates = self.gates.weight[:, n_in:].contiguous()
        w_candidate = self.candidate.weight[:, n_in:].contiguous()
        h = x.new_zeros(x.shape[0], self.cells)
        outputs = []
        for x_t in x_part.unbind(1):  # unbind: one backward op for all steps (x[:, t] costs one each)
            x_gates, x_candidate = x_t.split([2 * self.cells, self.cells], dim=1)
            r, u = torch.sigmoid(x_gates + nn.functional.linear(h, w_gates)).chunk(2, dim=1)
            c = torch.tanh(x_candidate + nn.functional.linear(r * h, w_candidate))
            h = u * h + (1 - u) * c
            outputs.append(h)
        return torch.stack(outputs, dim=1) if self.return_sequence else h


def fast_path(m: Lstm | Gru) -> bool:
    """Whether ``m`` may compute its forward pass without calling its Linear layers: only in training and
    when none is pruned. In eval mode (validation, int8 calibration, MAC counting by hooks) each step
    calls them, as the definition does; a pruning mask is applied by a hook on that call."""
    return m.training and not nn.utils.prune.is_pruned(m)


def step_by_step(m: Lstm | Gru, x: torch.Tensor) -> torch.Tensor:
    """``m``'s output computed one time step at a time with Linear over the concatenated [x_t, h]: the
    definition the int8 export unrolls. The modules' own forward passes must equal it (tests); the
    training benchmark times both (benchmarks/bench_train.py)."""
    width = m.out_size if isinstance(m, Lstm) else m.cells
    h, outputs = x.new_zeros(x.shape[0], width), []
    c = x.new_zeros(x.shape[0], m.cells)
    for t in range(x.shape[1]):
        if isinstance(m, Gru):
            r, u = torch.sigmoid(m.gates(torch.cat([x[:, t], h], dim=1))).chunk(2, dim=1)
            h = u * h + (1 - u) * torch.tanh(m.candidate(torch.cat([x[:, t], r * h], dim=1)))
        else:
            i, j, f, o = m.gates(torch.cat([x[:, t], h], dim=1)).chunk(4, dim=1)
            if m.peepholes is not None:
                i, f = i + m.peepholes[0] * c, f + m.peepholes[1] * c
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(j)
            if m.peepholes is not None:
                o = o + m.peepholes[2] * c
            h = torch.sigmoid(o) * torch.tanh(c)
            h = m.projection(h) if m.projection is not None else h
        outputs.append(h)
    return torch.stack(outputs, dim=1) if m.return_sequence else h


def same_pad(input_size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int]) -> nn.Module:
    """TF SAME padding as an explicit ZeroPad2d (torch's padding='same' refuses strides > 1)."""
    from nas.cost.layers import same_padding

    top, bottom = same_padding(input_size[0], kernel[0], stride[0])
    left, right = same_padding(input_size[1], kernel[1], stride[1])
    return nn.ZeroPad2d((left, right, top, bottom)) if (top, bottom, left, right) != (0, 0, 0, 0) else nn.Identity()
