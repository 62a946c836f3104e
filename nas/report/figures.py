"""Figures of a search (plotly): Pareto fronts with the study's own Hello Edge trial, training curves.

Every figure is written twice, ``<name>.html`` (interactive; plotly.js from one shared copy per results
tree, :func:`shared_plotlyjs`) and ``<name>.png`` (kaleido; it drives Chrome, so ``BROWSER_PATH`` is
pointed at Debian's ``/usr/bin/chromium`` when that exists).
"""
from __future__ import annotations

import atexit
import functools
import logging
import os
import warnings
from pathlib import Path

import pandas as pd

from nas.atomic import atomic_path
from nas.results.place import MARKER

log = logging.getLogger("nas.report")

FEASIBLE, FRONT, INFEASIBLE, PRUNED, REFERENCE = "#1f77b4", "#d62728", "#9e9e9e", "#ff7f0e", "#2ca02c"
PAPER_NOTE = "Hello Edge paper (real speech, their training; not comparable with accuracy on this study's data):"
PLOTLY_JS = "plotly.min.js"


def pareto_figure(df: pd.DataFrame, reference: pd.DataFrame, title: str, limits: dict[str, float] | None = None):
    """Accuracy (the objective the study optimised, column ``accuracy``) vs memory and vs ops (or latency).

    Trained feasible trials, the Pareto front and pruned trials (at their last float validation
    accuracy, the curve they were pruned on) share the accuracy axis; the study's own Hello Edge trial
    (the published configuration trained on this study's data with its recipe) is a star among them.
    Infeasible samples were never trained: they sit in a strip below at their cost. The x axes end a
    little past the budget and the trained trials, so far-out samples do not squash the feasible
    region: those sit at the strip's right edge as arrows. ``reference`` rows (Hello Edge's *paper*
    figures: real speech, their training) are not comparable with this axis, so they are a note under
    the plot, not points. ``limits`` (keys ``memory_bytes``, ``ops``) draw the budget as dashed lines.
    """
    from plotly.subplots import make_subplots

    third, third_label = _third_axis(df)
    # The rows' y ranges are set, not shared: this plotly.js leaves a 2 x 2 grid's shared axis unranged.
    fig = make_subplots(rows=2, cols=2, shared_xaxes=True, row_heights=[0.84, 0.16],
                        vertical_spacing=0.04, horizontal_spacing=0.06,
                        subplot_titles=("accuracy vs memory", f"accuracy vs {third_label}", "", ""))
    y, in_strip = _accuracy_positions(df)
    groups = [
        ("pruned", (df["state"] == "PRUNED") & ~in_strip, PRUNED, "circle-open"),
        ("trained", (df["state"] == "COMPLETE") & df["feasible"] & ~df["pareto"] & ~in_strip, FEASIBLE, "circle"),
        ("Pareto front", df["pareto"], FRONT, "diamond"),
    ]
    mine = df["hello_edge"] & (y.notna() | in_strip)
    legend: set[str] = set()  # a strip group may show in one panel only: its legend entry comes once
    axes = (("memory_bytes", 1e3, "memory (KB)"),
            (third, 1, "latency (ms)") if third == "latency_ms" else (third, 1e6, "ops (MOps)"))
    for col, (x_key, scale, unit) in enumerate(axes, start=1):
        x = (df[x_key] / scale).rename(unit)
        limit = (limits or {}).get(x_key)
        x_max = _axis_end(x[y.notna()], x[in_strip], limit / scale if limit else None)
        for name, mask, color, symbol in groups:
            if mask.any():
                fig.add_scatter(x=x[mask], y=100 * y[mask], mode="markers", name=name, legendgroup=name,
                                showlegend=col == 1, text=_hover(df[mask]), row=1, col=col,
                                marker={"color": color, "symbol": symbol, "size": 9 if name == "Pareto front" else 7})
        _add_strip(fig, df, x, in_strip, x_max, col, legend)
        if mine.any():
            _add_hello_edge(fig, df[mine], x[mine], y[mine], in_strip[mine], x_max, col)
        fig.update_xaxes(range=[0, x_max], col=col)
        if limit:
            xref = "x" if col == 1 else "x2"
            fig.add_shape(type="line", x0=limit / scale, x1=limit / scale, xref=xref, y0=0, y1=1, yref="paper",
                          line={"dash": "dash", "color": INFEASIBLE})
    fig.update_xaxes(title_text="memory (KB, Hello Edge convention)", row=2, col=1)
    fig.update_xaxes(title_text=axes[1][2], row=2, col=2)
    shown = 100 * y.dropna()
    pad = max(2.0, 0.08 * (shown.max() - shown.min())) if len(shown) else 0.0
    fig.update_yaxes(range=[shown.min() - pad, shown.max() + pad] if len(shown) else [0, 100], row=1)
    fig.update_yaxes(title_text=f"{_accuracy_name(df)} (%)", row=1, col=1)
    fig.update_yaxes(showticklabels=False, row=1, col=2)
    fig.update_yaxes(range=[-1, 1], showticklabels=False, showgrid=False, zeroline=False, row=2)
    fig.update_yaxes(title_text="not<br>trained", row=2, col=1)
    fig.update_layout(title=title, width=1200, height=600, template="plotly_white", margin={"b": 110})
    _paper_note(fig, reference)
    return fig


