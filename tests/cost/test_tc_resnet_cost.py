"""TC-ResNet's costs against torch, thop and hand counts, including the residual tensor's lifetime."""
import json

import optuna
from torch import nn

from nas.cli import main
from nas.cost import estimate
from nas.data.frontend_config import FrontEndConfig
from nas.spaces import build_model, candidate_from_model_size_info, get_space
from nas.spaces.residual import ResidualBlock
from tests.cost.torch_reference import check_against_torch

PAPER_FRONTEND = FrontEndConfig(n_mfcc=40, window_ms=30.0, stride_ms=10.0)
TC_RESNET8 = [3, 16, 3, 24, 9, 2, 32, 9, 2, 48, 9, 2]


def _check_against_torch(candidate):
    # a ResidualBlock's output is its add's; the adds are free, as in Hello Edge
    return check_against_torch(candidate, lambda model: [
        m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.AvgPool2d, ResidualBlock))])


def test_tc_resnet8_matches_torch_and_thop():
    cost = _check_against_torch(candidate_from_model_size_info("tc_resnet", TC_RESNET8, PAPER_FRONTEND))
    assert [row["kind"] for row in cost.layers].count("add") == 3


def test_sampled_candidates_match_torch_and_thop():
    space = get_space("tc_resnet")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    samples = [space.sample(study.ask()) for _ in range(40)]
    for candidate in sorted(samples, key=lambda c: estimate(c).macs)[:4]:
        _check_against_torch(candidate)


def test_identity_skip_keeps_the_block_input_alive_in_both_conventions():
    # conv1 writes X (49×1×16); the block's convs write A and B, the add reads B and X and writes Y.
    # While the second conv runs X, A and B are all alive, so the arena needs three 784-byte maps
    # (a plain chain would need two), and Hello Edge's largest live set is the same three.
    c = candidate_from_model_size_info("tc_resnet", [1, 16, 3, 16, 3, 1])
    cost = estimate(c)
    x = 49 * 16
    assert cost.arena_bytes == 3 * x
    weights = (3 * 10 * 16 + 16) + 2 * (3 * 16 * 16 + 16) + (16 * 12 + 12)
    assert cost.params_deployed == weights
    assert cost.memory_hello_edge_bytes == weights + 3 * x


def test_projection_shortcut_reads_the_block_input_not_the_body():
    # stride 2: X (49×1×8) feeds the body (→ A, B: 25×1×12) and the 1×1 projection (→ S: 25×1×12);
    # while the projection runs, X, B and S are alive.
    c = candidate_from_model_size_info("tc_resnet", [1, 8, 3, 12, 3, 2])
    cost = estimate(c)
    rows = {row["name"]: row for row in cost.layers}
    x, y = 49 * 8, 25 * 12
    assert rows["block1_shortcut"]["input_shape"] == [49, 1, 8]
    assert rows["block1_shortcut"]["activations_hello_edge"] == x + 2 * y
    assert rows["block1_conv2"]["activations_hello_edge"] == 2 * y + x
    # X, B and S at once (992 B) is more than any adjacent pair of a chain (input 490 + X 392); the
    # greedy planner may fragment, so this is a lower bound
    assert cost.arena_bytes >= x + 2 * y > 490 + x


def test_cost_cli_prints_tc_resnet_json(capsys):
    args = ["cost", "tc_resnet", "--model-size-info", *map(str, TC_RESNET8),
            "--dct", "40", "--window-ms", "30", "--stride-ms", "10", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    model = build_model(candidate_from_model_size_info("tc_resnet", TC_RESNET8, PAPER_FRONTEND))
    assert out["params"] == sum(p.numel() for p in model.parameters())
    assert out["ops"] == 2 * out["macs"] and len(out["layers"]) == 1 + 3 * 4 + 2


def test_cost_cli_bad_tc_resnet_input_is_one_error(capsys):
    assert main(["cost", "tc_resnet", "--model-size-info", "2", "16", "3", "24", "9", "2"]) != 0
    err = capsys.readouterr().err
    assert "kws-nas cost: error: tc_resnet: model_size_info needs 9 numbers" in err and "Traceback" not in err


def test_tc_resnet8_fits_hello_edges_small_class_and_its_wider_version_does_not():
    from nas.cost.budget import load_budget

    small = load_budget("small")  # 80 KB, 6 MOps
    tc8 = candidate_from_model_size_info("tc_resnet", TC_RESNET8, PAPER_FRONTEND)
    assert small.feasible(estimate(tc8))
    wide = candidate_from_model_size_info("tc_resnet", [3, 32, 3, 48, 9, 2, 64, 9, 2, 96, 9, 2], PAPER_FRONTEND)
    assert small.constraints(estimate(wide))["memory"] > 0
