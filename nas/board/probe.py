"""The search's latency hook (nas.search.objective.LatencyProbe): export a trained candidate to int8,
upload it, time the network on the board, return milliseconds per inference.

One board stays open for all trials of a worker (one firmware build, one QEMU). A board that fails is
restarted once; if it fails again the BoardError reaches the trial, whose accuracy is already recorded.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from nas.board.profiles import load_profile, make_profile, open_board
from nas.errors import BoardError


def _calibration(frontend, samples: int = 32) -> np.ndarray:
    """Features spread like MFCCs on the front end's int8 grid. Latency does not depend on the
    calibration data (the measurement runs on zeros); only the quantisation scales do."""
    rng = np.random.default_rng(0)
    q = np.round(np.clip(rng.normal(0, 20, (samples, *frontend.input_shape)), -128, 127))
    return (q * 2.0 ** -frontend.int8_frac_bits).astype(np.float32)


class BoardLatencyProbe:
    """Args: board profile name; port (None: the emulator); the clock that turns instructions into
    ms (None: the profile's); timed inferences and warm-ups."""

    def __init__(self, board: str = "mps2_an500", port: str | None = None, clock_hz: float | None = None,
                 cycles_per_instruction: float = 1.0, count: int = 3, warmup: int = 1) -> None:
        self.board_name, self.port = board, port
        self.count, self.warmup = count, warmup
        self.profile = load_profile(board) if clock_hz is None else make_profile(board, clock_hz, cycles_per_instruction)
        self._board = None
        self.last_measurement = None

    def _open(self):
        if self._board is None:
            self._board = open_board(self.board_name, self.port)
            self._board.open()
        return self._board

    def close(self) -> None:
        if self._board is not None:
            self._board.close()
            self._board = None

    def measure_tflite(self, tflite: bytes | Path) -> float:
        """Network latency in ms of an int8 .tflite (path or bytes)."""
        from nas.board.model_blob import graph_to_blob, read_tflite

        if isinstance(tflite, (bytes, bytearray)):
            import tempfile

            with tempfile.NamedTemporaryFile(suffix=".tflite") as tmp:
                tmp.write(tflite)
                tmp.flush()
                graph = read_tflite(Path(tmp.name))
        else:
            graph = read_tflite(Path(tflite))
        blob = graph_to_blob(graph, "candidate")
        shape = graph.tensors[graph.inputs[0]].shape
        features = np.zeros(shape, np.int8)
        for attempt in (0, 1):
            try:
                board = self._open()
                board.load(blob)
                self.last_measurement = board.infer(features, self.count, self.warmup)
                break
            except BoardError:
                self.close()
                if attempt:
                    raise
        m = self.last_measurement
        return self.profile.to_ms(m.stages["network"], m.unit)

    def measure(self, candidate, checkpoint: Path) -> float:
        """The search hook: the trained checkpoint → int8 .tflite (nas.export) → ms per inference."""
        from nas.export.accuracy import load_model
        from nas.export.tflite import convert

        model, candidate = load_model(checkpoint, candidate)
        return self.measure_tflite(convert(model, candidate.frontend, _calibration(candidate.frontend),
                                           candidate.arch))

    def __del__(self) -> None:
        self.close()
