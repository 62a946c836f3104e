"""Effective MACs count what the cost model counts for a dense model, and only nonzero weights after."""
from __future__ import annotations

import pytest
import torch

from nas.cost import estimate
from nas.prune import masks
from nas.prune.measure import effective_macs, nonzero_params
from nas.spaces import build_model, candidate_from_model_size_info

from tests.prune.test_masks import MODELS


@pytest.mark.parametrize("arch", sorted(MODELS))
def test_dense_macs_match_the_cost_model_and_element_pruning_scales_them(arch):
    torch.manual_seed(0)
    candidate = candidate_from_model_size_info(arch, MODELS[arch])
    model = build_model(candidate).eval()
    assert effective_macs(model, candidate.input_shape) == estimate(candidate).macs
    masks.make_permanent(masks.apply_masks(model, masks.block_masks(model, 0.5, "l1", "layer", (1, 1))))
    assert 0.4 < effective_macs(model, candidate.input_shape) / estimate(candidate).macs < 0.6
    assert nonzero_params(model) < sum(p.numel() for p in model.parameters())
