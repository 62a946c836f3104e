"""Figures of a search (plotly): Pareto fronts with Hello Edge's published points, training curves.

Every figure is written twice, ``<name>.html`` (interactive) and ``<name>.png`` (kaleido; it drives
Chrome, so ``BROWSER_PATH`` is pointed at Debian's ``/usr/bin/chromium`` when that exists).
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

log = logging.getLogger("nas.report")

FEASIBLE, FRONT, INFEASIBLE, PRUNED, REFERENCE = "#1f77b4", "#d62728", "#9e9e9e", "#ff7f0e", "#2ca02c"


def pareto_figure(df: pd.DataFrame, reference: pd.DataFrame, title: str, limits: dict[str, float] | None = None):
    """Accuracy vs memory and vs ops (or latency) for one study.

    Trained feasible trials, the Pareto front, pruned trials (at their last accuracy) and infeasible
    samples (never trained: drawn at accuracy 0, where their cost still shows the budget's edge) are
    marked apart; ``reference`` rows (Hello Edge's published points) are stars; ``limits`` (keys
    ``memory_bytes``, ``ops``) draw the budget as dashed lines.
    """
    from plotly.subplots import make_subplots

    third, third_label = _third_axis(df)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=("accuracy vs memory", f"accuracy vs {third_label}"))
    groups = [
        ("infeasible (not trained)", (df["state"] == "COMPLETE") & ~df["feasible"], INFEASIBLE, "x", True),
        ("pruned", (df["state"] == "PRUNED") & df["trained"], PRUNED, "circle-open", False),
        ("trained", (df["state"] == "COMPLETE") & df["feasible"] & ~df["pareto"], FEASIBLE, "circle", False),
        ("Pareto front", df["pareto"], FRONT, "diamond", False),
    ]
    for col, (x_key, scale) in enumerate((("memory_bytes", 1e3), (third, 1 if third == "latency_ms" else 1e6)), start=1):
        for name, mask, color, symbol, at_zero in groups:
            part = df[mask]
            if part.empty:
                continue
            y = [0.0] * len(part) if at_zero else 100 * part["val_acc"].fillna(0.0)
            fig.add_scatter(
                x=part[x_key] / scale, y=y, mode="markers", name=name, legendgroup=name, showlegend=col == 1,
                marker={"color": color, "symbol": symbol, "size": 9 if name == "Pareto front" else 7},
                text=[f"trial {n}: {s}" for n, s in zip(part["number"], part["model_size_info"])],
                row=1, col=col,
            )
        ref_key = "memory_bytes" if col == 1 else "ops"
        if not reference.empty and (col == 1 or third == "ops"):
            fig.add_scatter(
                x=reference[ref_key] / scale, y=reference["accuracy"] * 100, mode="markers+text",
                name="Hello Edge (published)", legendgroup="ref", showlegend=col == 1,
                marker={"color": REFERENCE, "symbol": "star", "size": 13},
                text=reference["label"], textposition="middle right", row=1, col=col,
            )
        limit = (limits or {}).get(x_key)
        if limit:
            fig.add_vline(x=limit / scale, line_dash="dash", line_color=INFEASIBLE, row=1, col=col)
    fig.update_xaxes(title_text="memory (KB, Hello Edge convention)", row=1, col=1)
    fig.update_xaxes(title_text="latency (ms)" if third == "latency_ms" else "ops (MOps)", row=1, col=2)
    fig.update_yaxes(title_text="validation accuracy (%)", row=1, col=1)
    fig.update_layout(title=title, width=1200, height=520, template="plotly_white")
    return fig


def combined_figure(df: pd.DataFrame, reference: pd.DataFrame, title: str):
    """The Pareto fronts of many studies: colour = architecture, symbol = budget class."""
    import plotly.express as px
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, subplot_titles=("accuracy vs memory", "accuracy vs ops"))
    colors = px.colors.qualitative.D3
    symbols = {"small": "circle", "medium": "square", "large": "diamond"}
    archs = sorted(set(df["arch"]) | set(reference.get("arch", [])))
    front = df[df["pareto"]]
    for col, (key, scale) in enumerate((("memory_bytes", 1e3), ("ops", 1e6)), start=1):
        for i, arch in enumerate(archs):
            for budget_class, part in front[front["arch"] == arch].groupby("budget_class", sort=True):
                part = part.sort_values(key)
                fig.add_scatter(
                    x=part[key] / scale, y=100 * part["val_acc"], mode="lines+markers",
                    name=f"{arch} {budget_class}", legendgroup=f"{arch} {budget_class}", showlegend=col == 1,
                    marker={"color": colors[i % len(colors)], "symbol": symbols.get(budget_class, "circle"), "size": 8},
                    line={"color": colors[i % len(colors)], "width": 1}, row=1, col=col,
                )
            ref = reference[reference["arch"] == arch] if not reference.empty else reference
            if not ref.empty:
                fig.add_scatter(
                    x=ref[key] / scale, y=100 * ref["accuracy"], mode="markers", name=f"{arch} Hello Edge",
                    legendgroup=f"{arch} ref", showlegend=col == 1,
                    marker={"color": colors[i % len(colors)], "symbol": "star", "size": 13, "line": {"width": 1}},
                    row=1, col=col,
                )
    fig.update_xaxes(title_text="memory (KB)", type="log", row=1, col=1)
    fig.update_xaxes(title_text="ops (MOps)", type="log", row=1, col=2)
    fig.update_yaxes(title_text="validation accuracy (%)", row=1, col=1)
    fig.update_layout(title=title, width=1300, height=560, template="plotly_white")
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


def write_figure(fig, stem: Path) -> list[Path]:
    """Write ``stem.html`` (beside one shared plotly.min.js: works offline) and ``stem.png`` atomically.

    A PNG that cannot be rendered (no Chrome) is logged and skipped: the HTML holds the same data.
    """
    stem = Path(stem)
    html = stem.with_suffix(".html")
    with atomic_path(html) as tmp:
        fig.write_html(tmp, include_plotlyjs="directory")
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


def _third_axis(df: pd.DataFrame) -> tuple[str, str]:
    if df["latency_ms"].notna().any():
        return "latency_ms", "latency"
    return "ops", "ops"
