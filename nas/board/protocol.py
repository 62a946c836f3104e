"""The serial grammar, pure: commands encoded, replies parsed; no I/O (firmware/src/protocol.h).

MLPerf Tiny / EEMBC harness commands (``name%``, ``profile%``, ``timestamp%``, ``db load N%``,
``db <hex>%``, ``db print%``, ``infer N W%``, ``results%``, ``help%``) plus the kws-nas extensions in
the same style (``model load N%``, ``model mem N%``, ``audio load N%``, ``mfcc%``, ``stages N W%``,
``stages N W F%``: streaming, F new frames per inference; ``stream start F A T S M%`` and
``stream push Q N%``: an always-on session, audio in, int8 outputs and detections out).
Every command's reply ends with ``m-ready``; errors are ``e-[...]`` lines. The byte ``RESET``
(ASCII CAN) drops a partial command and abandons an upload in progress; the board replies
``m-reset-done`` and ``m-ready``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from nas.errors import BoardError

MAX_COMMAND_CHARS = 80  # before the terminating '%' (firmware KWS_PROTO_MAX_LINE)
MAX_DB_BYTES = (MAX_COMMAND_CHARS - len("db ")) // 2  # 38 bytes of hex per `db` command
READY = "m-ready"
RESET = b"\x18"  # firmware KWS_PROTO_RESET
RESET_DONE = "m-reset-done"
MAX_STREAM_CHUNK_BYTES = 4096  # one `stream push` at most (firmware KWS_STREAM_CHUNK_BYTES)

_LAP = re.compile(r"^m-lap-us-(\d+)$")
_LIST = re.compile(r"^\[(.*)\]$")


def encode_command(text: str) -> bytes:
    """``text`` + '%' as ASCII, refusing what the board would reject as malformed or oversize."""
    if "%" in text or not text.isascii() or any(c in text for c in "\r\n\x18"):
        raise ValueError(f"command {text!r}: '%', CR, LF, CAN and non-ASCII are not allowed")
    if len(text) > MAX_COMMAND_CHARS:
        raise ValueError(f"command {text[:20]!r}...: {len(text)} characters, at most {MAX_COMMAND_CHARS}")
    return text.encode("ascii") + b"%"


def upload_commands(target: str, data: bytes) -> list[bytes]:
    """``<target> load N%`` then the ``db <hex>%`` chunks; target is ``db``, ``model`` or ``audio``."""
    if target not in ("db", "model", "audio"):
        raise ValueError(f"upload target {target!r}: expected db, model or audio")
    if not data:
        raise ValueError("upload: no bytes to send")
    return _chunked(f"{target} load {len(data)}", data)


def _chunked(announce: str, data: bytes) -> list[bytes]:
    """The announcing command, then ``data`` as ``db <hex>%`` chunks."""
    commands = [encode_command(announce)]
    for start in range(0, len(data), MAX_DB_BYTES):
        commands.append(encode_command("db " + data[start : start + MAX_DB_BYTES].hex()))
    return commands


def stream_start_command(new_frames: int, average_window_ms: int, detection_threshold: int,
                         suppression_ms: int, minimum_count: int) -> str:
    """``stream start F A T S M``: an inference every F new frames, RecognizeCommands' parameters."""
    numbers = (new_frames, average_window_ms, detection_threshold, suppression_ms, minimum_count)
    if any(not isinstance(n, int) or n < 0 for n in numbers):
        raise ValueError(f"stream start: expected integers >= 0, got {numbers}")
    return "stream start " + " ".join(map(str, numbers))


def stream_push_commands(seq: int, pcm: bytes) -> list[bytes]:
    """``stream push Q N%`` then the ``db <hex>%`` chunks of N bytes of int16 LE PCM."""
    if not pcm or len(pcm) % 2 or len(pcm) > MAX_STREAM_CHUNK_BYTES:
        raise ValueError(f"stream push: expected an even number of bytes, 2..{MAX_STREAM_CHUNK_BYTES}, got {len(pcm)}")
    return _chunked(f"stream push {seq} {len(pcm)}", pcm)


@dataclass
class Response:
    """Lines the board sent for one command, up to and excluding its ``m-ready``."""

    command: str
    lines: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [line for line in self.lines if line.startswith("e-")]

    def raise_for_error(self) -> "Response":
        if self.errors:
            raise BoardError(f"board refused `{self.command}%`: {'; '.join(self.errors)}")
        return self

    def value(self, prefix: str) -> str:
        """The rest of the first line starting with ``prefix``."""
        for line in self.lines:
            if line.startswith(prefix):
                return line[len(prefix) :]
        raise BoardError(f"`{self.command}%`: no `{prefix}...` line in the reply {self.lines}")

    def values(self, prefix: str) -> list[str]:
        return [line[len(prefix) :] for line in self.lines if line.startswith(prefix)]


