"""The YAML search spaces: they load, contain Hello Edge's best models, reach past them, sample valid models."""
import math

import optuna
import pytest
import torch

from nas.cost import estimate
from nas.errors import ConfigError
from nas.spaces import arch_names, build_model, get_space, hello_edge_candidates

optuna.logging.set_verbosity(optuna.logging.WARNING)
# the Hello Edge spaces; tests/spaces/test_tc_resnet.py covers the one beyond them
ARCHS = [arch for arch in arch_names() if hello_edge_candidates(arch)]


def _samples(space, n, seed=0):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    return [space.sample(study.ask()) for _ in range(n)]


@pytest.fixture(scope="module")
def samples():
    """1,000 random candidates per space (about a second each)."""
    return {arch: _samples(get_space(arch), 1000) for arch in ARCHS}


@pytest.mark.parametrize("arch", ARCHS)
def test_every_hello_edge_best_model_lies_inside_its_space(arch):
    space = get_space(arch)
    points = hello_edge_candidates(arch)
    assert len(points) == 3
    for published, candidate in points:
        assert space.contains(candidate), f"{arch} {published.budget} is outside search_spaces/{arch}.yaml"
    assert len([space.to_params(c) for _, c in points if space.contains(c)]) == 3


def test_contains_rejects_points_outside_the_ranges():
    from nas.data.frontend_config import FrontEndConfig
    from nas.spaces import candidate_from_model_size_info

    dnn = get_space("dnn")
    assert dnn.contains(candidate_from_model_size_info("dnn", [64, 64]))
    assert not dnn.contains(candidate_from_model_size_info("dnn", [64, 2000]))  # width above 1024
    assert not dnn.contains(candidate_from_model_size_info("dnn", [64] * 7))  # 7 layers, at most 6
    assert not dnn.contains(candidate_from_model_size_info("dnn", [64], FrontEndConfig(n_mfcc=11)))
    assert not dnn.contains(candidate_from_model_size_info("gru", [1, 64]))
    lstm = get_space("lstm")
    assert not lstm.contains(candidate_from_model_size_info("lstm", [200, 100]))  # projection > cells


@pytest.mark.parametrize("arch", ARCHS)
def test_enqueued_hello_edge_points_replay_exactly_in_a_real_study(arch):
    space = get_space(arch)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    for _, candidate in hello_edge_candidates(arch):
        study.enqueue_trial(space.to_params(candidate))
    replayed = [space.sample(study.ask()) for _ in range(3)]
    assert replayed == [c for _, c in hello_edge_candidates(arch)]


SIZE_SUFFIXES = ("filters", "width", "cells", "fc", "linear", "projection")


def _scaled(space, candidate, factor):
    """``candidate`` with every width-like parameter multiplied by ``factor`` (through a FixedTrial)."""
    params = space.to_params(candidate)
    params = {k: max(1, round(v * factor)) if k.endswith(SIZE_SUFFIXES) else v for k, v in params.items()}
    return space.sample(optuna.trial.FixedTrial(params))


@pytest.mark.parametrize("arch", ARCHS)
def test_space_reaches_past_hello_edge_both_ways(arch):
    space = get_space(arch)
    he = [c for _, c in hello_edge_candidates(arch)]
    wider, narrower = _scaled(space, he[-1], 2.0), _scaled(space, he[0], 0.5)
    assert space.contains(wider) and space.contains(narrower)
    assert estimate(wider).params > 2.5 * estimate(he[-1]).params
    assert estimate(narrower).params < 0.5 * estimate(he[0]).params


@pytest.mark.parametrize("arch", ARCHS)
def test_1000_samples_are_valid_and_vary_the_front_end(arch, samples):
    costs = [estimate(c) for c in samples[arch]]  # raises ConfigError on any invalid shape
    assert all(c.params > 0 and c.ops > 0 for c in costs)
    frontends = {(c.frontend.n_mfcc, c.frontend.window_ms, c.frontend.stride_ms) for c in samples[arch]}
    assert len(frontends) > 20
    assert (10, 40.0, 20.0) in frontends and (10, 40.0, 40.0) in frontends