def _add_strip(fig, df: pd.DataFrame, x: pd.Series, in_strip: pd.Series, x_max: float, col: int, legend: set[str]) -> None:
    """Infeasible samples at their cost in the strip; those past ``x_max`` as arrows at its edge, counted."""
    # An empty trace keeps the strip's axis (ticks and title) drawn when no sample was infeasible.
    fig.add_scatter(x=[], y=[], showlegend=False, hoverinfo="skip", row=2, col=col)
    for name, mask, symbol in (("infeasible (not trained)", in_strip & (x <= x_max), "x"),
                               ("infeasible, past the axis (→)", in_strip & (x > x_max), "triangle-right")):
        n = int(mask.sum())
        if n:
            count = [str(n) if symbol != "x" and i == 0 else "" for i in range(n)]
            fig.add_scatter(x=x[mask].clip(upper=x_max), y=[0.0] * n, mode="markers+text", name=name, legendgroup=name,
                            showlegend=name not in legend, row=2, col=col, cliponaxis=False, text=count,
                            textposition="top center",
                            hovertext=[f"{h}<br>{x.name}: {v:g}" for h, v in zip(_hover(df[mask]), x[mask])],
                            marker={"color": INFEASIBLE, "symbol": symbol, "size": 8})
            legend.add(name)


def _add_hello_edge(fig, rows: pd.DataFrame, x: pd.Series, y: pd.Series, in_strip: pd.Series, x_max: float,
                    col: int) -> None:
    """The study's own Hello Edge trial as a star (red rim when on the front), labelled inside the panel."""
    label = [f"Hello Edge {a} {c}" + (" (over budget)" if strip else "")
             for a, c, strip in zip(rows["arch"], rows["budget_class"], in_strip)]
    right = x < 0.6 * x_max  # a label on the far side of the panel would be cut at its edge
    fig.add_scatter(x=x.clip(upper=x_max), y=100 * y.fillna(0.0), mode="markers+text", name="Hello Edge (this study)",
                    legendgroup="hello_edge", showlegend=col == 1, text=label, cliponaxis=False,
                    textposition=["middle right" if r else "middle left" for r in right],
                    hovertext=_hover(rows), row=2 if in_strip.all() else 1, col=col,
                    marker={"color": REFERENCE, "symbol": "star", "size": 14,
                            "line": {"width": 2, "color": [FRONT if p else "#333333" for p in rows["pareto"]]}})


def combined_figure(df: pd.DataFrame, reference: pd.DataFrame, title: str):
    """The Pareto fronts of many studies: one colour per searched (architecture, class) cell, symbol = class.

    Each cell's own Hello Edge trial is a star in the cell's colour; the paper's figures for the
    searched cells (``reference`` rows; real speech, their training) are a note, not points.
    """
    import plotly.express as px
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=("accuracy vs memory", "accuracy vs ops"))
    cells = sorted(set(zip(df["arch"], df["budget_class"])))
    palette = px.colors.qualitative.D3 if len(cells) <= len(px.colors.qualitative.D3) else px.colors.qualitative.Dark24
    symbols = {"small": "circle", "medium": "square", "large": "diamond"}
    y, _ = _accuracy_positions(df)
    done = (df["state"] == "COMPLETE") & df["feasible"] & y.notna()
    for col, (key, scale) in enumerate((("memory_bytes", 1e3), ("ops", 1e6)), start=1):
        for i, (arch, budget_class) in enumerate(cells):
            color, cell = palette[i % len(palette)], (df["arch"] == arch) & (df["budget_class"] == budget_class)
            front = df[cell & df["pareto"]].sort_values(key)
            if not front.empty:
                fig.add_scatter(
                    x=front[key] / scale, y=100 * y[front.index], mode="lines+markers", name=f"{arch} {budget_class}",
                    legendgroup=f"{arch} {budget_class}", showlegend=col == 1, text=_hover(front),
                    marker={"color": color, "symbol": symbols.get(budget_class, "circle"), "size": 8},
                    line={"color": color, "width": 1}, row=1, col=col,
                )
            mine = cell & df["hello_edge"] & done
            if mine.any():
                fig.add_scatter(
                    x=df.loc[mine, key] / scale, y=100 * y[mine], mode="markers", name=f"{arch} {budget_class} Hello Edge",
                    legendgroup=f"{arch} {budget_class}", showlegend=col == 1, text=_hover(df[mine]),
                    marker={"color": color, "symbol": "star", "size": 14, "line": {"width": 1, "color": "black"}},
                    row=1, col=col,
                )
    fig.update_xaxes(title_text="memory (KB)", type="log", row=1, col=1)
    fig.update_xaxes(title_text="ops (MOps)", type="log", row=1, col=2)
    fig.update_yaxes(title_text=f"{_accuracy_name(df)} (%)", row=1, col=1)
    fig.update_layout(title=title, width=1300, height=600, template="plotly_white", margin={"b": 110})
    searched = [cell in cells for cell in zip(reference["arch"], reference["budget_class"])]
    _paper_note(fig, reference[searched] if searched else reference)
    return fig


