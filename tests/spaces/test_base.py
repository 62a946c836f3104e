"""Candidate and ArchSpec contracts: JSON round trips, model_size_info round trips, one clear error per bad input."""
import json

import pytest

from nas.data.frontend_config import FrontEndConfig
from nas.errors import ConfigError
from nas.spaces import (
    HELLO_EDGE_BEST,
    Candidate,
    arch_names,
    build_model,
    candidate_from_model_size_info,
    spec_class,
)

ALL = [(m.arch, m.budget) for m in HELLO_EDGE_BEST]


def test_the_seven_architectures_are_registered_in_hello_edge_order_then_the_others():
    assert arch_names() == ["dnn", "cnn", "basic_lstm", "lstm", "gru", "crnn", "ds_cnn", "tc_resnet"]


@pytest.mark.parametrize("published", HELLO_EDGE_BEST, ids=[f"{a}-{b}" for a, b in ALL])
def test_candidate_survives_json_and_model_size_info_round_trips(published):
    candidate = published.candidate()
    text = json.dumps(candidate.to_dict())
    again = Candidate.from_dict(json.loads(text))
    assert again == candidate
    assert again.to_dict() == json.loads(text)
    assert candidate.spec.to_model_size_info() == list(published.model_size_info)
    assert type(candidate.spec).from_model_size_info(published.model_size_info) == candidate.spec


def test_describe_names_arch_sizes_and_front_end():
    c = candidate_from_model_size_info("gru", [1, 154], FrontEndConfig(stride_ms=40.0))
    assert c.describe() == "gru [1 154] mfcc=10 win=40ms stride=40ms"


def test_unknown_architecture_is_one_config_error_listing_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown architecture 'rnn'.*ds_cnn"):
        candidate_from_model_size_info("rnn", [10])
    with pytest.raises(ConfigError, match="unknown architecture"):
        Candidate.from_dict({"arch": "transformer", "spec": {}, "frontend": {}})


@pytest.mark.parametrize("arch, values, expected", [
    ("cnn", [28, 10, 4, 1, 1], "needs 12 numbers"),
    ("crnn", [48, 10, 4, 2, 2, 2, 60], "needs 8 numbers"),
    ("lstm", [98], "needs 2 numbers"),
    ("gru", [1, 154, 3], "needs 2 numbers"),
    ("basic_lstm", [], "needs 1 numbers"),
    ("ds_cnn", [2, 64, 10, 4, 2, 2], "needs 11 numbers"),
    ("ds_cnn", [0], "positive layer count"),
    ("dnn", [], "at least 1 number"),
])
def test_wrong_model_size_info_length_names_the_expected_layout(arch, values, expected):
    with pytest.raises(ConfigError, match=expected):
        candidate_from_model_size_info(arch, values)


@pytest.mark.parametrize("arch, values, field", [
    ("dnn", [144, 0, 144], r"widths\[2\]"),
    ("dnn", [144, -3], r"widths\[2\]"),
    ("cnn", [28, 10, 4, 1, 1, 30, 10, 4, 0, 1, 16, 128], r"conv2\.stride_t"),
    ("cnn", [28, 10, 4, 1, 1, 30, 10, 4, 2, 1, -16, 128], "linear"),
    ("basic_lstm", [0], "cells"),
    ("lstm", [-1, 144], "projection"),
    ("gru", [0, 154], "num_layers"),
    ("crnn", [48, 10, 4, 2, 2, 2, 0, 84], "gru_cells"),
    ("ds_cnn", [2, 64, 10, 4, 2, 2, 0, 3, 3, 1, 1], r"layer2\.filters"),
])
def test_zero_or_negative_sizes_name_the_field(arch, values, field):
    with pytest.raises(ConfigError, match=field):
        candidate_from_model_size_info(arch, values)


@pytest.mark.parametrize("arch, values, frontend, field", [
    ("cnn", [28, 60, 4, 1, 1, 30, 10, 4, 2, 1, 16, 128], FrontEndConfig(), r"conv1: kernel_t 60 .*\(49\)"),
    ("cnn", [28, 10, 4, 1, 1, 30, 10, 8, 2, 1, 16, 128], FrontEndConfig(), r"conv2: kernel_f 8 .*\(7\)"),
    ("crnn", [48, 10, 12, 2, 2, 2, 60, 84], FrontEndConfig(), r"conv1: kernel_f 12 .*\(10\)"),
    ("ds_cnn", [2, 64, 10, 4, 2, 2, 64, 3, 6, 1, 1], FrontEndConfig(), r"dw2: kernel_f 6 .*\(5\)"),
    ("cnn", [28, 10, 4, 1, 1, 30, 10, 4, 2, 1, 16, 128], FrontEndConfig(stride_ms=200.0), r"kernel_t 10 .*\(5\)"),
])
def test_kernel_larger_than_its_input_names_layer_and_field(arch, values, frontend, field):
    with pytest.raises(ConfigError, match=field) as err:
        candidate_from_model_size_info(arch, values, frontend)
    assert "larger than its input" in str(err.value)
    # build_model checks the same before any torch module exists
    spec = spec_class(arch).from_model_size_info(values)
    with pytest.raises(ConfigError, match=field):
        build_model(Candidate(arch, spec, frontend))


@pytest.mark.parametrize("arch, spec, field", [
    ("dnn", {"widths": [10], "depth": 3}, "unknown keys"),
    ("cnn", {"conv1": {"filters": 3}, "conv2": {}, "linear": 1, "fc": 1}, "conv1 must be an object"),
    ("lstm", {"cells": 10}, r"missing keys \['projection'\]"),
    ("dnn", {"widths": 144}, "widths must be a list"),
    ("gru", {"num_layers": 1.5, "cells": 10}, "num_layers must be a positive integer"),
    ("ds_cnn", {"blocks": []}, "blocks must be a non-empty list"),
])
def test_malformed_spec_json_is_one_config_error(arch, spec, field):
    with pytest.raises(ConfigError, match=field):
        spec_class(arch).from_dict(spec)


def test_candidate_rejects_a_spec_of_another_architecture():
    spec = spec_class("gru").from_model_size_info([1, 10])
    with pytest.raises(ConfigError, match="does not belong to arch 'lstm'"):
        Candidate("lstm", spec, FrontEndConfig())