def parse_list(text: str, kind=float) -> list:
    """``[a,b,c]`` → [kind(a), ...]."""
    match = _LIST.match(text)
    if not match:
        raise BoardError(f"expected a bracketed list, got {text!r}")
    body = match.group(1).strip()
    try:
        return [kind(item) for item in body.split(",")] if body else []
    except ValueError as err:
        raise BoardError(f"malformed list {text!r}: {err}") from None


def parse_laps_us(response: Response) -> list[int]:
    return [int(m.group(1)) for line in response.lines if (m := _LAP.match(line))]


@dataclass(frozen=True)
class InferReply:
    """``infer N W%``: the harness's two laps, our elapsed count, and the outputs."""

    count: int
    lap_us: tuple[int, int]
    unit: str
    elapsed: int  # over all `count` inferences, in `unit`
    scores: list[float]
    outputs: list[int]

    @property
    def latency_us(self) -> float:
        """MLPerf Tiny's latency: (t1 - t0) / N."""
        return (self.lap_us[1] - self.lap_us[0]) / self.count


def parse_infer(response: Response, count: int) -> InferReply:
    response.raise_for_error()
    laps = parse_laps_us(response)
    if len(laps) != 2 or "m-infer-done" not in response.lines:
        raise BoardError(f"`{response.command}%`: expected two m-lap-us lines and m-infer-done, got {response.lines}")
    elapsed = response.value("m-elapsed-")
    unit, _, value = elapsed.rpartition("-")
    return InferReply(
        count=count,
        lap_us=(laps[0], laps[1]),
        unit=unit,
        elapsed=int(value),
        scores=parse_list(response.value("m-results-")),
        outputs=parse_list(response.value("m-output-int8-"), int),
    )


@dataclass(frozen=True)
class StagesReply:
    """``stages N W%``: per-inference time of each stage, the decision and the outputs."""

    unit: str
    stages: dict[str, int]  # features, network, post
    frames_per_inference: int | None  # frames the features stage computed (None: firmware too old to say)
    top_class: int
    top_score: int  # RecognizeCommands' averaged score 0..255 (0 while too few results)
    scores: list[float]
    outputs: list[int]


STAGES = ("features", "network", "post")


def _optional_int(response: Response, prefix: str) -> int | None:
    return int(response.value(prefix)) if any(line.startswith(prefix) for line in response.lines) else None


def parse_stages(response: Response) -> StagesReply:
    response.raise_for_error()
    unit = parse_list(response.value("m-stage-unit-"), str)
    top = parse_list(response.value("m-top-"))
    return StagesReply(
        unit=unit[0],
        stages={name: int(response.value(f"m-stage-{name}-")) for name in STAGES},
        frames_per_inference=_optional_int(response, "m-stage-frames-per-inference-"),
        top_class=int(top[0]),
        top_score=int(top[1]),
        scores=parse_list(response.value("m-results-")),
        outputs=parse_list(response.value("m-output-int8-"), int),
    )


_STREAM_OUT = re.compile(r"^m-stream-out-(\d+)-(\[.*\])$")
_STREAM_DETECT = re.compile(r"^m-stream-detect-(\d+)-(\d+)-(\d+)$")


@dataclass(frozen=True)
class StreamReply:
    """What a completed ``stream push`` chunk produced: each inference's int8 outputs and the detections."""

    outputs: list[tuple[int, list[int]]]  # (time in ms of the inference's newest sample, int8 outputs)
    detections: list[tuple[int, int, int]]  # (time in ms, class, averaged score 0..255)


def parse_stream(response: Response) -> StreamReply:
    response.raise_for_error()
    outputs, detections = [], []
    for line in response.lines:
        if m := _STREAM_OUT.match(line):
            outputs.append((int(m.group(1)), parse_list(m.group(2), int)))
        elif m := _STREAM_DETECT.match(line):
            detections.append((int(m.group(1)), int(m.group(2)), int(m.group(3))))
        elif line.startswith("m-stream-"):
            raise BoardError(f"`{response.command}%`: malformed stream line {line!r}")
    return StreamReply(outputs, detections)


def parse_buffer(response: Response) -> bytes:
    """``db print%`` → the bytes of the db buffer."""
    response.raise_for_error()
    try:
        return b"".join(bytes.fromhex(chunk) for chunk in response.values("m-buffer-"))
    except ValueError as err:
        raise BoardError(f"`db print%`: malformed hex: {err}") from None
