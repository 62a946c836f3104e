"""Accuracy versus bit width: PTQ and QAT integers, and PTQ minifloats, as one table."""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import torch
from torch import nn

from nas.export.quant.fake_quant import accuracy, calibration_rows, qat_finetune, quantized_copy
from nas.export.quant.formats import IntFormat, minifloat_for_bits
from nas.train.trainer import FeatureAugmenter, TrainConfig

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
    """Accuracy (%) vs bits, one line per method (and per model when a ``model`` column is present)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    groups = df.groupby(["model", "method"] if "model" in df.columns else ["method"], sort=False)
    for key, group in groups:
        name = " ".join(key) if isinstance(key, tuple) else str(key)
        fig.add_trace(go.Scatter(x=group["bits"], y=100 * group["accuracy"], mode="lines+markers", name=name,
                                 text=group["format"], hovertemplate="%{text}: %{y:.2f} %<extra></extra>"))
    for value in df["float_accuracy"].unique():
        fig.add_hline(y=100 * value, line_dash="dot", annotation_text=f"float {100 * value:.2f} %")
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=f"{split} accuracy (%)",
                      template="plotly_white", width=900, height=550)
    return fig
