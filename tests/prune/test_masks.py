"""Unstructured masks: the pruned fraction per granularity, the block and N:M shapes along the kernel's
inner loop, every architecture's weights, and fine-tuning that never re-grows a pruned weight."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from nas.errors import ConfigError
from nas.prune import masks
from nas.prune.measure import finetune
from nas.spaces import build_model, candidate_from_model_size_info

MODELS = {
    "ds_cnn": [2, 8, 10, 4, 2, 2, 8, 3, 3, 1, 1], "cnn": [6, 10, 4, 1, 1, 8, 10, 4, 2, 1, 16, 32],
    "dnn": [32, 24], "crnn": [8, 10, 4, 2, 2, 1, 12, 16], "tc_resnet": [1, 8, 3, 8, 9, 2],
    "lstm": [12, 16], "gru": [1, 16], "basic_lstm": [16],
}


def _model(arch: str) -> nn.Module:
    torch.manual_seed(0)
    return build_model(candidate_from_model_size_info(arch, MODELS[arch]))


def _pruned_fraction(found: dict[str, torch.Tensor]) -> float:
    return sum(int((m == 0).sum()) for m in found.values()) / sum(m.numel() for m in found.values())


@pytest.mark.parametrize("arch", sorted(MODELS))
@pytest.mark.parametrize("sparsity", [0.3, 0.7, 0.95])
def test_element_masks_prune_the_requested_fraction_of_every_architecture(arch, sparsity):
    model = _model(arch)
    found = masks.block_masks(model, sparsity, "l1", "global", (1, 1))
    assert set(found) == set(masks.prunable(model))
    assert _pruned_fraction(found) == pytest.approx(sparsity, abs=1e-3)
    masks.make_permanent(masks.apply_masks(model, found))
    assert masks.weight_sparsity(model) == pytest.approx(sparsity, abs=1e-3)


@pytest.mark.parametrize("block", [(1, 4), (4, 1)])
@pytest.mark.parametrize("scope", ["layer", "global"])
def test_block_masks_drop_whole_blocks_along_the_inner_loop(block, scope):
    model = _model("cnn")  # conv inner loop (HWI) 10·4·6 = 240 and linear inputs divide by 4
    found = masks.block_masks(model, 0.5, "l2", scope, block)
    assert _pruned_fraction(found) == pytest.approx(0.5, abs=0.02)
    for name, module in masks.prunable(model).items():
        matrix = masks.as_matrix(module, found[name])
        if matrix.shape[0] % block[0] or matrix.shape[1] % block[1]:
            continue
        tiles = matrix.reshape(matrix.shape[0] // block[0], block[0], matrix.shape[1] // block[1], block[1])
        # every block is all kept or all pruned
        assert ((tiles.amin((1, 3)) == tiles.amax((1, 3)))).all(), name


def test_layer_scope_prunes_each_layer_alike():
    model = _model("dnn")
    found = masks.block_masks(model, 0.7, "l1", "layer", (1, 1))
    for mask in found.values():
        assert float((mask == 0).float().mean()) == pytest.approx(0.7, abs=1 / mask.numel())


@pytest.mark.parametrize("n,m", [(2, 4), (1, 4), (1, 8)])
def test_nm_keeps_n_of_every_m_along_the_inner_loop(n, m):
    model = _model("dnn")  # 49 × 10 = 490 inputs: a ragged last group
    found = masks.nm_masks(model, n, m, "l1")
    matrix = found["1"]  # the first Linear: [32, 490]
    whole = matrix[:, : matrix.shape[1] // m * m].reshape(matrix.shape[0], -1, m)
    assert (whole.sum(-1) == n).all()
    assert _pruned_fraction(found) == pytest.approx(1 - n / m, abs=0.02)


def test_norms_rank_blocks_differently():
    model = _model("dnn")
    chosen = {norm: masks.block_masks(model, 0.5, norm, "layer", (1, 4))["1"] for norm in masks.NORMS}
    assert not torch.equal(chosen["l1"], chosen["linf"])


def test_finetuning_never_regrows_pruned_weights(tiny_dataset_dir):
    from nas.data.cache import load_features

    candidate = candidate_from_model_size_info("ds_cnn", MODELS["ds_cnn"])
    train_set = load_features(tiny_dataset_dir, candidate.frontend, "train", progress=False)
    model = _model("ds_cnn")
    found = masks.block_masks(model, 0.6, "l1", "global", (1, 1))
    before = copy.deepcopy(model.state_dict())
    finetune(masks.apply_masks(model, found), train_set, steps=5, lr=1e-2)
    masks.make_permanent(model)
    for name, module in masks.prunable(model).items():
        assert (module.weight[found[name] == 0] == 0).all(), name
        kept = found[name] == 1
        assert not torch.equal(module.weight[kept], before[f"{name}.weight"][kept]), f"{name} did not train"


@pytest.mark.parametrize("kwargs,message", [
    ({"sparsity": 1.0}, r"must lie in \[0, 1\)"), ({"sparsity": -0.2}, r"must lie in \[0, 1\)"),
    ({"norm": "l0"}, "unknown norm 'l0'"), ({"scope": "model"}, "--scope"),
])
def test_bad_input_is_one_clear_line(kwargs, message):
    args = {"sparsity": 0.5, "norm": "l1", "scope": "layer", "block": (1, 1), **kwargs}
    with pytest.raises(ConfigError, match=message) as err:
        masks.block_masks(_model("dnn"), **args)
    assert "\n" not in str(err.value)
