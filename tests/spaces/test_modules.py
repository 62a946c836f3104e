"""The hand-written recurrent cells compute what TensorFlow's LSTMCell/GRUCell compute."""
import numpy as np
import pytest
import torch

from nas.spaces.modules import ConvToSequence, Gru, Lstm, fast_path, step_by_step


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_lstm_without_peepholes_matches_torch_lstm_cell():
    torch.manual_seed(0)
    ours = Lstm(5, 7)
    ref = torch.nn.LSTMCell(5, 7)
    w, b = ours.gates.weight.detach(), ours.gates.bias.detach()
    i, j, f, o = w.chunk(4)
    bi, bj, bf, bo = b.chunk(4)
    with torch.no_grad():  # torch orders gates i, f, g, o and splits input / hidden weights
        ref.weight_ih.copy_(torch.cat([i, f, j, o])[:, :5])
        ref.weight_hh.copy_(torch.cat([i, f, j, o])[:, 5:])
        ref.bias_ih.copy_(torch.cat([bi, bf, bj, bo]))
        ref.bias_hh.zero_()
    x = torch.randn(3, 6, 5)
    h = c = torch.zeros(3, 7)
    for t in range(6):
        h, c = ref(x[:, t], (h, c))
    torch.testing.assert_close(ours(x), h)


def test_lstm_peepholes_and_projection_follow_the_tf_equations():
    torch.manual_seed(1)
    m = Lstm(4, 6, projection=3, peepholes=True, return_sequence=True)
    with torch.no_grad():
        m.peepholes.normal_()
    W, b = m.gates.weight.detach().numpy(), m.gates.bias.detach().numpy()
    P, wp = m.projection.weight.detach().numpy(), m.peepholes.detach().numpy()
    x = torch.randn(2, 5, 4)
    h, c, outs = np.zeros((2, 3)), np.zeros((2, 6)), []
    for t in range(5):
        z = np.concatenate([x[:, t].numpy(), h], 1) @ W.T + b
        i, j, f, o = np.split(z, 4, axis=1)
        c = _sigmoid(f + wp[1] * c) * c + _sigmoid(i + wp[0] * c) * np.tanh(j)
        h = (_sigmoid(o + wp[2] * c) * np.tanh(c)) @ P.T
        outs.append(h)
    np.testing.assert_allclose(m(x).detach().numpy(), np.stack(outs, 1), rtol=1e-5, atol=1e-6)


def test_gru_follows_tf_gru_cell_equations():
    torch.manual_seed(2)
    m = Gru(4, 5)
    Wg, bg = m.gates.weight.detach().numpy(), m.gates.bias.detach().numpy()
    Wc, bc = m.candidate.weight.detach().numpy(), m.candidate.bias.detach().numpy()
    x = torch.randn(3, 7, 4)
    h = np.zeros((3, 5))
    for t in range(7):
        xt = x[:, t].numpy()
        r, u = np.split(_sigmoid(np.concatenate([xt, h], 1) @ Wg.T + bg), 2, axis=1)
        cand = np.tanh(np.concatenate([xt, r * h], 1) @ Wc.T + bc)
        h = u * h + (1 - u) * cand
    np.testing.assert_allclose(m(x).detach().numpy(), h, rtol=1e-5, atol=1e-6)


def test_forget_and_gate_biases_start_at_one_like_tensorflow():
    lstm, gru = Lstm(3, 4), Gru(3, 4)
    assert torch.equal(lstm.gates.bias[8:12].detach(), torch.ones(4))
    assert torch.equal(gru.gates.bias.detach(), torch.ones(8))


def test_conv_to_sequence_puts_time_first_and_frequency_major():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)  # B, C, T, F
    y = ConvToSequence()(x)
    assert y.shape == (2, 4, 15)
    # element (b, t, f*C + c) is x[b, c, t, f], as TF's NHWC reshape orders it
    assert y[1, 2, 4 * 3 + 1] == x[1, 1, 2, 4]


# --- the fast forward passes against the step-by-step definition (what the int8 export unrolls) --------

def _same_outputs_and_gradients(m: torch.nn.Module, x: torch.Tensor) -> None:
    for training in (True, False):
        m.train(training)
        fast, slow = m(x), step_by_step(m, x)
        torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-5)
        fast_grads = torch.autograd.grad(fast.square().sum(), list(m.parameters()))
        slow_grads = torch.autograd.grad(slow.square().sum(), list(m.parameters()))
        for a, b in zip(fast_grads, slow_grads):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)



@pytest.mark.parametrize("kwargs", [dict(), dict(return_sequence=True), dict(projection=3),
                                    dict(projection=3, peepholes=True, return_sequence=True)],
                         ids=["basic", "sequence", "projection", "peepholes"])
def test_fast_lstm_equals_the_step_by_step_lstm_in_outputs_and_gradients(kwargs):
    torch.manual_seed(3)
    m = Lstm(5, 8, **kwargs)
    if m.peepholes is not None:
        with torch.no_grad():
            m.peepholes.normal_()
    _same_outputs_and_gradients(m, torch.randn(4, 9, 5))


@pytest.mark.parametrize("return_sequence", [False, True])
def test_fast_gru_equals_the_step_by_step_gru_in_outputs_and_gradients(return_sequence):
    torch.manual_seed(4)
    _same_outputs_and_gradients(Gru(5, 8, return_sequence=return_sequence), torch.randn(4, 9, 5))


def test_the_fast_path_runs_only_in_training_and_never_on_a_pruned_layer():
    from torch.nn.utils import prune

    gru = Gru(10, 8)
    assert fast_path(gru.train()) and not fast_path(gru.eval())  # eval: every step calls its Linear layers
    prune.l1_unstructured(gru.gates, "weight", amount=0.5)
    assert not fast_path(gru.train())  # the mask is applied by a hook on that call
    calls = []
    gru.gates.register_forward_hook(lambda *args: calls.append(1))
    gru(torch.randn(2, 5, 10))
    assert len(calls) == 5  # once per time step
