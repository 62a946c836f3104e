"""The per-board latency model: fitting, prediction per layer, transfer, storage, and its use in the
cost report and the budgets."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nas.cost import estimate, latency
from nas.cost.budget import BoardProfile, Budget
from nas.errors import ConfigError
from nas.spaces import candidate_from_model_size_info



@pytest.fixture(scope="module")
def networks():
    """Random candidates of every search space (every layer kind: conv, depthwise, dense, lstm, gru,
    avg_pool, add), as the calibration draws them."""
    from nas.board.calibrate import calibration_set

    return [c.spec.layers(c.input_shape) for c in calibration_set(96, seed=3)]


def _truth(layers, scale: dict[str, float] | None = None) -> float:
    """A synthetic board: per-kind linear costs of the layers' shapes (what the model can represent)."""
    scale = scale or {}
    total = 5000.0 * scale.get(latency.NETWORK, 1.0)
    per_kind = {"conv2d": {"calls": 300, "macs": 1.3, "blocks": 36, "columns_by_rows": 2, "columns_gathered": 6},
                "depthwise_conv2d": {"calls": 250, "pair_passes_3x3": 60, "weight_pairs": 4.5, "outputs": 11},
                "dense": {"calls": 150, "macs_blocked": 1.1, "macs_single": 2.3, "outputs": 14},
                "lstm": {"calls": 400, "macs_blocked": 1.2, "step_cells": 40, "steps": 900},
                "gru": {"calls": 350, "macs_blocked": 1.25, "step_cells": 35, "steps": 800},
                "avg_pool": {"calls": 100, "inputs": 3},
                "add": {"calls": 80, "inputs": 6}}
    for layer in layers:
        features = latency.layer_features(layer)
        total += scale.get(layer.kind, 1.0) * sum(c * features.get(name, 0.0) for name, c in per_kind[layer.kind].items())
    return total


def test_fit_reproduces_a_board_whose_costs_are_linear_in_the_layer_shapes(networks):
    model = latency.fit(networks, [_truth(layers) for layers in networks], board="synthetic")
    assert model.fit_error["max"] < 1e-3
    from nas.board.calibrate import calibration_set

    for held_out in calibration_set(16, seed=99):  # networks the fit has not seen, of every space
        layers = held_out.spec.layers(held_out.input_shape)
        assert model.predict(layers) == pytest.approx(_truth(layers), rel=1e-3)
    assert all(c >= 0 for terms in model.coefficients.values() for c in terms.values())


def test_per_layer_predictions_and_the_overhead_add_up_to_the_network(networks):
    model = latency.fit(networks, [_truth(layers) for layers in networks], board="synthetic")
    layers = networks[7]
    assert model.overhead() + sum(model.per_layer(layers)) == pytest.approx(model.predict(layers))
    assert model.overhead() == pytest.approx(5000, rel=0.05)


def test_a_fit_with_fewer_networks_than_coefficients_is_refused(networks):
    networks = networks[:5]
    with pytest.raises(latency.FitError, match=r"5 measured networks are too few to fit \d+ coefficients"):
        latency.fit(networks, [_truth(layers) for layers in networks], board="synthetic")
    assert latency.unknowns(networks) > 5


def test_nonpositive_measurements_are_refused(networks):
    values = [_truth(layers) for layers in networks]
    values[3] = 0.0
    with pytest.raises(latency.FitError, match="positive"):
        latency.fit(networks, values, board="synthetic")


def test_transfer_recovers_per_kind_scales_from_ten_networks(networks):
    base = latency.fit(networks, [_truth(layers) for layers in networks], board="m7")
    scale = {"conv2d": 1.6, "depthwise_conv2d": 2.1, "dense": 1.3, "lstm": 1.4, "gru": 1.45,
             "avg_pool": 1.2, "add": 1.1, latency.NETWORK: 1.25}
    residual = next(layers for layers in networks if any(layer.kind == "add" for layer in layers))
    picked = networks[:9] + [residual]  # Hello Edge's small models, two medium ones and a TC-ResNet
    moved = base.transfer(picked, [_truth(layers, scale) for layers in picked], board="m4")
    assert moved.calibrated_from == "m7" and moved.points == 10
    errors = np.array([moved.predict(layers) / _truth(layers, scale) - 1 for layers in networks])
    assert np.all(np.abs(errors) < 0.01)  # depthwise and pooling come together in the 10: not told apart
    assert np.median(np.abs(errors)) < 2e-3


