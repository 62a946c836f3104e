"""The posteriors of a stream over time, with the detections and the labelled words."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nas.stream.metrics import Detection, Word

FIRST_VIEW_S = 60.0  # the PNG (and the HTML's opening view) shows this much; the HTML pans over all of it


def plot_stream(times_s: np.ndarray, scores: np.ndarray, class_names: list[str], keywords: list[str],
                detections: list[Detection], words: list[Word], threshold: int, title: str, stem: Path) -> list[Path]:
    """Per-inference keyword scores (0..1), the averaged detection threshold, detections and label spans."""
    import plotly.graph_objects as go

    from nas.report.figures import write_figure

    fig = go.Figure()
    for name in keywords:
        column = class_names.index(name)
        fig.add_trace(go.Scattergl(x=times_s, y=scores[:, column] / 255, mode="lines", name=name,
                                   line={"width": 1}, legendgroup=name))
    fig.add_hline(y=threshold / 255, line_dash="dash", line_color="gray",
                  annotation_text=f"threshold {threshold}/255 (on the average)", annotation_position="top left")
    for word in words:
        is_keyword = word.label in keywords
        fig.add_vrect(x0=word.time_s, x1=word.end_s, line_width=0, opacity=0.25 if is_keyword else 0.12,
                      fillcolor="seagreen" if is_keyword else "gray", layer="below")
    if words:
        fig.add_trace(go.Scatter(x=[(w.time_s + w.end_s) / 2 for w in words], y=[1.06] * len(words), mode="text",
                                 text=[w.label for w in words], name="labelled words", textfont={"size": 10}))
    if detections:
        fig.add_trace(go.Scatter(x=[d.time_s for d in detections], y=[d.score / 255 for d in detections],
                                 mode="markers+text", text=[d.label for d in detections], textposition="bottom center",
                                 marker={"symbol": "triangle-down", "size": 11, "color": "crimson"},
                                 name="detections (averaged score)"))
    end = float(times_s[-1]) if len(times_s) else FIRST_VIEW_S
    fig.update_layout(title={"text": title, "font": {"size": 14}}, template="plotly_white", width=1400, height=520,
                      xaxis={"title": "time (s)", "range": [0, min(end, FIRST_VIEW_S)]},
                      yaxis={"title": "score (softmax of the int8 output)", "range": [0, 1.12]},
                      legend={"orientation": "h", "y": -0.18})
    return write_figure(fig, stem)