def curves_figure(histories: dict[str, list[dict]], title: str):
    """Training and validation accuracy and loss per epoch; ``histories`` maps a label to its epochs."""
    import plotly.express as px
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"))
    colors = px.colors.qualitative.D3
    for i, (label, history) in enumerate(histories.items()):
        epochs = [h["epoch"] for h in history]
        color = colors[i % len(colors)]
        for col, key in ((1, "acc"), (2, "loss")):
            scale = 100 if key == "acc" else 1
            fig.add_scatter(x=epochs, y=[scale * h[f"val_{key}"] for h in history], mode="lines+markers",
                            name=f"{label} val", legendgroup=label, showlegend=col == 1, line={"color": color}, row=1, col=col)
            fig.add_scatter(x=epochs, y=[scale * h[f"train_{key}"] for h in history], mode="lines",
                            name=f"{label} train", legendgroup=label, showlegend=col == 1,
                            line={"color": color, "dash": "dot"}, row=1, col=col)
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="accuracy (%)", row=1, col=1)
    fig.update_yaxes(title_text="cross-entropy", row=1, col=2)
    fig.update_layout(title=title, width=1200, height=480, template="plotly_white")
    return fig


def latency_figure(df: pd.DataFrame, title: str):
    """Measured vs predicted network latency of the trials measured on a board (the board's latency
    model predicts before training; the board measures after), with the ±5 % band around equality."""
    import plotly.graph_objects as go

    from nas.results.trials import measured_latency

    both = measured_latency(df)
    top = 1.1 * float(max(both["latency_ms"].max(), both["latency_ms_predicted"].max()))
    fig = go.Figure()
    for factor, dash in ((1.0, "solid"), (1.05, "dot"), (0.95, "dot")):
        fig.add_scatter(x=[0, top], y=[0, factor * top], mode="lines", line={"color": "grey", "dash": dash},
                        name="measured = predicted" if factor == 1 else f"{factor - 1:+.0%}", hoverinfo="skip")
    error = 100 * (both["latency_ms_predicted"] / both["latency_ms"] - 1)
    fig.add_scatter(x=both["latency_ms_predicted"], y=both["latency_ms"], mode="markers", name="trained trials",
                    text=[f"trial {n} ({a}): prediction {e:+.1f} %" for n, a, e in zip(both["number"], both["arch"], error)])
    fig.update_layout(title=title, width=720, height=600, template="plotly_white",
                      xaxis_title="predicted before training (ms)", yaxis_title="measured on the board (ms)")
    return fig


def write_figure(fig, stem: Path) -> list[Path]:
    """Write ``stem.html`` (with one shared plotly.min.js: works offline) and ``stem.png`` atomically.

    The HTML loads plotly.js by a relative path from :func:`shared_plotlyjs` (one copy per results
    tree, not 4.8 MB per folder), so the tree opens offline and still works when moved as a whole.
    A PNG that cannot be rendered (no Chrome) is logged and skipped: the HTML holds the same data.
    """
    stem = Path(stem)
    html = stem.with_suffix(".html")
    script = shared_plotlyjs(html.parent)
    with atomic_path(html) as tmp:
        fig.write_html(tmp, include_plotlyjs=Path(os.path.relpath(script, html.parent)).as_posix())
    written = [html]
    png = stem.with_suffix(".png")
    try:
        _start_png_server()
        with atomic_path(png) as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "kopts ignored with a server": we pass none
            fig.write_image(tmp)
        written.append(png)
    except Exception as err:  # kaleido/Chrome missing or crashed: the HTML is still there
        log.warning("could not render %s (%s); %s has the same figure", png, err, html)
    return written


