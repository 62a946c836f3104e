"""Weight fake quantization of a torch model: post-training (PTQ) and quantization-aware training (QAT).

Every ``nn.Linear`` and ``nn.Conv2d`` weight (also those inside the recurrent cells) is replaced,
through ``torch.nn.utils.parametrize``, by its fake-quantized value, so the same model object serves
PTQ (evaluate as is) and QAT (train: gradients pass the rounding straight through to the float
weights). Biases, batch-norm statistics and peepholes stay float (they are int32 or folded on the
board). Activations stay float unless ``activation_bits`` is given: then every Linear/Conv2d input is
fake-quantized too, over ranges calibrated on the given features (see ``activations``).
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils import parametrize

from nas.export.quant.activations import calibrate_input_ranges, quantize_layer_inputs, track_input_ranges
from nas.export.quant.formats import NumberFormat, fake_quantize
from nas.export.tflite import representative_subset


class _FakeQuantWeight(nn.Module):
    def __init__(self, fmt: NumberFormat) -> None:
        super().__init__()
        self.fmt = fmt

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return fake_quantize(weight, self.fmt)


def quantized_copy(model: nn.Module, fmt: NumberFormat, activation_bits: int | None = None,
                   calibration: torch.Tensor | None = None) -> nn.Module:
    """A deep copy of ``model`` whose Linear/Conv2d weights are fake-quantized to ``fmt``.

    With ``activation_bits``, their inputs are fake-quantized too, over ranges observed on
    ``calibration`` features (with the weights already quantized, as the board would see them).
    """
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            parametrize.register_parametrization(module, "weight", _FakeQuantWeight(fmt))
    if activation_bits is not None:
        if calibration is None:
            raise ValueError("activation quantization needs calibration features")
        quantize_layer_inputs(model, activation_bits, calibrate_input_ranges(model, calibration))
    return model


def accuracy(model: nn.Module, features: torch.Tensor, labels: torch.Tensor, batch: int = 500) -> float:
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(features[i:i + batch]).argmax(1) for i in range(0, len(labels), batch)])
    return float((predictions == labels).float().mean())


def calibration_rows(features: torch.Tensor, size: int = 1000) -> torch.Tensor:
    """A seeded spread of ``features`` (stored class by class: the first rows are one class)."""
    return torch.from_numpy(representative_subset(features.numpy(), size))


def qat_finetune(model: nn.Module, fmt: NumberFormat, features: torch.Tensor, labels: torch.Tensor,
                 steps: int = 200, lr: float = 1e-4, batch: int = 64, seed: int = 0,
                 activation_bits: int | None = None,
                 augment: Callable[[torch.Tensor], torch.Tensor] | None = None) -> nn.Module:
    """A fake-quantized copy of ``model`` fine-tuned for ``steps`` Adam steps (straight-through estimator).

    Batch norm keeps its running statistics (eval mode): they were learnt in float and are folded on
    the board; only the weights adapt to the grid. Activation ranges (with ``activation_bits``) start
    from a calibration on 1,000 of ``features``, follow the data while fine-tuning, and are held after.
    The default ``lr`` is where the float training's schedule ends; ``augment`` (e.g. the trainer's
    `FeatureAugmenter`) transforms each batch, as in float training: without it the fine-tune overfits
    the training voices within a few hundred steps.
    """
    qmodel = quantized_copy(model, fmt, activation_bits, calibration_rows(features))
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(qmodel.parameters(), lr=lr)
    qmodel.eval()
    track_input_ranges(qmodel, True)
    for _ in range(steps):
        idx = torch.randint(0, len(labels), (min(batch, len(labels)),), generator=generator)
        x = features[idx] if augment is None else augment(features[idx])
        loss = nn.functional.cross_entropy(qmodel(x), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    track_input_ranges(qmodel, False)
    return qmodel.eval()
