"""The cost model against independent counts: torch's parameters, thop's MACs, forward-hook shapes."""
import csv
from pathlib import Path

import optuna
import pytest
from torch import nn

from nas.cost import estimate
from nas.spaces import HELLO_EDGE_BEST, get_space
from nas.spaces.modules import Gru, Lstm
from tests.cost.torch_reference import check_against_torch

REPO = Path(__file__).resolve().parents[2]
IDS = [f"{m.arch}-{m.budget}" for m in HELLO_EDGE_BEST]
# The modules that are one cost-model layer each, in order
LAYER_MODULES = (nn.Conv2d, nn.Linear, Lstm, Gru, nn.AvgPool2d)


def _check_against_torch(candidate):
    return check_against_torch(candidate, hello_edge_layers)


def hello_edge_layers(model: nn.Module) -> list[nn.Module]:
    inside_rnn = {id(c) for m in model.modules() if isinstance(m, (Lstm, Gru)) for c in m.modules() if c is not m}
    return [m for m in model.modules() if isinstance(m, LAYER_MODULES) and id(m) not in inside_rnn]


@pytest.mark.parametrize("published", HELLO_EDGE_BEST, ids=IDS)
def test_hello_edge_models_match_torch_and_thop(published):
    _check_against_torch(published.candidate())


@pytest.mark.parametrize("arch", ["dnn", "cnn", "basic_lstm", "lstm", "gru", "crnn", "ds_cnn"])
def test_sampled_candidates_match_torch_and_thop(arch):
    space = get_space(arch)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    samples = [space.sample(study.ask()) for _ in range(40)]
    # the three with fewest MACs keep the check fast and still vary depth, kernels and front end
    for candidate in sorted(samples, key=lambda c: estimate(c).macs)[:3]:
        _check_against_torch(candidate)


def test_hello_edge_memory_is_weights_plus_the_largest_activation_pair():
    # DS-CNN small, by hand: conv1 10·4·64 + 64; 4 × (dw 3·3·64 + 64, pw 64·64 + 64); fc 64·12 + 12.
    # The largest pair is a 25×5×64 map in and out of a depthwise or pointwise conv.
    ds_small = next(m for m in HELLO_EDGE_BEST if (m.arch, m.budget) == ("ds_cnn", "small"))
    weights = (10 * 4 * 64 + 64) + 4 * ((9 * 64 + 64) + (64 * 64 + 64)) + (64 * 12 + 12)
    assert estimate(ds_small.candidate()).memory_hello_edge_bytes == weights + 2 * 25 * 5 * 64
    # DNN small: 250 inputs (25 frames × 10 MFCCs) and 144 outputs is the largest pair
    dnn_small = next(m for m in HELLO_EDGE_BEST if (m.arch, m.budget) == ("dnn", "small"))
    weights = 250 * 144 + 144 + 2 * (144 * 144 + 144) + 144 * 12 + 12
    assert estimate(dnn_small.candidate()).memory_hello_edge_bytes == weights + 250 + 144


def test_stacked_rnn_layers_count_one_step_of_activations():
    # CRNN small: conv out 20×4×48 feeds GRU 1; GRU 2 sees one 60-vector per step (TF MultiRNNCell),
    # so the largest pair is the conv's: 49·10 in + 3,840 out.
    crnn_small = next(m for m in HELLO_EDGE_BEST if (m.arch, m.budget) == ("crnn", "small"))
    cost = estimate(crnn_small.candidate())
    assert max(row["activations_hello_edge"] for row in cost.layers) == 490 + 20 * 4 * 48
    assert cost.memory_hello_edge_bytes == cost.params_deployed + 490 + 20 * 4 * 48


def test_deployment_memory_counts_int32_biases_quant_params_and_the_arena():
    dnn_small = next(m for m in HELLO_EDGE_BEST if (m.arch, m.budget) == ("dnn", "small"))
    cost = estimate(dnn_small.candidate())
    weights = 250 * 144 + 2 * 144 * 144 + 144 * 12
    biases = 3 * 144 + 12
    channels = 3 * 144 + 12
    tensors = 5  # input + 4 layer outputs, one scale/zero point each
    assert cost.flash_bytes == weights + 4 * biases + 8 * (channels + tensors)
    assert cost.arena_bytes == 250 + 144  # a chain needs its largest adjacent pair
    assert cost.memory_deploy_bytes == cost.flash_bytes + cost.ram_bytes


def test_recurrent_state_and_gate_scratch_are_in_ram():
    lstm = next(m for m in HELLO_EDGE_BEST if (m.arch, m.budget) == ("lstm", "small"))
    cost = estimate(lstm.candidate())
    # h (int8, projection 98) and c (int16, 144 cells) persist; gates are 4·144 int16 during the LSTM
    assert cost.ram_bytes - cost.arena_bytes == 98 + 2 * 144
    assert cost.arena_bytes >= 25 * 10 + 98 + 2 * 4 * 144


def test_reference_csv_matches_the_cost_model():
    rows = list(csv.DictReader(line for line in (REPO / "results/reference/hello_edge.csv").open()
                               if not line.startswith("#")))
    assert len(rows) == 21
    for row, published in zip(rows, HELLO_EDGE_BEST):
        cost = estimate(published.candidate())
        assert (row["arch"], row["class"]) == (published.arch, published.budget)
        assert float(row["accuracy_pct"]) == published.accuracy_pct
        assert int(row["memory_hello_edge_bytes"]) == cost.memory_hello_edge_bytes
        assert int(row["ops"]) == cost.ops
