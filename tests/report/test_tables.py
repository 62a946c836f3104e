"""summary.md from the trials table: Hello Edge's table shape, the best row, the front and the counts."""
import math

import pytest

from nas.report import tables
from nas.results import trials
from .report_study_factory import make_study


@pytest.fixture
def df():
    return trials.trials_frame(make_study())


def test_summary_has_hello_edge_columns_and_the_best_row(df):
    text = tables.summary_markdown(df, "title", "generated speech (test)")
    assert "| Architecture | Class | Val accuracy (%) | Test accuracy (%) | Memory (KB) | Ops (MOps) | Trial |" in text
    assert "| dnn | small | 90.0 | 85.0 | 70.0 | 5.00 | dnn_small#2 |" in text
    assert "Accuracy is measured on: generated speech (test)." in text
    assert "3 trained, 1 infeasible (never trained), 1 pruned, 1 failed" in text
    front_rows = [l for l in text.splitlines() if l.startswith("| dnn_small |")]
    assert [r.split("|")[2].strip() for r in front_rows] == ["0", "2"]  # sorted by memory


def test_latency_replaces_ops_when_trials_were_measured(df):
    df = df.assign(latency_ms=[3.0, 4.0, 5.0, math.nan, math.nan, math.nan])
    assert trials.third_objective(df) == "latency_ms"
    assert "Latency (ms)" in tables.summary_markdown(df, "t", "d")
