"""Every architecture builds a model of the published size that maps [B, T, F] to 12 logits."""
import pytest
import torch
from torch import nn

from nas.cost import estimate
from nas.data.frontend_config import FrontEndConfig
from nas.spaces import HELLO_EDGE_BEST, build_model, candidate_from_model_size_info

IDS = [f"{m.arch}-{m.budget}" for m in HELLO_EDGE_BEST]


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("published", HELLO_EDGE_BEST, ids=IDS)
def test_hello_edge_models_forward_and_have_the_cost_models_parameter_count(published):
    candidate = published.candidate()
    model = build_model(candidate).eval()
    x = torch.randn(3, *candidate.input_shape)
    with torch.no_grad():
        logits = model(x)
        alone = model(x[2:])
    assert logits.shape == (3, 12)
    assert torch.isfinite(logits).all()
    # a sample's logits do not depend on its batch mates (catches reshapes mixing batch and time)
    torch.testing.assert_close(logits[2:], alone, rtol=1e-4, atol=1e-5)
    assert _n_params(model) == estimate(candidate).params


def test_known_parameter_counts_from_the_tensorflow_layouts():
    # Independent arithmetic of TF's cells (not the cost model):
    # GRUCell: 3·H·(F+H) weights + 3·H biases; LSTMCell with peepholes and projection:
    # 4·C·(F+P) + 4·C + 3·C + C·P; FC to 12 classes: H·12 + 12.
    gru = build_model(candidate_from_model_size_info("gru", [1, 154], FrontEndConfig(stride_ms=40.0)))
    assert _n_params(gru) == 3 * 154 * (10 + 154) + 3 * 154 + 154 * 12 + 12
    lstm = build_model(candidate_from_model_size_info("lstm", [98, 144], FrontEndConfig(stride_ms=40.0)))
    assert _n_params(lstm) == 4 * 144 * (10 + 98) + 4 * 144 + 3 * 144 + 144 * 98 + 98 * 12 + 12


def test_ds_cnn_same_padding_keeps_tensorflow_output_sizes():
    # TF SAME: out = ceil(in / stride); 49×10 with stride 2×1 → 25×10, then stride 2×2 → 13×5
    c = candidate_from_model_size_info("ds_cnn", [2, 8, 10, 4, 2, 1, 16, 3, 3, 2, 2])
    model = build_model(c)
    sizes = []
    model[-3].register_forward_hook(lambda m, i, o: sizes.append(tuple(i[0].shape[1:])))
    model(torch.randn(1, 49, 10))
    assert sizes == [(16, 13, 5)]


def test_front_end_changes_the_input_the_model_takes():
    fe = FrontEndConfig(window_ms=30.0, stride_ms=10.0, n_mfcc=13)
    c = candidate_from_model_size_info("crnn", [16, 5, 3, 2, 1, 2, 20, 32], fe)
    assert c.input_shape == (98, 13)
    assert build_model(c)(torch.randn(2, 98, 13)).shape == (2, 12)


def test_models_train_one_step():
    c = candidate_from_model_size_info("lstm", [16, 24])
    model = build_model(c)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, *c.input_shape), torch.randint(0, 12, (8,))
    before = model[0].peepholes.detach().clone()
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    assert not torch.equal(before, model[0].peepholes), "peephole weights must receive gradients"


def test_a_seed_decides_the_initial_weights_and_leaves_the_global_rng_alone():
    candidate = HELLO_EDGE_BEST[0].candidate()
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first, again, other = (build_model(candidate, seed=s) for s in (0, 0, 1))
    assert torch.equal(torch.rand(1), expected_next)  # the global RNG did not move
    same = [torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values())]
    differ = [not torch.equal(a, b) for a, b in zip(first.state_dict().values(), other.state_dict().values())]
    assert all(same) and any(differ)
