"""`kws-nas cost`: the 21 Hello Edge points land in their classes; tables, budgets, boards, bad input."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nas.cli import main
from nas.spaces import HELLO_EDGE_BEST, build_model

REPO = Path(__file__).resolve().parents[2]
# Hello Edge Table 2 (KB = 1000 B, ops = 2 × MACs)
CLASSES = {"small": (80_000, 6e6), "medium": (200_000, 20e6), "large": (500_000, 80e6)}


def _cost_json(capsys, *argv) -> dict:
    assert main(["cost", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _paper_class(memory_bytes: int, ops: int) -> str:
    """The smallest class that holds the point, memory rounded to the 0.1 KB the paper prints."""
    kb = round(memory_bytes / 1000, 1)
    return next(name for name, (mem, max_ops) in CLASSES.items() if kb <= mem / 1000 and ops <= max_ops)


@pytest.mark.parametrize("published", HELLO_EDGE_BEST, ids=[f"{m.arch}-{m.budget}" for m in HELLO_EDGE_BEST])
def test_hello_edge_points_land_in_the_papers_class(capsys, published):
    out = _cost_json(capsys, published.arch, "--model-size-info", *map(str, published.model_size_info),
                     "--window-ms", "40", "--stride-ms", str(published.stride_ms), "--dct", "10")
    assert {"params", "memory_hello_edge_bytes", "memory_deploy_bytes", "macs", "ops", "layers"} <= set(out)
    assert _paper_class(out["memory_hello_edge_bytes"], out["ops"]) == published.budget
    model = build_model(published.candidate())
    assert out["params"] == sum(p.numel() for p in model.parameters())
    assert out["ops"] == 2 * out["macs"] == 2 * sum(layer["macs"] for layer in out["layers"])


def test_text_output_has_the_layer_table_totals_and_feasibility(capsys):
    assert main(["cost", "dnn", "--model-size-info", "144", "144", "144", "--stride-ms", "40",
                 "--budget", "medium", "--board", "nano33ble"]) == 0
    text = capsys.readouterr().out
    first_words = [line.split()[0] for line in text.splitlines() if line.strip()]
    assert first_words[1:6] == ["name", "fc1", "fc2", "fc3", "fc_out"]
    assert "memory, Hello Edge" in text and "80,038 B" in text
    assert "budget medium: fits" in text
    assert "board nano33ble: fits" in text and "flash" in text and "RAM" in text


def test_budget_and_board_sections_of_the_json(capsys):
    out = _cost_json(capsys, "dnn", "--model-size-info", "436", "436", "436", "--stride-ms", "40",
                     "--budget", "small", "--board", "stm32f746g_disco")
    assert out["budget"]["name"] == "small" and out["budget"]["feasible"] is False
    checked = (out["memory_hello_edge_bytes"] + 50) // 100 * 100  # the paper's 0.1 KB
    assert out["budget"]["constraints"]["memory"] == pytest.approx(checked / 80_000 - 1)
    assert out["board"]["flash_pct"] == pytest.approx(100 * out["flash_bytes"] / (1024 * 1024))
    assert out["board"]["ram_pct"] == pytest.approx(100 * out["ram_bytes"] / (320 * 1024))


def test_a_calibrated_board_adds_predicted_latency_per_layer_and_in_total(capsys):
    info = ["5", "64", "10", "4", "2", "2"] + ["64", "3", "3", "1", "1"] * 4  # Hello Edge small DS-CNN
    out = _cost_json(capsys, "ds_cnn", "--model-size-info", *info, "--board", "mps2_an500")
    assert out["latency_board"] == "mps2_an500" and out["latency_us"] is None
    assert out["latency_ms"] == pytest.approx(out["latency_instructions"] / 216e6 * 1e3)
    per_layer = [row["latency_instructions"] for row in out["layers"]]
    assert all(value > 0 for value in per_layer) and sum(per_layer) <= out["latency_instructions"]
    assert out["board"]["latency_model"] is True
    assert out["board"]["latency_ms_estimate"] == pytest.approx(out["latency_ms"])
    assert main(["cost", "ds_cnn", "--model-size-info", *info, "--board", "mps2_an500"]) == 0
    text = capsys.readouterr().out
    assert f"{out['latency_instructions']:,.0f} instructions = {out['latency_ms']:.2f} ms" in text
    assert "latency_ms" in text.splitlines()[1]  # a column of the per-layer table
    # the board's front end per inference: the whole clip's 49 frames, or only --rate's new ones
    assert out["frontend_frames"] == 49 and out["frontend_latency_instructions"] > 1e6
    assert f"{out['frontend_latency_ms']:.2f} ms per inference (49 feature frames)" in text
    streaming = _cost_json(capsys, "ds_cnn", "--model-size-info", *info, "--board", "mps2_an500", "--rate", "10")
    assert streaming["frontend_frames"] == 5
    assert streaming["frontend_latency_instructions"] < out["frontend_latency_instructions"] / 5
    # a board never calibrated falls back to MACs × cycles_per_mac, and says so
    assert main(["cost", "ds_cnn", "--model-size-info", *info, "--board", "nano33ble"]) == 0
    assert "no latency model, run kws-nas board calibrate --board nano33ble" in capsys.readouterr().out


def test_spec_json_text_file_and_whole_candidate_agree(capsys, tmp_path):
    by_msi = _cost_json(capsys, "gru", "--model-size-info", "2", "64", "--dct", "13")
    by_spec = _cost_json(capsys, "gru", "--spec", '{"num_layers": 2, "cells": 64}', "--dct", "13")
    path = tmp_path / "candidate.json"
    path.write_text(json.dumps(by_msi["candidate"]))
    by_file = _cost_json(capsys, "gru", "--spec", str(path))
    assert by_msi["candidate"]["frontend"]["n_mfcc"] == 13
    assert by_msi["memory_hello_edge_bytes"] == by_spec["memory_hello_edge_bytes"] == by_file["memory_hello_edge_bytes"]
    assert by_msi["layers"] == by_spec["layers"] == by_file["layers"]


@pytest.mark.parametrize("argv, message", [
    (["rnn", "--model-size-info", "10"], "unknown architecture 'rnn'"),
    (["cnn", "--model-size-info", "28", "10", "4"], "cnn: model_size_info needs 12 numbers"),
    (["cnn", "--model-size-info", "28", "60", "4", "1", "1", "30", "10", "4", "2", "1", "16", "128"],
     "cnn spec: conv1: kernel_t 60 is larger than its input (49)"),
    (["lstm", "--model-size-info", "0", "144"], "lstm spec: projection must be a positive integer, got 0"),
    (["dnn", "--model-size-info", "144", "-1"], r"dnn spec: widths[2] must be a positive integer, got -1"),
    (["gru", "--spec", '{"cells": 3}'], "missing keys ['num_layers']"),
    (["gru", "--spec", "{not json"], "--spec: invalid JSON"),
    (["gru", "--spec", "nowhere.json"], "is neither a JSON object nor an existing file"),
    (["gru", "--model-size-info", "1", "10", "--budget", "huge"], "unknown budget or board 'huge'"),
    (["gru", "--model-size-info", "1", "10", "--board", "small"], "not a board profile"),
    (["gru", "--model-size-info", "1", "10", "--dct", "0"], "front end: n_mfcc must be > 0"),
])
def test_bad_input_is_one_line_naming_the_field(capsys, argv, message):
    assert main(["cost", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kws-nas cost: error: ") and message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_installed_command_prints_json(tmp_path):
    exe = Path(sys.executable).parent / "kws-nas"
    result = subprocess.run([str(exe), "cost", "basic_lstm", "--model-size-info", "118", "--json"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["params"] == 4 * 118 * (10 + 118) + 4 * 118 + 118 * 12 + 12
