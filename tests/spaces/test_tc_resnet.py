"""TC-ResNet (beyond Hello Edge): spec encodings, builder, search space, and bad input."""
import json

import optuna
import pytest
import torch
from torch import nn

from nas.cost import estimate
from nas.data.frontend_config import FrontEndConfig
from nas.errors import ConfigError
from nas.spaces import Candidate, build_model, candidate_from_model_size_info, get_space
from nas.spaces.residual import ResidualBlock
from nas.spaces.tc_resnet import TcBlockSpec, TcResNetSpec

optuna.logging.set_verbosity(optuna.logging.WARNING)
# Choi et al. 2019: 40 MFCCs from 30 ms windows every 10 ms; TC-ResNet8 and TC-ResNet14
PAPER_FRONTEND = FrontEndConfig(n_mfcc=40, window_ms=30.0, stride_ms=10.0)
TC_RESNET8 = [3, 16, 3, 24, 9, 2, 32, 9, 2, 48, 9, 2]
TC_RESNET14 = [6, 16, 3, 24, 9, 2, 24, 9, 1, 32, 9, 2, 32, 9, 1, 48, 9, 2, 48, 9, 1]


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def samples():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = get_space("tc_resnet")
    return [space.sample(study.ask()) for _ in range(1000)]


@pytest.mark.parametrize("msi", [TC_RESNET8, TC_RESNET14], ids=["tc_resnet8", "tc_resnet14"])
def test_spec_survives_json_and_model_size_info_round_trips(msi):
    candidate = candidate_from_model_size_info("tc_resnet", msi, PAPER_FRONTEND)
    text = json.dumps(candidate.to_dict())
    again = Candidate.from_dict(json.loads(text))
    assert again == candidate and again.to_dict() == json.loads(text)
    assert candidate.spec.to_model_size_info() == msi
    assert candidate.spec.blocks[1] == TcBlockSpec(*msi[6:9])


def test_tc_resnet8_has_the_papers_size_and_the_layouts_parameter_count():
    c = candidate_from_model_size_info("tc_resnet", TC_RESNET8, PAPER_FRONTEND)
    assert c.input_shape == (98, 40)
    model = build_model(c).eval()
    # Independent arithmetic: (k, 1) convs over C_in channels, no bias, BN scale + shift per channel;
    # strided blocks get a 1×1 projection; FC 48 → 12 with bias.
    conv = lambda k, c_in, c_out: k * c_in * c_out + 2 * c_out  # noqa: E731
    expected = (conv(3, 40, 16)
                + sum(conv(9, a, b) + conv(9, b, b) + conv(1, a, b) for a, b in ((16, 24), (24, 32), (32, 48)))
                + 48 * 12 + 12)
    assert _n_params(model) == expected == estimate(c).params
    # the paper reports 66 K parameters and 3.0 M FLOPs (multiply-adds counted as 2) for TC-ResNet8
    assert 60_000 < expected < 70_000
    assert 2.7e6 < estimate(c).ops < 3.3e6
    with torch.no_grad():
        x = torch.randn(3, 98, 40)
        logits = model(x)
        torch.testing.assert_close(logits[2:], model(x[2:]), rtol=1e-4, atol=1e-5)
    assert logits.shape == (3, 12) and torch.isfinite(logits).all()


def test_projection_only_where_the_shape_changes():
    # block 1 keeps 16 channels at stride 1 (identity), block 2 strides (projection), block 3 widens
    c = candidate_from_model_size_info("tc_resnet", [3, 16, 3, 16, 5, 1, 16, 5, 2, 24, 5, 1])
    blocks = [m for m in build_model(c) if isinstance(m, ResidualBlock)]
    assert [isinstance(b.shortcut, nn.Identity) for b in blocks] == [True, False, False]
    names = [layer.name for layer in c.spec.layers(c.input_shape)]
    assert "block1_shortcut" not in names and {"block2_shortcut", "block3_shortcut"} <= set(names)
    # SAME padding with stride 2: 49 frames → 25
    assert c.spec.layers(c.input_shape)[-2].input_shape == (25, 1, 24)


def test_a_tc_resnet8_like_point_lies_inside_the_space_and_the_space_reaches_past_it():
    space = get_space("tc_resnet")
    for msi in (TC_RESNET8, TC_RESNET14):
        assert space.contains(candidate_from_model_size_info("tc_resnet", msi, PAPER_FRONTEND))
    # on Hello Edge's 10 MFCCs at a 10 ms stride (at 20 ms the third block's 9 taps exceed its 7 steps)
    assert space.contains(candidate_from_model_size_info("tc_resnet", TC_RESNET8, FrontEndConfig(stride_ms=10.0)))
    base = space.to_params(candidate_from_model_size_info("tc_resnet", TC_RESNET8, PAPER_FRONTEND))
    wider = space.sample(optuna.trial.FixedTrial({**base, "width_multiplier": 2.0}))
    narrower = space.sample(optuna.trial.FixedTrial({**base, "width_multiplier": 0.5}))
    tc8 = estimate(candidate_from_model_size_info("tc_resnet", TC_RESNET8, PAPER_FRONTEND)).params
    assert estimate(wider).params > 3 * tc8 and estimate(narrower).params < 0.4 * tc8
    assert wider.spec.blocks[2].filters == 96 and narrower.spec.first_filters == 8
    too_wide = candidate_from_model_size_info("tc_resnet", [1, 16, 3, 1000, 9, 2], PAPER_FRONTEND)
    assert not space.contains(too_wide)


