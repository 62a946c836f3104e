"""Accuracy versus bit width: PTQ and QAT integers, and PTQ minifloats, as one table."""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import torch
from torch import nn

from nas.export.quant.fake_quant import accuracy, calibration_rows, qat_finetune, quantized_copy
from nas.export.quant.formats import IntFormat, minifloat_for_bits
from nas.train.config import TrainConfig
from nas.train.trainer import FeatureAugmenter

COLUMNS = ["method", "bits", "format", "activation_bits", "accuracy", "float_accuracy"]
SAME = "same"  # activation_bits: as wide as the weights
# QAT batches get the search's default augmentation (nas/conf/config.yaml, train.*).
QAT_AUGMENTATION = TrainConfig(time_shift_frames=5, time_mask_frames=4, freq_mask_bins=2)


def bit_sweep(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor], scored: tuple[torch.Tensor, torch.Tensor],
              bits: Iterable[int] = range(2, 9), symmetric: bool = True, per_channel: bool = True,
              qat_steps: int = 200, exponent_bits: int | None = None, activation_bits: int | str | None = None,
              progress=None) -> pd.DataFrame:
    """One row per (method, bits): ``ptq`` and ``qat`` integers, ``minifloat`` PTQ; accuracy on ``scored``.

    Score on a split the model was not selected on (the test split for a search's trial): the
    validation accuracy of a checkpoint chosen by validation accuracy is optimistic, and any
    fine-tune, QAT included, regresses from it.

    Args:
        train: features and labels for calibration and for QAT, which augments them as the search's
            training does (`QAT_AUGMENTATION`).
        activation_bits: None keeps activations float; an int quantizes every layer input to that
            width at every weight width; ``"same"`` to the weight width (W4A4, W8A8, ...).
            Activation ranges are calibrated on the training features.
        progress: optional callable run after each row (e.g. a tqdm ``update``).
    """
    float_acc = accuracy(model, *scored)
    calibration = calibration_rows(train[0])
    fill = train[0].mean(dim=(0, 1))
    rows = []
    for b in bits:
        a_bits = b if activation_bits == SAME else activation_bits
        fmt = IntFormat(b, symmetric, per_channel)
        rows.append(("ptq", b, fmt.label, a_bits, accuracy(quantized_copy(model, fmt, a_bits, calibration), *scored)))
        augment = FeatureAugmenter(QAT_AUGMENTATION, fill, torch.Generator().manual_seed(b))
        qat = qat_finetune(model, fmt, *train, steps=qat_steps, activation_bits=a_bits, augment=augment)
        rows.append(("qat", b, fmt.label, a_bits, accuracy(qat, *scored)))
        if exponent_bits is None or exponent_bits <= b - 1:  # else no minifloat of b bits has that exponent
            mini = minifloat_for_bits(b, exponent_bits, per_channel)
            rows.append(("minifloat", b, mini.label, a_bits,
                         accuracy(quantized_copy(model, mini, a_bits, calibration), *scored)))
        if progress is not None:
            progress()
    return pd.DataFrame([(*r, float_acc) for r in rows], columns=COLUMNS).astype({"activation_bits": "Int64"})


def sweep_figure(df: pd.DataFrame, title: str, x_title: str = "weight bits", split: str = "test"):
    """Accuracy (%) vs bits, one line per method and model (a ``model`` column: ``"<label>: <description>"``).

    Colour = method, dash and symbol = model. Legend entries stay short (label and method) and sit
    under the plot, so long model descriptions cannot squeeze it: each description is in its lines'
    hover text and in the legend's title.
    """
    import plotly.express as px
    import plotly.graph_objects as go

    df = df.assign(model=df["model"] if "model" in df.columns else "model")
    labels = {m: m.split(": ", 1)[0] for m in df["model"].unique()}
    methods = list(dict.fromkeys(df["method"]))
    colours = {m: px.colors.qualitative.D3[i % 10] for i, m in enumerate(methods)}
    styles = [("solid", "circle"), ("dash", "square"), ("dot", "diamond"), ("dashdot", "triangle-up")]
    fig = go.Figure()
    for i, model in enumerate(labels):
        dash, symbol = styles[i % len(styles)]
        for method in methods:
            group = df[(df["model"] == model) & (df["method"] == method)]
            if group.empty:
                continue
            name = f"{labels[model]} {method}" if len(labels) > 1 else method
            fig.add_trace(go.Scatter(
                x=group["bits"], y=100 * group["accuracy"], mode="lines+markers", name=name, text=group["format"],
                line={"color": colours[method], "dash": dash}, marker={"symbol": symbol, "size": 8},
                hovertemplate=f"{model}<br>{method} %{{text}}: %{{y:.2f}} %<extra></extra>"))
        float_acc = 100 * df.loc[df["model"] == model, "float_accuracy"].iloc[0]
        fig.add_hline(y=float_acc, line_dash="dot", line_color="#777777", annotation_position="top left",
                      annotation_text=f"{labels[model]} float {float_acc:.2f} %" if len(labels) > 1 else f"float {float_acc:.2f} %")
    note = "<br>".join(_shorten(m) for m in labels if m != "model")
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=f"{split} accuracy (%)", template="plotly_white",
                      width=900, height=560 + 16 * len(labels),
                      legend={"orientation": "h", "x": 0, "y": -0.14, "xanchor": "left", "yanchor": "top",
                              "title": {"text": note, "side": "top", "font": {"size": 11}}})
    return fig


def _shorten(text: str, width: int = 120) -> str:
    """One line of the note; the whole description stays in the hover text."""
    return text if len(text) <= width else text[: width - 1] + "…"
