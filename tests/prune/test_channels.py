"""Physical channel removal: the smaller model computes what the original computes with those channels
zeroed, its spec is the family's own, and the cost model sees the smaller model."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from nas.cost import estimate
from nas.errors import ConfigError
from nas.prune.channels import prune_channels, remove_channels, select_channels
from nas.spaces import build_model, candidate_from_model_size_info

FAMILIES = {
    "ds_cnn": [3, 8, 10, 4, 2, 2, 8, 3, 3, 1, 1, 6, 3, 3, 1, 1],
    "cnn": [6, 10, 4, 1, 1, 8, 10, 4, 2, 1, 16, 32],
    "dnn": [32, 24, 16],
    "crnn": [8, 10, 4, 2, 2, 1, 12, 16],
    # block 1: stride 1 and 8 → 8 channels (identity shortcut); 2: stride 2 (projection); 3: 12 → 12, stride 1
    "tc_resnet": [3, 8, 3, 8, 9, 1, 12, 9, 2, 12, 3, 1],
}


def _trained_looking(arch: str) -> tuple:
    torch.manual_seed(0)
    candidate = candidate_from_model_size_info(arch, FAMILIES[arch])
    model = build_model(candidate).eval()
    for m in model.modules():  # batch norm statistics as training leaves them: not the identity
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return candidate, model


def _zero_dropped(model: nn.Module, groups, kept) -> None:
    """Zero every producer slice (weights, bias, batch-norm shift and mean) of the dropped channels, so
    those channels output exactly zero."""
    state = model.state_dict()
    for group, ids in zip(groups, kept):
        dropped = torch.ones(group.size, dtype=torch.bool)
        dropped[ids] = False
        for key, dim, _ in group.members:
            if dim == 0 and not key.endswith("running_var"):
                state[key][dropped] = 0


@pytest.mark.parametrize("arch", sorted(FAMILIES))
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_removal_preserves_the_function_of_zeroed_channels(arch, scope):
    candidate, model = _trained_looking(arch)
    selection = select_channels(candidate, model, 0.5, "l1", scope)
    _zero_dropped(model, *selection[:2])
    small, smaller = remove_channels(candidate, model, *selection)
    x = torch.randn(5, *candidate.input_shape)
    with torch.no_grad():
        torch.testing.assert_close(small(x), model(x), rtol=1e-5, atol=1e-5)
    assert type(smaller.spec) is type(candidate.spec)
    assert sum(p.numel() for p in small.parameters()) == estimate(smaller).params
    assert estimate(smaller).macs < estimate(candidate).macs


@pytest.mark.parametrize("sparsity", [0.25, 0.5, 0.75])
def test_layer_scope_removes_the_requested_fraction_of_each_layer(sparsity):
    candidate, model = _trained_looking("ds_cnn")
    _, smaller = prune_channels(candidate, model, sparsity, "l2", "layer")
    for before, after in zip(candidate.spec.blocks, smaller.spec.blocks):
        assert after.filters == round((1 - sparsity) * before.filters)


def test_depthwise_keeps_its_pointwise_partners_channels():
    candidate, model = _trained_looking("ds_cnn")
    groups, kept, spec = select_channels(candidate, model, 0.5, "linf", "layer")
    small, _ = prune_channels(candidate, model, 0.5, "linf", "layer")
    depthwise = [m for m in small.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert [m.groups for m in depthwise] == [b.filters for b in spec.blocks[:-1]]
    # the kept depthwise filters are exactly the partner's kept channels
    original_dw = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.groups > 1][0]
    torch.testing.assert_close(depthwise[0].weight, original_dw.weight[kept[0]])


def test_residual_blocks_keep_their_shortcut_kind():
    candidate, model = _trained_looking("tc_resnet")
    for sparsity in (0.3, 0.5, 0.7):
        small, smaller = prune_channels(candidate, model, sparsity, "l1", "global")
        kinds = [type(b.shortcut) for b in model.modules() if hasattr(b, "shortcut")]
        assert [type(b.shortcut) for b in small.modules() if hasattr(b, "shortcut")] == kinds


@pytest.mark.parametrize("arch,msi", [("lstm", [16, 24]), ("gru", [1, 16]), ("basic_lstm", [16])])
def test_recurrent_models_refuse_channel_pruning_in_one_line(arch, msi):
    candidate = candidate_from_model_size_info(arch, msi)
    with pytest.raises(ConfigError, match=f"{arch} has no channels") as err:
        prune_channels(candidate, build_model(candidate), 0.5, "l1")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("sparsity,norm,match", [(1.0, "l1", r"\[0, 1\)"), (-0.1, "l1", r"\[0, 1\)"),
                                                 (0.5, "l3", "unknown norm 'l3'")])
def test_bad_sparsity_or_norm_is_one_clear_line(sparsity, norm, match):
    candidate, model = _trained_looking("dnn")
    with pytest.raises(ConfigError, match=match):
        prune_channels(candidate, model, sparsity, norm)