def test_1000_samples_are_valid_and_vary_depth_width_stride_and_front_end(samples):
    costs = [estimate(c) for c in samples]  # raises ConfigError on any invalid shape
    assert all(c.params > 0 and c.ops > 0 for c in costs)
    assert {len(c.spec.blocks) for c in samples} == set(range(1, 9))
    assert {b.stride_t for c in samples for b in c.spec.blocks} == {1, 2}
    frontends = {(c.frontend.n_mfcc, c.frontend.window_ms, c.frontend.stride_ms) for c in samples}
    assert len(frontends) > 50 and (40, 30.0, 10.0) in frontends
    assert min(c.params for c in costs) < 5_000 and max(c.params for c in costs) > 500_000


def test_a_sample_of_the_1000_builds_and_forwards(samples):
    ranked = sorted(samples, key=lambda c: estimate(c).params)
    deepest = max(samples, key=lambda c: (len(c.spec.blocks), -c.input_shape[0]))
    for candidate in (ranked[0], ranked[len(ranked) // 3], ranked[2 * len(ranked) // 3], ranked[-1], deepest):
        model = build_model(candidate).eval()
        with torch.no_grad():
            out = model(torch.randn(2, *candidate.input_shape))
        assert out.shape == (2, 12) and torch.isfinite(out).all()
        assert _n_params(model) == estimate(candidate).params


def test_models_train_one_step_through_both_branches():
    c = candidate_from_model_size_info("tc_resnet", [1, 8, 3, 12, 3, 2])
    model = build_model(c)
    block = next(m for m in model if isinstance(m, ResidualBlock))
    before = [block.body[1].weight.detach().clone(), block.shortcut[0].weight.detach().clone()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, *c.input_shape), torch.randint(0, 12, (8,))
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    assert not torch.equal(before[0], block.body[1].weight) and not torch.equal(before[1], block.shortcut[0].weight)


def test_search_space_is_a_hydra_config():
    assert type(get_space("tc_resnet")).__module__ == "nas.spaces.tc_resnet"


@pytest.mark.parametrize("msi, message", [
    ([3, 16, 3, 24, 9, 2], r"tc_resnet: model_size_info needs 12 numbers \(n, first_filters"),
    ([0, 16, 3], r"must start with a positive block count n"),
    ([], r"must start with a positive block count n"),
    ([1, 16, 3, -24, 9, 2], r"tc_resnet spec: block1.filters must be a positive integer, got -24"),
    ([1, 0, 3, 24, 9, 2], r"tc_resnet spec: first_filters must be a positive integer, got 0"),
    ([1, 16, 3, 24, 9, 0], r"tc_resnet spec: block1.stride_t must be a positive integer"),
    ([1, 16, 60, 24, 9, 2], r"tc_resnet spec: conv1: kernel_t 60 is larger than its input \(49\)"),
    # 49 frames → 13 after two stride-2 blocks: a 15-tap kernel no longer fits
    ([2, 16, 3, 24, 9, 2, 24, 15, 2], r"block2_conv1: kernel_t 15 is larger than its input \(25\)|"
                                      r"block2_conv2: kernel_t 15 is larger than its input \(13\)"),
])
def test_bad_model_size_info_is_one_config_error_naming_the_field(msi, message):
    with pytest.raises(ConfigError, match=message):
        candidate_from_model_size_info("tc_resnet", msi)


def test_bad_spec_json_is_one_config_error():
    good = TcResNetSpec.from_model_size_info(TC_RESNET8).to_dict()
    with pytest.raises(ConfigError, match=r"unknown keys \['width'\], missing keys \['blocks'\]"):
        TcResNetSpec.from_dict({**{k: v for k, v in good.items() if k != "blocks"}, "width": 2})
    with pytest.raises(ConfigError, match=r"block2 must be an object with keys \['filters', 'kernel_t', 'stride_t'\]"):
        TcResNetSpec.from_dict({**good, "blocks": [good["blocks"][0], {"filters": 3}]})
    with pytest.raises(ConfigError, match="blocks must be a non-empty list"):
        TcResNetSpec(16, 3, ())


def test_bad_space_yaml_is_one_config_error(tmp_path):
    text = (get_space.__globals__["SEARCH_SPACES_DIR"] / "tc_resnet.yaml").read_text()
    (tmp_path / "tc_resnet.yaml").write_text(text.replace("width_multiplier: [0.5,", "width_multiplier: [-1,"))
    with pytest.raises(ConfigError, match=r"tc_resnet.yaml: .*tc_resnet.width_multiplier must hold positive numbers"):
        get_space("tc_resnet", tmp_path)
    (tmp_path / "tc_resnet.yaml").write_text(text.replace("n_blocks: {low: 1,", "n_blocks: {low: 0,"))
    with pytest.raises(ConfigError, match=r"tc_resnet.n_blocks needs integers 1 <= low <= high"):
        get_space("tc_resnet", tmp_path)