@pytest.mark.parametrize("arch", ["dnn", "gru", "crnn", "ds_cnn"])
def test_depth_varies_both_ways(arch, samples):
    depth = {"dnn": lambda s: len(s.widths), "gru": lambda s: s.num_layers,
             "crnn": lambda s: s.gru_layers, "ds_cnn": lambda s: len(s.blocks)}[arch]
    he = [depth(c.spec) for _, c in hello_edge_candidates(arch)]
    seen = {depth(c.spec) for c in samples[arch]}
    assert max(seen) > max(he)
    assert min(seen) < min(he) or min(seen) == 1  # Hello Edge's GRUs already have one layer


@pytest.mark.parametrize("arch", ARCHS)
def test_a_sample_of_the_1000_builds_and_forwards(arch, samples):
    # the smallest, the largest and two in between by parameter count: the extremes break first
    ranked = sorted(samples[arch], key=lambda c: estimate(c).params)
    for candidate in (ranked[0], ranked[len(ranked) // 3], ranked[2 * len(ranked) // 3], ranked[-1]):
        model = build_model(candidate).eval()
        with torch.no_grad():
            out = model(torch.randn(2, *candidate.input_shape))
        assert out.shape == (2, 12) and torch.isfinite(out).all()
        assert sum(p.numel() for p in model.parameters()) == estimate(candidate).params


def test_kernels_are_capped_by_the_input_they_slide_over(samples):
    # tiny inputs (6 MFCCs, 5 frames) still give valid convs: every kernel fits its map
    for arch in ("cnn", "crnn", "ds_cnn"):
        for c in samples[arch]:
            for layer in c.spec.layers(c.input_shape):
                if layer.kind in ("conv2d", "depthwise_conv2d"):
                    assert math.prod(layer.output_shape) > 0
    assert any(c.frontend.n_mfcc == 6 for c in samples["cnn"])


def test_search_spaces_are_hydra_configs_with_a_target():
    for arch in ARCHS:
        assert type(get_space(arch)).__module__ == f"nas.spaces.{arch}"


def test_unknown_space_and_bad_ranges_are_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown search space 'rnn'.*ds_cnn"):
        get_space("rnn")
    (tmp_path / "gru.yaml").write_text(
        "_target_: nas.spaces.gru.GruSpace\n"
        "frontend: {n_mfcc: [10], window_ms: [40.0], stride_ms: [20.0]}\n"
        "layers: {low: 0, high: 3}\ncells: {low: 16, high: 64}\n")
    with pytest.raises(ConfigError, match=r"gru.yaml: .*gru.layers needs integers 1 <= low <= high"):
        get_space("gru", tmp_path)
    (tmp_path / "dnn.yaml").write_text(
        "_target_: nas.spaces.dnn.DnnSpace\n"
        "frontend: {n_mfcc: [10], window_ms: [40.0]}\n"
        "n_layers: {low: 1, high: 3}\nwidth: {low: 16, high: 64}\n")
    with pytest.raises(ConfigError, match=r"dnn.frontend.stride_ms must be a non-empty list"):
        get_space("dnn", tmp_path)


def test_frontend_decimation_is_one_value_for_every_candidate(tmp_path):
    (tmp_path / "dnn.yaml").write_text(
        "_target_: nas.spaces.dnn.DnnSpace\n"
        "frontend: {n_mfcc: [10, 13], window_ms: [30.0, 40.0], stride_ms: [20.0], decimation: 2}\n"
        "n_layers: {low: 1, high: 3}\nwidth: {low: 16, high: 64}\n")
    space = get_space("dnn", tmp_path)
    candidates = _samples(space, 20)
    assert {c.frontend.decimation for c in candidates} == {2}
    assert {c.frontend.n_mfcc for c in candidates} == {10, 13}  # the searched keys still vary
    assert space.smallest_input().decimation == 2
    assert get_space("dnn").decimation == 1  # the shipped spaces keep the default front end
    (tmp_path / "dnn.yaml").write_text((tmp_path / "dnn.yaml").read_text().replace("decimation: 2", "decimation: [1, 2]"))
    with pytest.raises(ConfigError, match=r"dnn: frontend.decimation must be 1 or 2 \(one value, not a list"):
        get_space("dnn", tmp_path)
