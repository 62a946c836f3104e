"""The search's latency hook (nas.search.objective.LatencyProbe): upload a trial's int8 .tflite to a
board, time the network, return milliseconds per inference.

The trial converts its trained model once and hands the bytes here (and to the int8 scorer). One board
stays open for all trials of a worker (one firmware build, one QEMU). A board that fails is restarted
once; if it fails again the BoardError reaches the trial, whose accuracy is already recorded.
"""
from __future__ import annotations

import numpy as np

from nas.board.model_blob import graph_to_blob
from nas.board.connect import open_board
from nas.cost.budget import load_board
from nas.errors import BoardError
from nas.tflite_model import read_model


class BoardLatencyProbe:
    """Args: board profile name (``constraints/<board>.yaml``: its clock turns the emulator's
    instructions into ms); port (None: the emulator); timed inferences and warm-ups."""

    def __init__(self, board: str = "mps2_an500", port: str | None = None, count: int = 3, warmup: int = 1) -> None:
        self.board_name, self.port = board, port
        self.count, self.warmup = count, warmup
        self.profile = load_board(board)
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

    def measure(self, tflite: bytes) -> float:
        """Network latency in ms of an int8 .tflite (its bytes), on zero features."""
        graph = read_model(tflite)
        blob = graph_to_blob(graph, "candidate")
        features = np.zeros(graph.tensors[graph.inputs[0]].shape, np.int8)
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

    def __del__(self) -> None:
        self.close()
