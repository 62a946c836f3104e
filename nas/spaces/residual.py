"""The torch modules TC-ResNet needs beyond torch.nn (imported only when a model is built).

Kept apart from `nas.spaces.modules` so that `export.from_torch` can recognise a residual block by
type and convert its two branches separately (a plain ``nn.Sequential`` cannot express the skip).
"""
from __future__ import annotations

import torch
from torch import nn


class MfccAsChannels(nn.Module):
    """[B, T, F] → [B, F, T, 1]: MFCCs as channels, time as the height of a one-column map.

    In TFLite's channels-last layout this is [T, 1, F]: a plain reshape of the MFCC matrix, no transpose.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2).unsqueeze(-1)


class ResidualBlock(nn.Module):
    """``relu(body(x) + shortcut(x))``; ``shortcut`` is ``nn.Identity`` when the shapes already agree."""

    def __init__(self, body: nn.Sequential, shortcut: nn.Module) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))
