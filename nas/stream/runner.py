"""From audio to int8 model outputs on a stream: the window features and the model backends.

`window_features` is the one place the stream's features come from: the streaming front end
(`nas.data.streaming`, ring buffers, only the new frames per inference, as on the board), whose frames
equal the batch front end's on each one-second window.

A `ModelRunner` turns int8 features [N, T, F] into int8 outputs [N, classes]. `TflmHostRunner` runs the
.tflite in TFLite Micro's host interpreter (the firmware's oracle). On a board the whole pipeline runs
there (`board_stream`: audio in, outputs and detections out), with the same results.
"""
from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from nas.data.frontend_config import FrontEndConfig
from nas.stream.postprocess import Decision, PostprocessConfig

WINDOWS_PER_BATCH = 256  # one-second windows handed to the model runner at once


@dataclass(frozen=True)
class OutputQuantization:
    """How to read a model's int8 output: logits at ``scale``, or an int8 softmax (scale 1/256, zp -128)."""

    n_classes: int
    scale: float
    zero_point: int
    is_softmax: bool


class ModelRunner(abc.ABC):
    """An int8 keyword model somewhere: on the host, or on a board."""

    name: str
    output: OutputQuantization

    @abc.abstractmethod
    def run(self, features: np.ndarray) -> np.ndarray:
        """int8 features [N, T, F] → int8 outputs [N, classes]."""


class TflmHostRunner(ModelRunner):
    """The .tflite in TFLite Micro's host interpreter, one window at a time as the board runs it."""

    def __init__(self, model: bytes) -> None:
        from nas.export.tflite import TFLM_HOST_ARENA
        from nas.tflite_model import read_model
        from tflite_micro.python.tflite_micro import runtime

        graph = read_model(model)
        out = graph.tensors[graph.outputs[0]]
        last_op = next((op.name for op in reversed(graph.ops) if graph.outputs[0] in op.outputs), "")
        self.output = OutputQuantization(int(out.shape[-1]), out.scale, out.zero_point, last_op == "SOFTMAX")
        self.name = "host (TFLite Micro)"
        self._interpreter = runtime.Interpreter.from_bytes(model, arena_size=TFLM_HOST_ARENA)

    def run(self, features: np.ndarray) -> np.ndarray:
        outputs = np.empty((len(features), self.output.n_classes), dtype=np.int8)
        for row, x in enumerate(features):
            self._interpreter.set_input(x[None], 0)
            self._interpreter.invoke()
            outputs[row] = self._interpreter.get_output(0).reshape(-1)
        return outputs


def inference_ends(n_samples: int, frontend: FrontEndConfig, stride_ms: int) -> np.ndarray:
    """Sample index just after each inference's window: one window per ``stride_ms`` once a clip has arrived."""
    from nas.data.streaming import new_frames_per_inference

    hop = new_frames_per_inference(frontend, stride_ms) * frontend.stride_samples
    if n_samples < frontend.clip_samples:
        return np.zeros(0, dtype=np.int64)
    return np.arange(frontend.clip_samples, n_samples + 1, hop, dtype=np.int64)


def board_stream(samples: np.ndarray, frontend: FrontEndConfig, board, stride_ms: int,
                 config: PostprocessConfig) -> tuple[np.ndarray, np.ndarray, list[Decision]]:
    """(times in ms [N], int8 outputs [N, classes], detections) of a recording on a board whose model is
    loaded: its streaming front end, network and RecognizeCommands, the twins of ``stream_outputs`` +
    ``postprocess.detections`` on the host."""
    from nas.data.streaming import new_frames_per_inference

    frames = new_frames_per_inference(frontend, stride_ms)
    post = (config.average_window_ms, config.detection_threshold, config.suppression_ms, config.minimum_count)
    times_ms, outputs, found = board.stream(samples, frames, post)
    return times_ms, outputs, [Decision(t, c, s, True) for t, c, s in found]


def window_features(samples: np.ndarray, frontend: FrontEndConfig, ends: np.ndarray) -> Iterator[np.ndarray]:
    """int8 features [n, T, F] of the one-second windows ending at ``ends``, a batch at a time.

    The streaming front end (``nas.data.streaming``): each frame is computed once, when its window is
    complete, as the board does; the frames equal the batch front end's on each window.
    """
    from nas.data.streaming import StreamingFrontEnd

    front = StreamingFrontEnd(frontend)
    pushed, batch = 0, []
    for end in ends:
        front.push(samples[pushed:end])
        pushed = end
        batch.append(front.features())
        if len(batch) == WINDOWS_PER_BATCH:
            yield np.stack(batch)
            batch = []
    if batch:
        yield np.stack(batch)


def stream_outputs(samples: np.ndarray, frontend: FrontEndConfig, runner: ModelRunner,
                   stride_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """(times in ms of each inference's newest sample [N], int8 outputs [N, classes]) over a recording."""
    ends = inference_ends(len(samples), frontend, stride_ms)
    outputs = [runner.run(features) for features in window_features(samples, frontend, ends)]
    times_ms = ends * 1000 // frontend.sample_rate
    return times_ms, (np.concatenate(outputs) if outputs else np.zeros((0, runner.output.n_classes), np.int8))
