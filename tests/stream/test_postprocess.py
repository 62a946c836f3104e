"""Post-processing: RecognizeCommands behaviour, and the C code against the Python on the same int8 outputs."""
from __future__ import annotations

import numpy as np
import pytest

from nas.errors import ConfigError
from nas.stream.postprocess import (PostprocessConfig, RecognizeCommands, detections, softmax_scores,
                                    softmax_table)

from .recognize_lib import c_decisions, load_library

SOFTMAX_ZERO = -128  # an int8 softmax output q means probability (q + 128) / 256


def probabilities(rows: list[list[int]]) -> np.ndarray:
    """int8 softmax outputs whose scores are the given 0..255 values."""
    return (np.asarray(rows) + SOFTMAX_ZERO).astype(np.int8)


@pytest.fixture(scope="module")
def lib():
    return load_library()


def test_averaging_threshold_minimum_count_and_suppression():
    config = PostprocessConfig(average_window_ms=300, detection_threshold=200, suppression_ms=1000, minimum_count=3)
    rc = RecognizeCommands(3, config)
    loud = probabilities([[10, 245, 0]])[0]
    quiet = probabilities([[240, 15, 0]])[0]
    first = [rc.process(loud, t) for t in (100, 200, 300)]
    assert [d.is_new_command for d in first] == [False, False, True]  # minimum count 3
    assert first[0].score == 0 and first[2].top_class == 1 and first[2].score == 245
    # the same word again inside the suppression time is not new; after it, it is
    assert not any(rc.process(loud, t).is_new_command for t in range(400, 1400, 100))
    assert rc.process(loud, 1400).is_new_command
    # averaging: one quiet result among loud ones leaves class 1 on top, below threshold it is no detection
    rc = RecognizeCommands(3, config)
    decisions = [rc.process(x, t) for x, t in zip([loud, loud, quiet, quiet, quiet], (100, 200, 300, 400, 500))]
    assert decisions[2].top_class == 1 and decisions[2].score == (245 * 2 + 15) // 3 and not decisions[2].is_new_command
    # the window keeps results from time - 300 ms on: at 400 ms all four, at 500 ms the last four
    assert (decisions[3].top_class, decisions[3].score) == (1, (245 * 2 + 15 * 2) // 4)
    assert (decisions[4].top_class, decisions[4].score) == (0, (10 + 240 * 3) // 4)
    assert not any(d.is_new_command for d in decisions)  # 182 < 200


def test_another_word_is_detected_inside_the_suppression_time():
    config = PostprocessConfig(average_window_ms=0, minimum_count=1, suppression_ms=5000)
    rows = probabilities([[0, 250, 5], [0, 5, 250], [0, 250, 5]])
    found = detections(rows, np.array([100, 200, 300]), config)
    assert [(d.time_ms, d.top_class) for d in found] == [(100, 1), (200, 2), (300, 1)]


def test_softmax_table_scores_logits():
    table = softmax_table(0.1)
    assert table[0] == 1 << 16 and np.all(np.diff(table.astype(np.int64)) <= 0)
    scores = softmax_scores(np.array([[30, 30, -128], [127, -128, 0]], dtype=np.int8), table)
    assert scores[0].tolist() == [128, 128, 0]  # two equal logits share the mass (rounded)
    expected = 255 * np.exp(0.1 * np.array([127, -128, 0])) / np.exp(0.1 * np.array([127, -128, 0])).sum()
    assert np.abs(scores[1] - expected).max() <= 1


def test_results_out_of_order_and_bad_parameters_are_refused():
    rc = RecognizeCommands(2)
    rc.process(np.zeros(2, np.int8), 100)
    with pytest.raises(ConfigError, match="not after the previous one"):
        rc.process(np.zeros(2, np.int8), 100)
    with pytest.raises(ConfigError, match="expected 2 outputs"):
        rc.process(np.zeros(3, np.int8), 200)
    for bad in ({"detection_threshold": 256}, {"minimum_count": 0}, {"average_window_ms": -1},
                {"suppression_ms": 1.5}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            PostprocessConfig(**bad)


@pytest.mark.parametrize("config", [PostprocessConfig(),
                                    PostprocessConfig(average_window_ms=300, detection_threshold=120,
                                                      suppression_ms=500, minimum_count=2)])
@pytest.mark.parametrize("logits", [True, False])
def test_c_and_python_decide_alike_on_random_outputs(lib, config, logits):
    """Bursts of one class over noise: many detections, suppressions and near-threshold averages."""
    rng = np.random.default_rng(3)
    n, classes = 3000, 12
    outputs = rng.integers(-128, 40, size=(n, classes))
    burst_class = rng.integers(0, classes, size=n // 15).repeat(15)
    outputs[np.arange(n), burst_class] = rng.integers(60, 128, size=n)
    times = np.cumsum(rng.integers(60, 140, size=n))
    table = softmax_table(0.06) if logits else None
    rc = RecognizeCommands(classes, config, table)
    python = [rc.process(row, int(t)) for row, t in zip(outputs.astype(np.int8), times)]
    in_c = c_decisions(lib, outputs, times, config, table)
    assert in_c == python
    assert sum(d.is_new_command for d in python) >= 20


def test_c_refuses_results_out_of_order_and_bad_config(lib):
    import ctypes

    from .recognize_lib import Config, DecisionC, State

    state, decision = State(), DecisionC()
    assert lib.kws_recognize_commands_init(ctypes.byref(state), ctypes.byref(Config(1000, 256, 1500, 3)), 12, None) == 1
    assert lib.kws_recognize_commands_init(ctypes.byref(state), ctypes.byref(Config(1000, 200, 1500, 3)), 12, None) == 0
    row = np.zeros(12, np.int8)
    assert lib.kws_recognize_commands_process(ctypes.byref(state), row.ctypes.data_as(ctypes.c_void_p),
                                              ctypes.c_int32(100), ctypes.byref(decision)) == 0
    assert lib.kws_recognize_commands_process(ctypes.byref(state), row.ctypes.data_as(ctypes.c_void_p),
                                              ctypes.c_int32(100), ctypes.byref(decision)) == 2


def test_c_and_python_decide_alike_on_a_ten_minute_stream(lib, labelled_stream, stream_model):
    """The int8 outputs of a small trained model on a generated 10-minute stream, every 100 ms."""
    from nas.data.frontend_config import FrontEndConfig
    from nas.stream.runner import TflmHostRunner, stream_outputs

    _, _, samples, _ = labelled_stream
    runner = TflmHostRunner((stream_model / "model.tflite").read_bytes())
    times, outputs = stream_outputs(samples, FrontEndConfig(), runner, 100)
    assert len(outputs) == 1 + (len(samples) - 16000) // 1600
    table = softmax_table(runner.output.scale)
    # micro_speech's defaults, and a low threshold that makes many detections whatever the model's skill
    for config, at_least in ((PostprocessConfig(), 0), (PostprocessConfig(detection_threshold=60, minimum_count=1,
                                                                          suppression_ms=500), 50)):
        rc = RecognizeCommands(outputs.shape[1], config, table)
        python = [rc.process(row, int(t)) for row, t in zip(outputs, times)]
        assert c_decisions(lib, outputs, times, config, table) == python
        assert sum(d.is_new_command for d in python) >= at_least
