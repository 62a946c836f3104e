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


def test_distillation_moves_the_student_towards_the_teacher_and_leaves_the_teacher(tiny_dataset_dir):
    import copy

    from nas.data.cache import load_features
    from nas.prune.measure import finetune

    candidate = candidate_from_model_size_info("ds_cnn", MODELS["ds_cnn"])
    train_set = load_features(tiny_dataset_dir, candidate.frontend, "train", progress=False)
    torch.manual_seed(0)
    teacher, student = build_model(candidate).eval(), build_model(candidate).eval()
    frozen = copy.deepcopy(teacher.state_dict())

    def divergence() -> float:
        with torch.no_grad():
            t = torch.log_softmax(teacher(train_set.features), dim=1)
            s = torch.log_softmax(student(train_set.features), dim=1)
        return float(torch.nn.functional.kl_div(s, t, reduction="batchmean", log_target=True))

    before = divergence()
    finetune(student, train_set, steps=30, lr=1e-2, teacher=teacher, temperature=1.0, alpha=1.0)
    assert divergence() < 0.5 * before
    assert all(torch.equal(v, teacher.state_dict()[k]) for k, v in frozen.items())