def shared_plotlyjs(folder: Path) -> Path:
    """The results tree's one ``plotly.min.js`` for figures in ``folder``, written when missing or stale.

    It lives in the tree's root, the folder holding the study folders (a search's ``results_dir``,
    shared by all studies of a multirun), when ``folder`` is or lies inside a study folder, or is
    that root (a combined report) or a sub-folder of it (quant-sweep of a multirun); else in
    ``folder`` itself (plot-audio, bench). A copy of another plotly.js version is replaced: an HTML
    needs the version it was written for.
    """
    from plotly.offline import get_plotlyjs, get_plotlyjs_version

    script = _tree_root(Path(folder).absolute()) / PLOTLY_JS
    version = f"plotly.js v{get_plotlyjs_version()}"
    if not script.is_file() or version not in _head(script):
        script.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(script) as tmp:
            Path(tmp).write_text(get_plotlyjs())
    return script


def _head(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read(200)  # the banner naming the version, not all 4.8 MB


def _tree_root(folder: Path) -> Path:
    for above in (folder, *folder.parents):
        if (above / MARKER).is_file():
            return above.parent
    if _holds_studies(folder):
        return folder
    if (folder.parent / PLOTLY_JS).is_file() and _holds_studies(folder.parent):  # the root has its copy already
        return folder.parent
    return folder


def _holds_studies(folder: Path) -> bool:
    return folder.is_dir() and any((child / MARKER).is_file() for child in folder.iterdir())


@functools.cache
def _start_png_server() -> None:
    """One Chrome for all PNGs of this process: ≈ 0.3 s per figure instead of ≈ 5 s."""
    import kaleido

    if "BROWSER_PATH" not in os.environ and Path("/usr/bin/chromium").exists():
        os.environ["BROWSER_PATH"] = "/usr/bin/chromium"
    for name in ("kaleido", "choreographer"):  # their INFO lines would flood the search's console
        logging.getLogger(name).setLevel(logging.WARNING)
    kaleido.start_sync_server(silence_warnings=True)
    atexit.register(kaleido.stop_sync_server, silence_warnings=True)


def _accuracy_positions(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(accuracy 0..1 on the main panels or NaN, whether the row sits in the not-trained strip)."""
    trained = (df["state"] == "COMPLETE") & df["feasible"]
    y = df["accuracy"].where(trained, df["val_acc"].where(df["state"] == "PRUNED"))
    return y.astype(float), (df["state"] == "COMPLETE") & ~df["feasible"]


def _axis_end(shown: pd.Series, strip: pd.Series, limit: float | None) -> float:
    """The x range's end: a little past the budget and every trained point (all of the strip if none)."""
    ends = [v for v in (shown.max(), limit) if v is not None and pd.notna(v)]
    if not ends:
        ends = [v for v in (strip.max(),) if pd.notna(v)] or [1.0]
    return 1.08 * max(ends)


def _accuracy_name(df: pd.DataFrame) -> str:
    """What the ``accuracy`` column holds: the int8 figure when it is the int8 one on every trained row."""
    trained = df[(df["state"] == "COMPLETE") & df["feasible"] & df["accuracy"].notna()]
    int8 = not trained.empty and bool((trained["accuracy"] == trained["val_acc_int8"]).all())
    return "int8 validation accuracy (TFLite Micro)" if int8 else "validation accuracy"


def _hover(rows: pd.DataFrame) -> list[str]:
    return [f"trial {n}: {a} {s}" for n, a, s in zip(rows["number"], rows["arch"], rows["model_size_info"])]


def _paper_note(fig, reference: pd.DataFrame) -> None:
    """Hello Edge's published figures as text under the plot: their data and training, not this axis."""
    if reference.empty:
        return
    entries = [f"{a} {c} {100 * acc:.1f} % at {m / 1e3:.1f} KB"
               for a, c, acc, m in zip(reference["arch"], reference["budget_class"], reference["accuracy"],
                                       reference["memory_bytes"])]
    lines = ["; ".join(entries[i:i + 4]) for i in range(0, len(entries), 4)]
    fig.add_annotation(text=PAPER_NOTE + "<br>" + "<br>".join(lines), xref="paper", yref="paper", x=0, y=-0.17,
                       xanchor="left", yanchor="top", showarrow=False, align="left", font={"size": 11})
    fig.update_layout(margin={"b": 120 + 16 * len(lines)})


def _third_axis(df: pd.DataFrame) -> tuple[str, str]:
    if df["latency_ms"].notna().any():
        return "latency_ms", "latency"
    return "ops", "ops"