def test_save_and_load_round_trip_and_a_malformed_file_is_one_error(networks, tmp_path):
    model = latency.fit(networks, [_truth(layers) for layers in networks], board="synthetic")
    path = latency.save(model, latency.model_path("synthetic", tmp_path))
    loaded = latency.load("synthetic", tmp_path)
    assert loaded == model
    assert latency.load("uncalibrated", tmp_path) is None
    path.write_text(json.dumps({"format": latency.FORMAT, "board": "synthetic"}))
    with pytest.raises(ConfigError, match=r"synthetic\.latency\.json: malformed latency model"):
        latency.load("synthetic", tmp_path)
    # coefficients of an older feature set are refused, not silently mispredicted
    path.write_text(json.dumps({**model.to_dict(), "format": latency.FORMAT - 1}))
    with pytest.raises(ConfigError, match=f"expected a latency model of format {latency.FORMAT}"):
        latency.load("synthetic", tmp_path)
    path.write_text("{")
    with pytest.raises(ConfigError, match="unreadable latency model"):
        latency.load("synthetic", tmp_path)


def test_the_front_end_term_is_fitted_from_runs_at_several_frame_counts_and_stored(networks, tmp_path):
    frames = [49, 1, 2, 5, 10, 25]
    terms = latency.fit_frontend(frames, [700 + 36000 * n for n in frames])
    assert terms == pytest.approx({"per_inference": 700, "per_frame": 36000}, rel=1e-6)
    with pytest.raises(latency.FitError, match="needs two or more frame counts"):
        latency.fit_frontend([5, 5, 5], [1e5, 1e5, 1e5])
    model = latency.fit(networks, [_truth(layers) for layers in networks], board="synthetic").with_frontend(terms)
    assert model.frontend_value(5) == pytest.approx(700 + 5 * 36000)
    assert latency.load("synthetic", latency.save(model, latency.model_path("synthetic", tmp_path)).parent) == model
    assert model.with_frontend({}).frontend_value(5) is None


def _profile(**extra) -> BoardProfile:
    return BoardProfile(name="synthetic", core="cortex-m7", flash_bytes=1 << 20, sram_bytes=1 << 18,
                        clock_hz=200e6, cycles_per_instruction=1.0, cycles_per_mac=3.0,
                        target_inferences_per_s=10, **extra)


def _board_latency(profile: BoardProfile, networks) -> latency.BoardLatency:
    return latency.BoardLatency(profile, latency.fit(networks, [_truth(layers) for layers in networks], board=profile.name))


def test_the_cost_report_carries_predicted_latency_per_layer_and_in_total(networks):
    candidate = candidate_from_model_size_info("ds_cnn", [3, 8, 10, 4, 2, 2, 8, 3, 3, 1, 1, 8, 3, 3, 2, 2])
    board = _board_latency(_profile(), networks)
    cost = estimate(candidate, latency=board)
    layers = candidate.spec.layers(candidate.input_shape)
    assert cost.latency_instructions == pytest.approx(_truth(layers), rel=1e-3)
    assert cost.latency_ms == pytest.approx(cost.latency_instructions / 200e6 * 1e3)
    assert cost.latency_board == "synthetic"
    rows = [row["latency_instructions"] for row in cost.layers]
    assert sum(rows) + board.model.overhead() == pytest.approx(cost.latency_instructions)
    assert sum(row["latency_ms"] for row in cost.layers) < cost.latency_ms
    plain = estimate(candidate)
    assert plain.latency_ms is None and "latency_ms" not in plain.layers[0]
    # no front-end term measured: none reported; with one, the whole clip or a streaming inference's new frames
    assert cost.frontend_latency_ms is None and cost.frontend_frames is None
    board = latency.BoardLatency(board.profile, board.model.with_frontend({"per_inference": 1000, "per_frame": 30000}))
    clip, streaming = estimate(candidate, latency=board), estimate(candidate, latency=board, new_frames=5)
    assert clip.frontend_frames == candidate.input_shape[0] == 49
    assert clip.frontend_latency_instructions == pytest.approx(1000 + 49 * 30000)
    assert streaming.frontend_frames == 5 and streaming.frontend_latency_ms == pytest.approx(151000 / 200e6 * 1e3)


