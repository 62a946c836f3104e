"""Each space's cheapest candidates hold its least cost of every kind (what the budget refusal reads)."""
import optuna
import pytest

from nas.cost import estimate
from nas.paths import SEARCH_SPACES_DIR
from nas.spaces import get_space, hello_edge_candidates

optuna.logging.set_verbosity(optuna.logging.WARNING)
FIELDS = ("memory_hello_edge_bytes", "memory_deploy_bytes", "flash_bytes", "ram_bytes", "macs")
FRONTEND = "frontend: {n_mfcc: [8, 6], window_ms: [40.0, 50.0], stride_ms: [30.0, 40.0]}\n"
# Spaces small enough to enumerate, with the ranges where the least cost is not at every parameter's
# low end: VALID kernels and strides, SAME strides, shortcut projections, projection capped by cells.
SMALL = {
    "dnn": "n_layers: {low: 1, high: 3}\nwidth: {low: 4, high: 13, step: 3}\n",
    "cnn": "filters: {low: 4, high: 4}\nkernel_t: {low: 1, high: 4}\nkernel_f: {low: 1, high: 2}\n"
           "stride_t: {low: 1, high: 3}\nstride_f: {low: 1, high: 1}\nlinear: {low: 4, high: 5}\nfc: {low: 16, high: 16}\n",
    "basic_lstm": "cells: {low: 4, high: 20}\n",
    "lstm": "cells: {low: 4, high: 10, step: 3}\nprojection: {low: 2, high: 12}\n",
    "gru": "layers: {low: 1, high: 3}\ncells: {low: 4, high: 10}\n",
    "crnn": "filters: {low: 8, high: 9}\nkernel_t: {low: 1, high: 6}\nkernel_f: {low: 1, high: 3}\n"
            "stride_t: {low: 1, high: 3}\nstride_f: {low: 1, high: 2}\ngru_layers: {low: 1, high: 2}\n"
            "gru_cells: {low: 16, high: 16}\nfc: {low: 16, high: 16}\n",
    "ds_cnn": "n_layers: {low: 1, high: 3}\nfilters: {low: 16, high: 16}\nfirst_kernel_t: {low: 1, high: 3}\n"
              "first_kernel_f: {low: 1, high: 2}\nfirst_stride_t: {low: 1, high: 2}\nfirst_stride_f: {low: 1, high: 1}\n"
              "kernel_t: {low: 1, high: 2}\nkernel_f: {low: 1, high: 1}\nstride_t: {low: 1, high: 2}\n"
              "stride_f: {low: 1, high: 1}\n",
    "ds_cnn_staged": "first_filters: {low: 16, high: 16}\nfirst_kernel_t: {low: 1, high: 2}\n"
                     "first_kernel_f: {low: 1, high: 1}\nfirst_stride_t: {low: 1, high: 2}\n"
                     "first_stride_f: {low: 1, high: 1}\nstages: 2\ndepth: [1, 0]\nwidth: {low: 8, high: 8}\n"
                     "kernel_t: {low: 1, high: 2}\nkernel_f: {low: 1, high: 1}\nstride_t: {low: 1, high: 2}\n"
                     "stride_f: {low: 1, high: 1}\n",
    "tc_resnet": "width_multiplier: [1.0, 0.5]\nfirst_filters: {low: 3, high: 5}\nfirst_kernel_t: {low: 1, high: 2}\n"
                 "n_blocks: {low: 1, high: 2}\nfilters: {low: 3, high: 5}\nkernel_t: {low: 1, high: 2}\n"
                 "stride_t: {low: 1, high: 2}\n",
}


class _Enumerating:
    """A trial that answers from ``prefix`` and then with each range's first value, recording every
    value it could have answered, so that `_every_candidate` can walk the whole tree of draws."""

    def __init__(self, prefix):
        self.prefix, self.options = list(prefix), []

    def _answer(self, options):
        self.options.append(list(options))
        i = len(self.options) - 1
        return self.prefix[i] if i < len(self.prefix) else options[0]

    def suggest_int(self, name, low, high, log=False, step=1):
        return self._answer(range(low, high + 1, step))

    def suggest_categorical(self, name, choices):
        return self._answer(choices)


def _every_candidate(space):
    candidates, stack = [], [[]]
    while stack:
        prefix = stack.pop()
        trial = _Enumerating(prefix)
        candidates.append(space.sample(trial))
        answers = [trial.prefix[i] if i < len(prefix) else options[0] for i, options in enumerate(trial.options)]
        for i in range(len(prefix), len(trial.options)):
            stack += [answers[:i] + [value] for value in trial.options[i][1:]]
    return candidates


def _least(candidates):
    costs = [estimate(c) for c in candidates]
    return {field: min(getattr(cost, field) for cost in costs) for field in FIELDS}


SPACES = sorted(p.stem for p in SEARCH_SPACES_DIR.glob("*.yaml"))


@pytest.mark.parametrize("arch", SPACES)
def test_the_cheapest_candidates_hold_the_least_of_every_cost_of_a_small_space(arch, tmp_path):
    target = type(get_space(arch)).__module__ + "." + type(get_space(arch)).__name__
    (tmp_path / f"{arch}.yaml").write_text(f"_target_: {target}\n{FRONTEND}{SMALL[arch]}")
    space = get_space(arch, tmp_path)
    everything = set(_every_candidate(space))  # TC-ResNet's widths reach some candidates twice
    cheapest = space.cheapest_candidates()
    assert len(everything) > 10 * len(cheapest) and set(cheapest) <= everything
    assert _least(cheapest) == _least(everything)


@pytest.mark.parametrize("arch", SPACES)
def test_no_sample_of_a_real_space_costs_less_than_its_cheapest_candidates(arch):
    space = get_space(arch)
    cheapest = space.cheapest_candidates()
    assert cheapest and all(space.contains(c) for c in cheapest)
    least = _least(cheapest)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    samples = [space.sample(study.ask()) for _ in range(300)]
    for candidate in [*samples, *(c for _, c in hello_edge_candidates(space.arch))]:
        cost = estimate(candidate)
        for field in FIELDS:
            assert getattr(cost, field) >= least[field], (field, candidate.describe())


def _cheapest_by(arch, field):
    return min(get_space(arch).cheapest_candidates(), key=lambda c: getattr(estimate(c), field))


def test_the_least_costs_are_not_all_at_the_parameters_low_ends():
    """CNN: a 4-wide first kernel over 6 MFCCs leaves one column for the layers after it (least memory),
    where the 1-wide one leaves two; TC-ResNet: the least flash keeps a block's channels at stride 1
    (no shortcut projection), the least MACs halve the map and pay for the projection."""
    cnn = get_space("cnn")
    assert _cheapest_by("cnn", "memory_hello_edge_bytes").spec.conv1.kernel_f > cnn.kernel_f.low
    assert _cheapest_by("tc_resnet", "flash_bytes").spec.blocks[0].stride_t == 1
    assert _cheapest_by("tc_resnet", "macs").spec.blocks[0].stride_t == 2
