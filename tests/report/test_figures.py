"""Pareto and curve figures: which trials land in which trace, and real HTML + PNG files."""
import re

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState, create_trial

from nas.report import figures
from nas.report.study_report import load_reference
from nas.results.place import MARKER
from nas.results.trials import COLUMNS, trials_frame
from .report_study_factory import make_study

PAPER = pd.DataFrame({"arch": ["dnn"], "budget_class": ["small"], "accuracy": [0.846],
                      "memory_bytes": [79_000], "ops": [5.5e6], "label": ["HE dnn small"]})
LIMITS = {"memory_bytes": 80_000, "ops": 6e6}


def _add_hello_edge(study: optuna.Study, accuracy: float = 0.85, memory: int = 55_000) -> None:
    """The enqueued published configuration, trained like the others (on the front: 0.85 at 55 KB)."""
    attrs = {**study.trials[0].user_attrs, "hello_edge": study.user_attrs["constraints"], "best_val_acc": accuracy,
             "memory_bytes": memory, "ops": 4e6, "checkpoint": f"trials/{len(study.trials)}/model.pt"}
    study.add_trial(create_trial(state=TrialState.COMPLETE, values=[accuracy, memory, 4e6], user_attrs=attrs,
                                 system_attrs={"constraints:memory_bytes": -1.0}))


@pytest.fixture(scope="module")
def df():
    return trials_frame(make_study())


@pytest.fixture(scope="module")
def df_he():
    study = make_study()
    _add_hello_edge(study)
    return trials_frame(study)


def _traces(fig, name, col, row=1):
    xaxis = {(1, 1): "x", (1, 2): "x2", (2, 1): "x3", (2, 2): "x4"}[(row, col)]
    return [t for t in fig.data if t.name == name and t.xaxis == xaxis]


def test_pareto_figure_separates_front_trained_pruned_and_infeasible(df):
    fig = figures.pareto_figure(df, PAPER, "t", LIMITS)
    front = _traces(fig, "Pareto front", 1)[0]
    assert list(front.x) == [40.0, 70.0] and list(front.y) == [80.0, 90.0]  # KB, %
    assert list(_traces(fig, "trained", 2)[0].x) == [3.0]  # MOps
    assert list(_traces(fig, "pruned", 1)[0].y) == [35.0]
    assert [s.x0 for s in fig.layout.shapes] == [80.0, 6.0]  # the budget, dashed


def test_infeasible_samples_sit_in_a_strip_and_far_ones_do_not_stretch_the_axis(df):
    fig = figures.pareto_figure(df, PAPER, "t", LIMITS)
    assert not _traces(fig, "infeasible (not trained)", 1) and not _traces(fig, "infeasible, past the axis (→)", 1)
    far = _traces(fig, "infeasible, past the axis (→)", 1, row=2)[0]  # trial 3: 300 KB against an 80 KB budget
    end = fig.layout.xaxis3.range[1]
    assert 80 <= end < 100 and list(far.x) == [end] and list(far.y) == [0.0]
    assert "memory (KB): 300" in far.hovertext[0]  # its real memory, where a reader looks for it
    assert fig.layout.xaxis.range[1] == end  # the accuracy panel shares the clipped axis
    low, high = fig.layout.yaxis.range
    assert 0 < low <= 35 and 90 <= high < 100  # the accuracy axis is not stretched down to 0 for them


def test_hello_edge_is_the_studys_own_trial_and_the_paper_is_a_note(df_he):
    fig = figures.pareto_figure(df_he, PAPER, "t", LIMITS)
    star = _traces(fig, "Hello Edge (this study)", 1)[0]
    assert list(star.x) == [55.0] and list(star.y) == [85.0]
    assert star.marker.line.color[0] == figures.FRONT  # on the front: red rim
    assert star.cliponaxis is False and star.textposition[0] == "middle left"  # 55 of 86 KB: room is on the left
    assert not [t for t in fig.data if "published" in (t.name or "")]
    assert all(84.6 not in [round(float(v), 1) for v in t.y] for t in fig.data)  # no point at the paper's accuracy
    notes = [a.text for a in fig.layout.annotations if "Hello Edge paper" in a.text]
    assert len(notes) == 1 and "real speech, their training" in notes[0] and "dnn small 84.6 %" in notes[0]