def test_max_latency_ms_rejects_a_candidate_predicted_over_it(networks):
    small = candidate_from_model_size_info("dnn", [16, 16])
    big = candidate_from_model_size_info("dnn", [128, 128, 128])
    profile = _profile()
    board = _board_latency(profile, networks)
    small_ms = estimate(small, latency=board).latency_ms
    big_ms = estimate(big, latency=board).latency_ms
    limit = (small_ms + big_ms) / 2
    budget = Budget("tight", max_memory_bytes=10**7, max_ops=10**9, max_latency_ms=limit)
    assert budget.constraints(estimate(small, latency=board))["latency"] < 0
    assert budget.constraints(estimate(big, latency=board))["latency"] > 0
    with pytest.raises(ConfigError, match="max_latency_ms needs a predicted latency"):
        budget.constraints(estimate(big))
    limited = _profile(max_latency_ms=limit)
    assert limited.constraints(estimate(small, latency=board))["latency"] < 0
    assert limited.constraints(estimate(big, latency=board))["latency"] == pytest.approx(big_ms / limit - 1)
    # without a prediction for this board the profile falls back to MACs × cycles_per_mac
    cost = estimate(big)
    assert limited.latency_ms_estimate(cost) == pytest.approx(cost.macs * 3.0 / 200e6 * 1e3)
    with pytest.raises(ConfigError, match="max_latency_ms must be a positive number"):
        Budget("bad", max_memory_bytes=1, max_ops=1, max_latency_ms=0)


def test_the_stored_emulator_models_predict_the_hello_edge_ds_cnn():
    """constraints/mps2_an500.latency.json: the Hello Edge small DS-CNN measured 3.81 M network
    instructions on the emulated M7 (README, bench_board.py)."""
    from nas.cost.budget import load_board

    model = latency.for_board(load_board("mps2_an500"))
    assert model is not None and model.model.unit == "instructions"
    he = candidate_from_model_size_info(
        "ds_cnn", [5, 64, 10, 4, 2, 2, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1, 64, 3, 3, 1, 1])
    assert estimate(he, latency=model).latency_instructions == pytest.approx(3.81e6, rel=0.05)
    m4 = latency.for_board(load_board("mps2_an386"))
    assert m4 is not None and m4.model.calibrated_from == "mps2_an500"
    assert np.isfinite(estimate(he, latency=m4).latency_ms)


def test_a_decimation_2_front_end_has_its_own_term(networks, tmp_path):
    import dataclasses

    from nas.data.frontend_config import FrontEndConfig

    model = latency.fit(networks, [_truth(layers) for layers in networks], board="synthetic")
    model = model.with_frontend({"per_inference": 1000, "per_frame": 30000})
    assert model.frontend_value(5, decimation=2) is None  # not measured: no prediction rather than the default's
    model = model.with_frontend({"per_inference": 900, "per_frame": 23000}, decimation=2)
    model = model.with_frontend({"per_inference": 1100, "per_frame": 31000})  # a refit default keeps the other
    assert model.frontend_value(5) == pytest.approx(1100 + 5 * 31000)
    assert model.frontend_value(5, decimation=2) == pytest.approx(900 + 5 * 23000)
    assert latency.load("synthetic", latency.save(model, latency.model_path("synthetic", tmp_path)).parent) == model
    candidate = candidate_from_model_size_info("ds_cnn", [3, 8, 10, 4, 2, 2, 8, 3, 3, 1, 1, 8, 3, 3, 2, 2])
    halved = dataclasses.replace(candidate, frontend=FrontEndConfig(decimation=2))
    board = latency.BoardLatency(_profile(), model)
    assert estimate(halved, latency=board, new_frames=5).frontend_latency_instructions == pytest.approx(900 + 5 * 23000)
    assert estimate(candidate, latency=board, new_frames=5).frontend_latency_instructions == pytest.approx(1100 + 5 * 31000)
