"""Post-processing after the network on a stream: the shape of TFLite Micro micro_speech's RecognizeCommands.

Each inference's int8 output becomes a score per class in 0..255, scores are averaged over the last
``average_window_ms``, and the top class is a *detection* when its average exceeds
``detection_threshold`` and it differs from the last detection or the last detection is older than
``suppression_ms``; fewer than ``minimum_count`` results in the window give no decision.

kws-nas models end on int8 logits, so the scores are a softmax in integers: ``exp(-(q_max - q) · s)``
from a 256-entry table (`softmax_table`, built once from the output scale ``s``), normalised to
0..255. Everything after the table is integer arithmetic, which ``firmware/src/recognize_commands.c``
does step for step, so C and Python give identical detections on the same int8 outputs.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from nas.errors import ConfigError

MAX_RESULTS = 50  # results the window holds at most (KWS_RC_MAX_RESULTS in the C code)
TABLE_ONE = 1 << 16  # the softmax table's 1.0 (exp(0)); entries fit in uint32
SCORE_MAX = 255


@dataclass(frozen=True)
class PostprocessConfig:
    """RecognizeCommands parameters; the defaults are micro_speech's."""

    average_window_ms: int = 1000
    detection_threshold: int = 200  # of 255
    suppression_ms: int = 1500
    minimum_count: int = 3

    def __post_init__(self) -> None:
        for name in ("average_window_ms", "suppression_ms"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ConfigError(f"post-processing: {name} must be an integer >= 0 ms, got {value!r}")
        if not isinstance(self.detection_threshold, int) or not 0 <= self.detection_threshold <= SCORE_MAX:
            raise ConfigError(f"post-processing: detection_threshold must be an integer in 0..{SCORE_MAX}, "
                              f"got {self.detection_threshold!r}")
        if not isinstance(self.minimum_count, int) or not 1 <= self.minimum_count <= MAX_RESULTS:
            raise ConfigError(f"post-processing: minimum_count must be an integer in 1..{MAX_RESULTS}, "
                              f"got {self.minimum_count!r}")


@dataclass(frozen=True)
class Decision:
    """One inference's outcome: the averaged top class, its score (0..255) and whether it is new."""

    time_ms: int
    top_class: int
    score: int
    is_new_command: bool


def softmax_table(output_scale: float) -> np.ndarray:
    """uint32 [256]: round(2**16 · exp(-d · scale)) for a logit gap of d int8 steps (d = 0..255)."""
    if not output_scale > 0:
        raise ConfigError(f"post-processing: the model's output scale must be > 0, got {output_scale}")
    return np.round(TABLE_ONE * np.exp(-np.arange(256) * float(output_scale))).astype(np.uint32)


def softmax_scores(outputs: np.ndarray, table: np.ndarray) -> np.ndarray:
    """int8 logits [..., classes] → int32 scores 0..255 that sum to about 255 (C: kws_rc_softmax)."""
    q = outputs.astype(np.int32)
    weights = table[q.max(axis=-1, keepdims=True) - q].astype(np.int64)
    total = weights.sum(axis=-1, keepdims=True)
    return ((weights * SCORE_MAX + total // 2) // total).astype(np.int32)


class RecognizeCommands:
    """Averages scores over a time window and decides detections, one inference at a time."""

    def __init__(self, n_classes: int, config: PostprocessConfig = PostprocessConfig(),
                 table: np.ndarray | None = None) -> None:
        """``table``: `softmax_table` of the model's output scale; None when outputs are already
        probabilities (an int8 softmax: scale 1/256, zero point -128, so score = q + 128)."""
        if n_classes < 1:
            raise ConfigError(f"post-processing: need at least one class, got {n_classes}")
        self.n_classes, self.config, self.table = n_classes, config, table
        self.results: deque[tuple[int, np.ndarray]] = deque()
        self.last_class, self.last_time_ms = 0, None  # class 0 (silence) is the "previous" at the start
        self.latest_time_ms: int | None = None

    def process(self, output: np.ndarray, time_ms: int) -> Decision:
        output = np.asarray(output)
        if output.shape != (self.n_classes,):
            raise ConfigError(f"post-processing: expected {self.n_classes} outputs, got shape {output.shape}")
        if self.latest_time_ms is not None and time_ms <= self.latest_time_ms:
            raise ConfigError(f"post-processing: result at {time_ms} ms is not after the previous one "
                              f"at {self.latest_time_ms} ms")
        self.latest_time_ms = time_ms
        scores = softmax_scores(output, self.table) if self.table is not None else output.astype(np.int32) + 128
        if len(self.results) == MAX_RESULTS:
            self.results.popleft()
        self.results.append((time_ms, scores))
        while self.results and self.results[0][0] < time_ms - self.config.average_window_ms:
            self.results.popleft()
        if len(self.results) < self.config.minimum_count:
            return Decision(time_ms, self.last_class, 0, False)
        average = sum(s for _, s in self.results) // len(self.results)
        top = int(np.argmax(average))  # the first of equal maxima, as the C loop takes it
        score = int(average[top])
        since_last = None if self.last_time_ms is None else time_ms - self.last_time_ms
        is_new = score > self.config.detection_threshold and (
            top != self.last_class or since_last is None or since_last > self.config.suppression_ms)
        if is_new:
            self.last_class, self.last_time_ms = top, time_ms
        return Decision(time_ms, top, score, is_new)


def detections(outputs: np.ndarray, times_ms: np.ndarray, config: PostprocessConfig = PostprocessConfig(),
               table: np.ndarray | None = None) -> list[Decision]:
    """The new commands among int8 outputs [N, classes] given at ``times_ms`` [N] (increasing)."""
    recognizer = RecognizeCommands(outputs.shape[1], config, table)
    decisions = (recognizer.process(out, int(t)) for out, t in zip(outputs, times_ms))
    return [d for d in decisions if d.is_new_command]
