"""Hello Edge's best model per architecture and budget class, as published.

Source: Zhang et al. 2017, "Hello Edge: Keyword Spotting on Microcontrollers" (arXiv:1711.07128),
Table 5 accuracies; ``model_size_info`` and front end from ARM-software/ML-KWS-for-MCU
train_commands.txt (window 40 ms; stride 20 ms unless noted).
"""
from __future__ import annotations

from dataclasses import dataclass

from nas.data.frontend_config import FrontEndConfig
from nas.spaces.base import Candidate, candidate_from_model_size_info


@dataclass(frozen=True)
class PublishedModel:
    arch: str
    budget: str  # "small", "medium" or "large"
    model_size_info: tuple[int, ...]
    stride_ms: float
    accuracy_pct: float

    def candidate(self) -> Candidate:
        frontend = FrontEndConfig(window_ms=40.0, stride_ms=self.stride_ms, n_mfcc=10)
        return candidate_from_model_size_info(self.arch, self.model_size_info, frontend)


def _ds(n: int, first: tuple, rest: list[tuple]) -> tuple[int, ...]:
    return (n, *first, *[x for block in rest for x in block])


HELLO_EDGE_BEST: tuple[PublishedModel, ...] = (
    PublishedModel("dnn", "small", (144, 144, 144), 40.0, 84.6),
    PublishedModel("dnn", "medium", (256, 256, 256), 40.0, 86.4),
    PublishedModel("dnn", "large", (436, 436, 436), 40.0, 86.7),
    PublishedModel("cnn", "small", (28, 10, 4, 1, 1, 30, 10, 4, 2, 1, 16, 128), 20.0, 91.6),
    PublishedModel("cnn", "medium", (64, 10, 4, 1, 1, 48, 10, 4, 2, 1, 16, 128), 20.0, 92.2),
    PublishedModel("cnn", "large", (60, 10, 4, 1, 1, 76, 10, 4, 2, 1, 58, 128), 20.0, 92.7),
    PublishedModel("basic_lstm", "small", (118,), 20.0, 92.0),
    PublishedModel("basic_lstm", "medium", (214,), 20.0, 93.0),
    PublishedModel("basic_lstm", "large", (344,), 20.0, 93.4),
    PublishedModel("lstm", "small", (98, 144), 40.0, 92.9),
    PublishedModel("lstm", "medium", (130, 280), 20.0, 93.9),
    PublishedModel("lstm", "large", (188, 500), 20.0, 94.8),
    PublishedModel("gru", "small", (1, 154), 40.0, 93.5),
    PublishedModel("gru", "medium", (1, 250), 20.0, 94.2),
    PublishedModel("gru", "large", (1, 400), 20.0, 94.7),
    PublishedModel("crnn", "small", (48, 10, 4, 2, 2, 2, 60, 84), 20.0, 94.0),
    PublishedModel("crnn", "medium", (128, 10, 4, 2, 2, 2, 76, 164), 20.0, 94.4),
    PublishedModel("crnn", "large", (100, 10, 4, 2, 1, 2, 136, 188), 20.0, 95.0),
    PublishedModel("ds_cnn", "small", _ds(5, (64, 10, 4, 2, 2), [(64, 3, 3, 1, 1)] * 4), 20.0, 94.4),
    PublishedModel("ds_cnn", "medium",
                   _ds(5, (172, 10, 4, 2, 1), [(172, 3, 3, 2, 2)] + [(172, 3, 3, 1, 1)] * 3), 20.0, 94.9),
    PublishedModel("ds_cnn", "large",
                   _ds(6, (276, 10, 4, 2, 1), [(276, 3, 3, 2, 2)] + [(276, 3, 3, 1, 1)] * 4), 20.0, 95.4),
)


def hello_edge_candidates(arch: str | None = None) -> list[tuple[PublishedModel, Candidate]]:
    """(published entry, candidate) pairs, optionally for one architecture."""
    return [(m, m.candidate()) for m in HELLO_EDGE_BEST if arch is None or m.arch == arch]
