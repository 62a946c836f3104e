"""Pareto and curve figures: which trials land in which trace, and real HTML + PNG files."""
import pandas as pd
import pytest

from nas.report import figures
from nas.report.study_report import load_reference
from nas.results.trials import trials_frame
from .report_study_factory import make_study


@pytest.fixture(scope="module")
def df():
    return trials_frame(make_study())


def _traces(fig, name, col):
    xaxis = "x" if col == 1 else "x2"
    return [t for t in fig.data if t.name == name and t.xaxis == xaxis]


def test_pareto_figure_separates_front_trained_pruned_and_infeasible(df):
    reference = pd.DataFrame({"arch": ["dnn"], "budget_class": ["small"], "accuracy": [0.846],
                              "memory_bytes": [79_000], "ops": [5.5e6], "label": ["HE dnn small"]})
    fig = figures.pareto_figure(df, reference, "t", {"memory_bytes": 80_000, "ops": 6e6})
    front = _traces(fig, "Pareto front", 1)[0]
    assert list(front.x) == [40.0, 70.0] and list(front.y) == [80.0, 90.0]  # KB, %
    assert list(_traces(fig, "trained", 2)[0].x) == [3.0]  # MOps
    assert list(_traces(fig, "infeasible (not trained)", 1)[0].y) == [0.0]
    assert list(_traces(fig, "pruned", 1)[0].y) == [35.0]
    ref = _traces(fig, "Hello Edge (published)", 1)[0]
    assert list(ref.x) == [79.0] and list(ref.y) == [pytest.approx(84.6)]
    assert [s.x0 for s in fig.layout.shapes] == [80.0, 6.0]  # the budget, dashed


def test_reference_file_has_the_published_points_for_every_arch_and_class():
    ref = load_reference()
    if ref.empty:
        pytest.skip("results/reference/hello_edge.csv not written yet (spaces helper)")
    assert len(ref) == 21 and set(ref["budget_class"]) == {"small", "medium", "large"}
    assert ref["accuracy"].between(0.8, 1.0).all()
    one = load_reference("ds_cnn", "small")
    assert len(one) == 1 and one["accuracy"].iloc[0] == pytest.approx(0.944)


def test_curves_and_files(df, tmp_path):
    study = make_study("curves")
    histories = {f"trial {t.number}": t.user_attrs["history"] for t in study.trials if "history" in t.user_attrs}
    fig = figures.curves_figure(histories, "curves")
    val = [t for t in fig.data if t.name == "trial 2 val" and t.xaxis == "x"][0]
    assert list(val.y) == [70.0, 90.0]
    written = figures.write_figure(fig, tmp_path / "curves")
    assert [p.name for p in written] == ["curves.html", "curves.png"]
    assert (tmp_path / "plotly.min.js").is_file()  # shared beside the HTML: opens offline
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*tmp*"))
