"""Weight fake quantization of a torch model: post-training (PTQ) and quantization-aware training (QAT).

Every ``nn.Linear`` and ``nn.Conv2d`` weight (also those inside the recurrent cells) is replaced,
through ``torch.nn.utils.parametrize``, by its fake-quantized value, so the same model object serves
PTQ (evaluate as is) and QAT (train: gradients pass the rounding straight through to the float
weights). Biases, batch-norm statistics and peepholes stay float (they are int32 or folded on the
board), and activations stay float: this studies the weights' bit width alone.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import parametrize

from nas.export.quant.formats import NumberFormat, fake_quantize


class _FakeQuantWeight(nn.Module):
    def __init__(self, fmt: NumberFormat) -> None:
        super().__init__()
        self.fmt = fmt

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return fake_quantize(weight, self.fmt)


def quantized_copy(model: nn.Module, fmt: NumberFormat) -> nn.Module:
    """A deep copy of ``model`` whose Linear/Conv2d weights are fake-quantized to ``fmt``."""
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            parametrize.register_parametrization(module, "weight", _FakeQuantWeight(fmt))
    return model


def accuracy(model: nn.Module, features: torch.Tensor, labels: torch.Tensor, batch: int = 500) -> float:
    model.eval()
    with torch.no_grad():
        predictions = torch.cat([model(features[i:i + batch]).argmax(1) for i in range(0, len(labels), batch)])
    return float((predictions == labels).float().mean())


def qat_finetune(model: nn.Module, fmt: NumberFormat, features: torch.Tensor, labels: torch.Tensor,
                 steps: int = 200, lr: float = 1e-3, batch: int = 64, seed: int = 0) -> nn.Module:
    """A fake-quantized copy of ``model`` fine-tuned for ``steps`` Adam steps (straight-through estimator).

    Batch norm keeps its running statistics (eval mode): they were learnt in float and are folded on
    the board; only the weights adapt to the grid.
    """
    qmodel = quantized_copy(model, fmt)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(qmodel.parameters(), lr=lr)
    qmodel.eval()
    for _ in range(steps):
        idx = torch.randint(0, len(labels), (min(batch, len(labels)),), generator=generator)
        loss = nn.functional.cross_entropy(qmodel(features[idx]), labels[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return qmodel.eval()
