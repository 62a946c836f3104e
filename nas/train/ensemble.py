"""Several trained models of the same classes answering as one: a teacher to distil from.

Trained on generated speech, models of one architecture that differ only in their seed disagree on
people's voices, and their averaged probabilities are right more often than any of them: Hello Edge's
small DS-CNN, 4 seeds of the default generated set, scores 73.8 ± 0.7 % alone and 77.9 % averaged on the
real clips; a student distilled from that average (`train`'s ``teacher``) keeps most of the gain, 77.0 ±
0.5 %, in one model the board can run (`benchmarks/bench_real_speech.py`).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from nas.errors import ConfigError


class Ensemble(nn.Module):
    """Log of the members' mean class probabilities, [B, classes]: logits of the averaged model.

    ``log_softmax`` of the output is the output itself, so `distillation_loss` and ``argmax`` treat it
    as any model's logits. The members are put in eval mode and are never trained through it.
    """

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ConfigError("Ensemble: needs at least one member model")
        self.members = nn.ModuleList(members)
        self.members.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> Ensemble:  # the members stay in eval mode (no dropout, fixed BN)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        log_probs = torch.stack([torch.log_softmax(m(x).float(), dim=1) for m in self.members])
        return torch.logsumexp(log_probs, dim=0) - math.log(len(self.members))
