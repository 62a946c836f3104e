"""How much faster the board's sparse int8 kernels run the pruned model's own layers, against sparsity.

`kws-nas prune` measures its model's largest standard conv (depthwise convs have no sparse kernel)
and its largest fully connected layer: their trained weights, quantized to int8 per output channel,
are pruned element-wise, in 1×4 blocks and N:M at each of ``SPARSITIES`` and run in both loop orders
next to the dense DSP kernel on the emulated board (`nas.firmware.bench.sparse_speedup`). The
break-even sparsity of each (layer, granularity, loop order) is where the speed-up crosses 1.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import torch
from torch import nn

from nas.firmware.bench.sparse_speedup import SPARSITIES, Layer, break_even, measure

TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm", "make")


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _int8_rows(weight: torch.Tensor) -> np.ndarray:
    """Symmetric int8 per output channel, as the converter quantizes filters."""
    rows = weight.detach().reshape(weight.shape[0], -1).double()
    scale = rows.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / 127
    return torch.round(rows / scale).clamp(-127, 127).to(torch.int8).numpy()


@torch.inference_mode()
def model_layers(model: nn.Module, input_shape: tuple[int, int]) -> dict[str, Layer]:
    """The largest (by MACs) standard Conv2d and the largest Linear of the model, as kernel layers with
    their own weights; a name says the shapes. Convs run unpadded: the models pad with ZeroPad2d."""
    found: list[tuple[int, str, Layer]] = []

    def record(module, inputs, output):
        x = inputs[0]
        if isinstance(module, nn.Conv2d):
            oc, ic, kh, kw = module.weight.shape
            weights = _int8_rows(module.weight.permute(0, 2, 3, 1)).reshape(oc, kh, kw, ic)
            layer = Layer("conv", (1, x.shape[2], x.shape[3], ic), (oc, kh, kw, ic),
                          (1, output.shape[2], output.shape[3], oc), tuple(module.stride), (0, 0), weights)
            name = f"conv {ic}→{oc} {kh}×{kw} on {output.shape[2]}×{output.shape[3]}"
        else:
            layer = Layer("fc", (1, module.in_features), (module.out_features, module.in_features),
                          (1, module.out_features), weights=_int8_rows(module.weight))
            name = f"fc {module.in_features}→{module.out_features}"
        found.append((layer.macs, name, layer))

    eligible = [m for m in model.modules()
                if isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1 and m.dilation == (1, 1))]
    hooks = [m.register_forward_hook(record) for m in eligible]
    was_training = model.training
    try:
        model.eval()(torch.zeros(1, *input_shape))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    layers = {}
    for op in ("conv", "fc"):
        of_op = [f for f in found if f[2].op == op]
        if of_op:
            _, name, layer = max(of_op, key=lambda f: f[0])
            layers[name] = layer
    return layers


def kernel_speed_up(model: nn.Module, input_shape: tuple[int, int], board: str) -> pd.DataFrame:
    """kernels.csv: one row per (layer, granularity, sparsity, loop order), plus its curve's
    ``break_even``. Empty when the model has no conv or fully connected layer."""
    layers = model_layers(model, input_shape)
    table = pd.DataFrame(measure(layers, board, SPARSITIES) if layers else [])
    if table.empty:
        return table
    if not table["bit_identical"].all():
        raise RuntimeError("sparse kernels: an output differs from the dense reference kernel's")
    curves = table.groupby(["layer", "granularity", "order"], sort=False)
    table["break_even"] = np.nan
    for _, curve in curves:
        table.loc[curve.index, "break_even"] = break_even(zip(curve["sparsity"], curve["speed_up"]))
    return table


def break_even_lines(table: pd.DataFrame) -> list[str]:
    """One line per layer and granularity: the break-even sparsity of each loop order."""
    lines = []
    lowest = min(SPARSITIES)
    for (layer, granularity), rows in table.groupby(["layer", "granularity"], sort=False):
        parts = []
        for order, curve in rows.groupby("order", sort=False):
            value = curve["break_even"].iloc[0]
            text = ("never faster" if np.isnan(value) else
                    f"faster from <= {value:.2f}" if value <= lowest else f"break-even {value:.2f}")
            sparsest = curve.loc[curve["sparsity"].idxmax()]
            parts.append(f"{order} {text} ({sparsest['speed_up']:.2f}x at {sparsest['sparsity']:.2f})")
        lines.append(f"{layer}, {granularity}: " + "; ".join(parts))
    return lines
