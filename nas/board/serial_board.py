"""A board on a serial port or any pyserial URL (``/dev/ttyACM0``, ``socket://host:port``).

Every read has a deadline: a silent board raises BoardError instead of hanging. Connecting retries
with exponential backoff; after that, a failing command costs only that command.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from nas.board import protocol
from nas.board.base import Board, Measurement
from nas.errors import BoardError

# Commands in flight while uploading: each is at most 81 bytes, so 3 fit the firmware's 256-byte
# receive ring even on a real UART with no flow control.
_UPLOAD_WINDOW = 3


class SerialBoard(Board):
    """Talks the protocol of :mod:`nas.board.protocol` over pyserial.

    Args:
        url: a device path or pyserial URL.
        baudrate: 115200 as MLPerf Tiny's harness uses.
        timeout_s: deadline of one ordinary command.
        ready_timeout_s: how long ``open()`` polls with ``name%`` until the board answers.
        retries: connection attempts before giving up (backoff doubles from 50 ms).
    """

    def __init__(self, url: str, baudrate: int = 115200, timeout_s: float = 10.0,
                 ready_timeout_s: float = 10.0, retries: int = 5) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timeout_s = timeout_s
        self.ready_timeout_s = ready_timeout_s
        self.retries = retries
        self.name = url
        self._serial = None
        self._pending = b""

    # ---- connection ----
    def open(self) -> None:
        import serial  # pyserial; kept local so `kws-nas --help` stays instant

        delay, last_error = 0.05, None
        for _ in range(self.retries):
            try:
                self._serial = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.05)
                break
            except (serial.SerialException, OSError, ValueError) as err:
                last_error = err
                time.sleep(delay)
                delay *= 2
        else:
            raise BoardError(f"board {self.url}: cannot open after {self.retries} attempts: {last_error}")
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Resync, then poll with `name%` until a reply: output sent before we connected is lost, and
        a boot banner may still arrive first, so lines are read until `m-name-dut-...` and its m-ready."""
        deadline = time.monotonic() + self.ready_timeout_s
        self._write(protocol.RESET, "resyncing")  # drop what an earlier host left half-sent
        while time.monotonic() < deadline:
            self._write(protocol.encode_command("name"), "polling with `name%`")
            poll_deadline = min(deadline, time.monotonic() + 0.5)
            name = None
            while True:
                try:
                    line = self._read_line(poll_deadline, "waiting for the board to answer `name%`")
                except BoardError:
                    self._check_alive("waiting for the board to answer `name%`")
                    break  # poll again
                if line.startswith("e-[busy"):  # another client holds the board (`board serve`)
                    raise BoardError(f"board {self.url}: {line[3:-1]}")
                if line.startswith("m-name-dut-"):
                    name = line[len("m-name-dut-") :]
                elif line == protocol.READY and name is not None:
                    self.name = name
                    self._discard_stale()
                    return
        raise BoardError(f"board {self.url}: no answer to `name%` within {self.ready_timeout_s:.0f} s")

    def _discard_stale(self) -> None:
        """Drop replies to earlier polls so that the next command reads its own reply."""
        time.sleep(0.05)
        while self._serial.in_waiting:
            self._serial.read(self._serial.in_waiting)
        self._pending = b""

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            finally:
                self._serial = None

    def _check_alive(self, doing: str, connection_lost: bool = False) -> None:
        """Hook for boards that can tell why they went silent (the emulator checks its process)."""

    # ---- lines ----
    def _read_line(self, deadline: float, doing: str) -> str:
        import serial

        while b"\n" not in self._pending:
            if time.monotonic() > deadline:
                self._check_alive(doing)
                raise BoardError(f"board {self.url}: no reply while {doing} (timed out)")
            try:
                waiting = self._serial.in_waiting
                chunk = self._serial.read(max(1, min(waiting, 4096)))
            except (serial.SerialException, OSError) as err:
                self._check_alive(doing, connection_lost=True)
                raise BoardError(f"board {self.url}: connection lost while {doing}: {err}") from None
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode("ascii", errors="replace").strip()

    def _write(self, data: bytes, doing: str) -> None:
        import serial

        if self._serial is None:
            raise BoardError(f"board {self.url}: not open (call open() first)")
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as err:
            self._check_alive(doing, connection_lost=True)
            raise BoardError(f"board {self.url}: connection lost while {doing}: {err}") from None

    def _collect(self, command: str, deadline: float) -> protocol.Response:
        response = protocol.Response(command)
        doing = f"running `{command}%`"
        while True:
            line = self._read_line(deadline, doing)
            if line == protocol.READY:
                return response
            if line.startswith("e-fault-"):
                raise BoardError(f"board {self.url} crashed ({line}) while {doing}")
            if line:
                response.lines.append(line)

    # ---- commands ----
    def command(self, text: str, timeout_s: float | None = None) -> protocol.Response:
        """Send one command and return its reply lines (errors included, not raised)."""
        self._write(protocol.encode_command(text), f"sending `{text}%`")
        return self._collect(text, time.monotonic() + (timeout_s or self.timeout_s))

    def upload(self, target: str, data: bytes) -> protocol.Response:
        """``<target> load N%`` and its db chunks, a few in flight; returns the last reply."""
        return self._pipelined(protocol.upload_commands(target, data), target)

    def _pipelined(self, commands: list[bytes], target: str) -> protocol.Response:
        """Sends commands a few in flight; BoardError on the first refusal; returns the last reply."""
        texts = [c[:-1].decode() for c in commands]
        deadline = time.monotonic() + self.timeout_s + len(commands) * 0.05
        sent = received = 0
        last = None
        while received < len(commands):
            while sent < len(commands) and sent - received < _UPLOAD_WINDOW:
                self._write(commands[sent], f"uploading {target}")
                sent += 1
            last = self._collect(texts[received], deadline)
            received += 1
            if last.errors:
                self._drain(sent - received, deadline)
                raise BoardError(f"board {self.url}: {target} upload refused: {'; '.join(last.errors)}")
        return last

    def _drain(self, replies: int, deadline: float) -> None:
        for _ in range(replies):
            self._collect("(upload drain)", deadline)

    # ---- the Board protocol ----
    def load(self, model: bytes | Path) -> dict:
        if isinstance(model, (str, Path)):
            from nas.board.model_blob import tflite_to_blob

            model = tflite_to_blob(Path(model))
        return self._model_summary(self.upload("model", bytes(model)), len(model))

    def load_from_memory(self, blob_bytes: int) -> dict:
        """``model mem N%``: accept the N-byte model description already in the board's model
        buffer (preloaded by the emulator, or written by a debugger on a real board)."""
        return self._model_summary(self.command(f"model mem {blob_bytes}"), blob_bytes)

    @staticmethod
    def _model_summary(response: protocol.Response, blob_bytes: int) -> dict:
        response.raise_for_error()
        summary = response.value("m-model-[")
        name, _, rest = summary.partition("]-ops-")
        ops, _, arena = rest.partition("-arena-")
        return {"name": name, "ops": int(ops), "arena_bytes": int(arena), "blob_bytes": blob_bytes}

    def infer(self, features: np.ndarray, count: int = 1, warmup: int = 0) -> Measurement:
        data = np.ascontiguousarray(features, dtype=np.int8).tobytes()
        self.upload("db", data).raise_for_error()
        response = self.command(f"infer {count} {warmup}", timeout_s=self.timeout_s * (1 + (count + warmup) / 10))
        reply = protocol.parse_infer(response, count)
        return Measurement(
            unit=reply.unit,
            stages={"network": reply.elapsed / count},
            outputs=np.asarray(reply.outputs, dtype=np.int8),
            scores=reply.scores,
            count=count,
            warmup=warmup,
            extra={"latency_us": reply.latency_us},
        )

    def stages(self, audio: np.ndarray | None, count: int = 1, warmup: int = 0, new_frames: int = 0) -> Measurement:
        """As Board.stages; ``audio=None`` reuses the clip already on the board (uploads are slow)."""
        if audio is not None:
            pcm = np.ascontiguousarray(audio, dtype="<i2").tobytes()
            self.upload("audio", pcm).raise_for_error()
        command = f"stages {count} {warmup}" + (f" {new_frames}" if new_frames else "")
        response = self.command(command, timeout_s=self.timeout_s * (1 + (count + warmup) / 10))
        reply = protocol.parse_stages(response)
        return Measurement(
            unit=reply.unit,
            stages={k: float(v) for k, v in reply.stages.items()},
            outputs=np.asarray(reply.outputs, dtype=np.int8),
            scores=reply.scores,
            count=count,
            warmup=warmup,
            extra={"top_class": reply.top_class, "top_score": reply.top_score,
                   "frames_per_inference": reply.frames_per_inference},
        )

    def stream(self, audio: np.ndarray, new_frames: int, post: tuple[int, int, int, int]
               ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
        """Always-on on the board: ``audio`` (int16) pushed in chunks through the loaded model, an
        inference every ``new_frames`` frames, RecognizeCommands with ``post`` = (average window ms,
        threshold 0..255, suppression ms, minimum count). Returns the inferences' times in ms [N], their
        int8 outputs [N, classes] and the detections (time ms, class, score)."""
        self.command(protocol.stream_start_command(new_frames, *post)).raise_for_error()
        pcm = np.ascontiguousarray(audio, dtype="<i2").tobytes()
        times, outputs, found = [], [], []
        step = protocol.MAX_STREAM_CHUNK_BYTES
        for seq, start in enumerate(range(0, len(pcm), step)):
            reply = protocol.parse_stream(self._pipelined(protocol.stream_push_commands(seq, pcm[start : start + step]),
                                                          "stream"))
            times += [t for t, _ in reply.outputs]
            outputs += [q for _, q in reply.outputs]
            found += reply.detections
        n_classes = len(outputs[0]) if outputs else 0
        return (np.asarray(times, dtype=np.int64), np.asarray(outputs, dtype=np.int8).reshape(-1, n_classes), found)

    def features(self, audio: np.ndarray) -> np.ndarray:
        """The board's int8 MFCC of one clip (``audio load``, ``mfcc%``, ``db print%``)."""
        pcm = np.ascontiguousarray(audio, dtype="<i2").tobytes()
        self.upload("audio", pcm).raise_for_error()
        self.command("mfcc").raise_for_error()
        return np.frombuffer(protocol.parse_buffer(self.command("db print")), dtype=np.int8).copy()
