"""The Board protocol: open, load a model, measure, close — the same for an emulated and a real board.

Lifecycle: ``open()`` connects and waits until the board answers; ``load(model)`` uploads a
:mod:`nas.board.model_blob` description converted from an int8 ``.tflite``; ``infer`` times the
network on int8 features (MLPerf Tiny's ``infer N W%``); ``stages`` times feature extraction,
network and post-processing on raw audio; ``stream`` runs long audio always-on (outputs and
detections); ``close()`` releases the port (and stops an emulator).
Boards are context managers. A board that fails raises :class:`nas.errors.BoardError`.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nas.cost.budget import BoardProfile


@dataclass(frozen=True)
class Measurement:
    """Per-inference timings of one measurement, and the outputs of its last inference."""

    unit: str  # "instructions" on the emulator, "us" on a real board
    stages: dict[str, float]  # "features" / "network" / "post" (only "network" for infer)
    outputs: np.ndarray  # int8 output tensor
    scores: list[float]  # dequantised outputs
    count: int
    warmup: int
    extra: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(sum(self.stages.values()))

    def stages_ms(self, profile: BoardProfile) -> dict[str, float]:
        return {name: profile.to_ms(value, self.unit) for name, value in self.stages.items()}

    def duty_cycle(self, profile: BoardProfile, rate_hz: float) -> float:
        """Share of the CPU that ``rate_hz`` inferences per second take at the profile's clock."""
        return sum(self.stages_ms(profile).values()) * rate_hz / 1000.0

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "stages": dict(self.stages),
            "outputs": self.outputs.astype(int).tolist(),
            "count": self.count,
            "warmup": self.warmup,
            **self.extra,
        }


class Board(abc.ABC):
    """One board (a serial port, or an emulator behind one)."""

    name: str = "board"

    @abc.abstractmethod
    def open(self) -> None:
        """Connect and wait until the board answers (BoardError if it never does)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection; safe to call twice."""

    @abc.abstractmethod
    def load(self, model: bytes | Path) -> dict:
        """Upload a model: a .tflite path or a model description (bytes). Returns its summary."""

    @abc.abstractmethod
    def infer(self, features: np.ndarray, count: int = 1, warmup: int = 0) -> Measurement:
        """Time the network alone on int8 features (MLPerf Tiny `infer N W%`)."""

    @abc.abstractmethod
    def stages(self, audio: np.ndarray, count: int = 1, warmup: int = 0, new_frames: int = 0) -> Measurement:
        """Time features + network + post-processing on int16 audio, per stage: the whole clip's
        features, or (``new_frames`` > 0) always-on streaming, where each inference computes only
        its ``new_frames`` new frames (5 at 10 inferences/s and a 20 ms stride)."""

    @abc.abstractmethod
    def stream(self, audio: np.ndarray, new_frames: int, post: tuple[int, int, int, int]
               ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
        """Always-on on the board: audio through the streaming front end, the network every
        ``new_frames`` frames and RecognizeCommands; (times ms, int8 outputs, detections)."""

    def __enter__(self) -> "Board":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def synthetic_clip(samples: int) -> np.ndarray:
    """A deterministic speech-like test clip (the timing does not depend on the words)."""
    rng = np.random.default_rng(0)
    t = np.arange(samples) / 16000
    voiced = np.sin(2 * np.pi * (150 + 100 * t) * t) * (np.sin(np.pi * t) ** 2)
    return (8000 * voiced + rng.normal(0, 200, samples)).astype(np.int16)
