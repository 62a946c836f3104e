"""The sweep's figures (plotly): test accuracy against nonzero parameters, effective MACs, desktop CPU
latency and MCU latency, one colour per curve, solid after fine-tuning and dotted before; the cliff of
each curve is an ×, the unpruned model a star. ``norms_figure`` compares L1, L2 and L∞ on one model."""
from __future__ import annotations

import pandas as pd

AXES = {  # figure stem → (column, scale, axis title)
    "prune_params": ("nonzero_params", 1e3, "nonzero parameters (k)"),
    "prune_macs": ("macs", 1e6, "effective MACs (M, nonzero weights)"),
    "prune_cpu": ("cpu_ms", 1, "desktop CPU latency, batch 1, one thread (ms, median)"),
    "prune_mcu": ("mcu_ms", 1, "MCU latency, emulated board, int8 (sparse filters where faster; ms)"),
}
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _curves(df: pd.DataFrame):
    """((label, colour), rows) per (method, granularity, pattern shape, norm)."""
    pruned = df[df["method"] != "none"].copy()
    pruned["shape"] = pruned["pattern"].where(pruned["granularity"] == "block", "")
    keys = list(dict.fromkeys(zip(pruned["method"], pruned["granularity"], pruned["shape"], pruned["norm"])))
    for i, key in enumerate(keys):
        method, granularity, shape, norm = key
        rows = pruned[(pruned["method"] == method) & (pruned["granularity"] == granularity)
                      & (pruned["shape"] == shape) & (pruned["norm"] == norm)]
        label = " ".join(v for v in (method, granularity, shape, norm) if v)
        yield label, COLOURS[i % len(COLOURS)], rows


def accuracy_figure(df: pd.DataFrame, stem: str, title: str):
    """Test accuracy vs the stem's cost column (``AXES``), every curve with and without fine-tuning."""
    import plotly.graph_objects as go

    column, scale, x_title = AXES[stem]
    fig = go.Figure()
    for label, colour, rows in _curves(df):
        for tuned, dash in ((False, "dot"), (True, "solid")):
            part = rows[rows["finetuned"] == tuned].sort_values("sparsity")
            name = f"{label}, {'fine-tuned' if tuned else 'not fine-tuned'}"
            fig.add_scatter(x=part[column] / scale, y=100 * part["test_acc"], mode="lines+markers", name=name,
                            line={"color": colour, "dash": dash},
                            text=[f"sparsity {s:.3g} {p}" for s, p in zip(part["sparsity"], part["pattern"])])
            cliff = part[part["cliff"]]
            fig.add_scatter(x=cliff[column] / scale, y=100 * cliff["test_acc"], mode="markers", showlegend=False,
                            marker={"symbol": "x", "size": 12, "color": colour}, hoverinfo="skip")
    base = df[df["method"] == "none"]
    fig.add_scatter(x=base[column] / scale, y=100 * base["test_acc"], mode="markers", name="unpruned",
                    marker={"symbol": "star", "size": 14, "color": "black"})
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title="test accuracy (%)", width=1100, height=620,
                      legend={"font": {"size": 10}})
    return fig


def norms_figure(df: pd.DataFrame, title: str):
    """Test accuracy vs sparsity of the curves that differ only by norm (the method and granularity
    with the most norms), with and without fine-tuning; None when no two norms were run."""
    import plotly.graph_objects as go

    pruned = df[df["method"] != "none"]
    counts = pruned.groupby(["method", "granularity"])["norm"].nunique()
    if counts.empty or counts.max() < 2:
        return None
    method, granularity = counts.idxmax()
    rows = pruned[(pruned["method"] == method) & (pruned["granularity"] == granularity)]
    fig = go.Figure()
    for i, norm in enumerate(dict.fromkeys(rows["norm"])):
        for tuned, dash in ((False, "dot"), (True, "solid")):
            part = rows[(rows["norm"] == norm) & (rows["finetuned"] == tuned)].sort_values("sparsity")
            fig.add_scatter(x=part["sparsity"], y=100 * part["test_acc"], mode="lines+markers",
                            name=f"{norm}, {'fine-tuned' if tuned else 'not fine-tuned'}",
                            line={"color": COLOURS[i], "dash": dash})
    base = 100 * float(df.loc[df["method"] == "none", "test_acc"].iloc[0])
    fig.add_hline(y=base, line={"color": "black", "dash": "dash"}, annotation_text="unpruned")
    fig.update_layout(title=f"{title}: L1 vs L2 vs L∞, {method} {granularity}", xaxis_title="sparsity",
                      yaxis_title="test accuracy (%)", width=1000, height=560)
    return fig


def figures(df: pd.DataFrame, title: str) -> dict[str, object]:
    """Figure stem → figure; the MCU figure only when ``mcu_ms`` was measured."""
    out = {stem: accuracy_figure(df, stem, title) for stem, (column, _, _) in AXES.items() if df[column].notna().any()}
    norms = norms_figure(df, title)
    if norms is not None:
        out["prune_norms"] = norms
    return out


def speed_up_figure(kernels: pd.DataFrame, title: str):
    """Sparse-kernel speed-up over the dense kernel vs sparsity, one panel per layer: a colour per
    granularity, solid input-stationary and dashed weight-prioritised; each curve's break-even (speed-up
    1) is a diamond on the dotted line at 1×."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    layers = list(dict.fromkeys(kernels["layer"]))
    fig = make_subplots(rows=1, cols=len(layers), subplot_titles=layers, shared_yaxes=True)
    dashes = {"input-stationary": "solid", "weight-prioritised": "dash"}
    for col, layer in enumerate(layers, start=1):
        for i, granularity in enumerate(dict.fromkeys(kernels["granularity"])):
            for order, dash in dashes.items():
                curve = kernels[(kernels["layer"] == layer) & (kernels["granularity"] == granularity)
                                & (kernels["order"] == order)].sort_values("sparsity")
                if curve.empty:
                    continue
                name = f"{granularity}, {order}"
                fig.add_scatter(x=curve["sparsity"], y=curve["speed_up"], mode="lines+markers", name=name,
                                legendgroup=name, showlegend=col == 1, line={"color": COLOURS[i], "dash": dash},
                                text=curve["format"], row=1, col=col)
                even = curve["break_even"].iloc[0]
                if even == even:  # not nan
                    fig.add_scatter(x=[even], y=[1.0], mode="markers", legendgroup=name, showlegend=False,
                                    marker={"symbol": "diamond", "size": 11, "color": COLOURS[i]},
                                    hovertext=f"{name}: break-even {even:.2f}", row=1, col=col)
        fig.add_hline(y=1.0, line={"color": "black", "dash": "dot"}, row=1, col=col)
        fig.update_xaxes(title_text="sparsity (pruned fraction of the filter)", row=1, col=col)
    fig.update_yaxes(title_text="speed-up over the dense int8 kernel (×)", row=1, col=1)
    fig.update_layout(title=f"{title}: sparse kernels on the emulated board (break-even ◆)", width=1200, height=560)
    return fig