def test_accuracy_axis_is_the_objective_the_study_optimised():
    base = make_study("float")
    study = optuna.create_study(study_name="int8", directions=base.directions)
    for key, value in {**base.user_attrs, "accuracy_objective": "int8"}.items():
        study.set_user_attr(key, value)
    for t in base.trials:  # int8 accuracy 10 points under float on every trained trial
        attrs = {**t.user_attrs, **({"val_acc_int8": t.user_attrs["best_val_acc"] - 0.1} if "best_val_acc" in t.user_attrs else {})}
        study.add_trial(create_trial(state=t.state, values=t.values, user_attrs=attrs, system_attrs=t.system_attrs))
    df = trials_frame(study)
    fig = figures.pareto_figure(df, PAPER, "t", LIMITS)
    front = _traces(fig, "Pareto front", 1)[0]
    assert list(front.y) == [pytest.approx(70.0), pytest.approx(80.0)]
    assert "int8" in fig.layout.yaxis.title.text


def test_combined_figure_stars_only_searched_cells_in_distinct_colours():
    reference = load_reference()
    if reference.empty:
        pytest.skip("results/reference/hello_edge.csv missing")
    small, medium = make_study("dnn_small"), make_study("dnn_medium")
    medium.set_user_attr("constraints", "medium")
    _add_hello_edge(small)
    df = pd.concat([trials_frame(small), trials_frame(medium)], ignore_index=True)
    fig = figures.combined_figure(df, reference, "t")
    stars = [t for t in fig.data if t.marker.symbol == "star"]
    assert [t.name for t in stars] == ["dnn small Hello Edge"] * 2  # one per panel; medium queued none
    fronts = {t.name: t.marker.color for t in fig.data if t.marker.symbol != "star" and t.xaxis == "x"}
    assert set(fronts) == {"dnn small", "dnn medium"} and len(set(fronts.values())) == 2
    assert stars[0].marker.color == fronts["dnn small"]
    (note,) = [a.text for a in fig.layout.annotations if "Hello Edge paper" in a.text]
    assert "dnn small 84.6 %" in note and "dnn medium 86.4 %" in note and "ds_cnn" not in note


def test_many_cells_get_many_colours():
    cells = [(a, c) for a in ("dnn", "cnn", "ds_cnn", "lstm", "gru") for c in ("small", "medium", "large")]
    df = pd.DataFrame([{"arch": a, "budget_class": c, "state": "COMPLETE", "feasible": True, "pareto": True,
                        "hello_edge": False, "accuracy": 0.9, "val_acc": 0.9, "memory_bytes": 5e4, "ops": 1e6,
                        "number": 0, "model_size_info": ""} for a, c in cells], columns=COLUMNS)
    fig = figures.combined_figure(df, pd.DataFrame(columns=PAPER.columns), "t")
    colors = [t.marker.color for t in fig.data if t.xaxis == "x"]
    assert len(colors) == 15 and len(set(colors)) == 15


def _script_src(html) -> str:
    (src,) = re.findall(r'<script[^>]*src="([^"]+)"', html.read_text())
    return src


def test_one_plotly_js_per_results_tree(tmp_path):
    root = tmp_path / "results"
    for study in ("dnn_small", "dnn_medium"):
        (root / study).mkdir(parents=True)
        (root / study / MARKER).write_text("{}")
    fig = figures.curves_figure({"t": [{"epoch": 1, "train_acc": 0.5, "val_acc": 0.5, "train_loss": 1, "val_loss": 1}]}, "c")
    for stem in ("dnn_small/pareto", "dnn_medium/pareto", "pareto", "dnn_small/quant_sweep/quant_sweep", "quant_sweep/q"):
        figures.write_figure(fig, root / stem)
    assert list(tmp_path.rglob("plotly.min.js")) == [root / "plotly.min.js"]
    for html in root.rglob("*.html"):
        assert (html.parent / _script_src(html)).resolve() == (root / "plotly.min.js").resolve()
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    root.rename(moved)  # relative paths: the tree opens wherever it goes
    assert all((h.parent / _script_src(h)).is_file() for h in moved.rglob("*.html"))


def test_a_stale_plotly_js_is_replaced(tmp_path):
    (tmp_path / "plotly.min.js").write_text("/**\n* plotly.js v0.0.1\n*/")
    figures.write_figure(figures.curves_figure({}, "c"), tmp_path / "c")
    from plotly.offline import get_plotlyjs_version

    assert f"plotly.js v{get_plotlyjs_version()}" in (tmp_path / "plotly.min.js").read_text()[:200]


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


def test_strip_axes_stay_drawn_without_infeasible_samples(df):
    trained_only = df[df["feasible"] | (df["state"] != "COMPLETE")]
    fig = figures.pareto_figure(trained_only, PAPER, "t", LIMITS)
    for axis in ("x3", "x4"):  # plotly leaves out the ticks and title of an axis holding no trace
        assert [t for t in fig.data if t.xaxis == axis]
    assert fig.layout.xaxis3.title.text.startswith("memory") and fig.layout.xaxis4.title.text.startswith("ops")
