"""Independent counts for the cost-model tests: torch's parameters, thop's MACs, forward-hook shapes."""
from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import thop
import torch
from thop.vision.basic_hooks import zero_ops
from torch import nn

from nas.cost import estimate
from nas.spaces import build_model

# Hello Edge convention: batch norm and pooling cost no ops (thop would count them)
HELLO_EDGE_THOP_RULES = {nn.BatchNorm1d: zero_ops, nn.BatchNorm2d: zero_ops, nn.AvgPool2d: zero_ops}


def thop_macs(model: nn.Module, input_shape) -> int:
    # thop leaves total_ops/total_params buffers behind: profile a copy
    macs, _ = thop.profile(copy.deepcopy(model).eval(), inputs=(torch.randn(1, *input_shape),),
                           custom_ops=HELLO_EDGE_THOP_RULES, verbose=False)
    return int(macs)


def check_against_torch(candidate, layer_modules: Callable[[nn.Module], Iterable[nn.Module]]):
    """Asserts the cost model's params, MACs and per-layer output shapes equal torch's and thop's.

    ``layer_modules(model)`` names the modules that are one cost-model layer each, in forward order.
    """
    cost = estimate(candidate)
    model = build_model(candidate).eval()
    n_params = sum(p.numel() for p in model.parameters())
    bn_scales = sum(m.weight.numel() for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)))
    assert cost.params == n_params
    assert cost.params_deployed == n_params - bn_scales  # BN scale folds into the weights, its shift into the bias
    assert cost.macs == thop_macs(model, candidate.input_shape)
    assert cost.ops == 2 * cost.macs

    shapes = []  # per clip, channels last like the cost model
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
             for m in layer_modules(model)]
    with torch.no_grad():
        model(torch.randn(1, *candidate.input_shape))
    for h in hooks:
        h.remove()
    nhwc = [s[1:] + s[:1] if len(s) == 3 else s for s in shapes]
    assert nhwc == [tuple(layer["output_shape"]) for layer in cost.layers]
    return cost
