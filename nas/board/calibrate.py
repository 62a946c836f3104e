"""Latency calibration: measure candidates' networks on a board, fit `nas.cost.latency`, store it.

The calibration set is random candidates of every search space (``calibration_set``) with random
weights: latency does not depend on training, so each needs only an int8 conversion (injected as
``to_tflite``: conversion lives in ``nas.export``, a layer above this one) and one timed inference on
zero features, the input the search's probe uses. On the emulator each model is preloaded into a fresh
QEMU (no serial upload, ~0.1 ms per byte); a real board (``port``) gets each model over serial.

A calibration is all or nothing: a silent board, a run that fails halfway or a fit with too few points
raises one `CalibrationError` line, and the stored model is only replaced after a successful fit.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from nas.board.connect import EMULATED, open_board
from nas.board.model_blob import graph_to_blob
from nas.cost import latency
from nas.errors import BoardError, ConfigError, KwsNasError
from nas.tflite_model import read_model

ALL_SPACES = ("dnn", "cnn", "basic_lstm", "lstm", "gru", "crnn", "ds_cnn", "tc_resnet")
# networks a calibration from scratch measures: the model has about 80 coefficients, and a 10-fold
# cross-validation on the M7's calibration networks puts 95.8 % of them within ±5 % from 120 networks,
# 99 % from 180 or 240 (benchmarks/bench_latency_model.py)
CALIBRATION_COUNT = 240


class CalibrationError(KwsNasError):
    """A calibration that cannot finish; the stored latency model is kept."""


@dataclass(frozen=True)
class Point:
    """One measured network: its candidate (``Candidate.to_dict()``) and time per inference."""

    candidate: dict
    value: float
    unit: str  # "instructions" (emulator) or "us" (a real board)

    def to_dict(self) -> dict:
        return {"candidate": self.candidate, "value": self.value, "unit": self.unit}


def calibration_set(count: int, seed: int = 0, spaces: Sequence[str] = ALL_SPACES,
                    fits: Callable | None = None, attempts: int = 50, published: bool = True) -> list:
    """``count`` candidates: with ``published``, up to a third of them Hello Edge's published models
    (one architecture after another; their kernels, e.g. DS-CNN's 3×3 stride-1 depthwise, are rare in
    random draws but what the search starts from), then random candidates cycling through ``spaces``.
    ``fits(candidate)`` (e.g. a budget's feasibility) filters both; a random draw that misses is
    redrawn up to ``attempts`` times."""
    import optuna

    from nas.spaces import get_space, hello_edge_candidates

    out = []
    if published:
        known = [(i, c) for name in spaces for i, (_, c) in enumerate(hello_edge_candidates(name))
                 if fits is None or fits(c)]
        out = [c for _, c in sorted(known, key=lambda pair: pair[0])][: count // 3]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # one study per space: spaces give the same parameter names different ranges
    studies = {name: (get_space(name), optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed)))
               for name in spaces}
    for i in range(count - len(out)):
        space, study = studies[spaces[i % len(spaces)]]
        for _ in range(attempts):
            trial = study.ask()
            try:
                candidate = space.sample(trial)
                candidate.spec.layers(candidate.input_shape)
            except KwsNasError:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                continue
            study.tell(trial, state=optuna.trial.TrialState.FAIL)  # only the draws matter
            if fits is None or fits(candidate):
                out.append(candidate)
                break
        else:
            raise CalibrationError(f"search space {spaces[i % len(spaces)]}: no candidate within the budget "
                                   f"in {attempts} draws")
    return out


def _zero_features(graph) -> np.ndarray:
    return np.zeros(graph.tensors[graph.inputs[0]].shape, np.int8)


def measure(board_name: str, candidates: Iterable, to_tflite: Callable, port: str | None = None,
            on_point: Callable[[int, Point], None] | None = None, timeout_s: float = 120.0,
            on_skip: Callable[[int, str], None] | None = None) -> list[Point]:
    """Network time per inference of each candidate on the board; CalibrationError naming the model
    at which a run failed (a silent real board fails before any conversion). A network the firmware
    cannot hold (too many unrolled ops) is skipped, with ``on_skip(index, why)``."""
    candidates = list(candidates)
    points: list[Point] = []
    emulated = port is None and board_name in EMULATED
    board = None
    doing = "opening the board"
    try:
        if not emulated:
            board = open_board(board_name, port)
            board.open()
        for i, candidate in enumerate(candidates):
            doing = f"model {i + 1}/{len(candidates)} ({candidate.describe()})"
            graph = read_model(to_tflite(candidate))
            try:
                blob = graph_to_blob(graph, f"calib{i}")
            except ConfigError as err:
                if on_skip:
                    on_skip(i, str(err))
                continue
            if emulated:  # a fresh QEMU per model: preloading beats a serial upload
                from nas.board.emulated import EmulatedBoard

                with EmulatedBoard(board_name, model=blob, timeout_s=timeout_s) as one:
                    m = one.infer(_zero_features(graph), count=1, warmup=1)
            else:
                board.load(blob)
                m = board.infer(_zero_features(graph), count=1, warmup=1)
            point = Point(candidate.to_dict(), float(m.stages["network"]), m.unit)
            points.append(point)
            if on_point:
                on_point(i, point)
    except BoardError as err:
        raise CalibrationError(f"calibration on {board_name} failed at {doing}: {err}; "
                               "the stored latency model is kept") from None
    finally:
        if board is not None:
            board.close()
    return points


# streaming inferences' new frames the front end is timed at, besides the whole clip
FRONTEND_FRAMES = (1, 2, 5, 10, 25)


def measure_frontend(board_name: str, to_tflite: Callable, port: str | None = None,
                     frames: Sequence[int] = FRONTEND_FRAMES, timeout_s: float = 120.0,
                     decimation: int = 1) -> list[tuple[int, float, str]]:
    """The board's front end per inference, ``(frames, time, unit)``: the whole clip (all its frames,
    the batch path), then streaming inferences computing only ``frames`` new frames each (the
    board's ``stages`` command, with Hello Edge's small DNN on the firmware's default front end, or
    the one with ``decimation`` 2 on an emulated board, behind it, whose time does not matter).
    CalibrationError when the board fails."""
    from nas.board.base import synthetic_clip
    from nas.data.frontend_config import FrontEndConfig
    from nas.spaces import Candidate, hello_edge_candidates

    _, dnn = hello_edge_candidates("dnn")[0]
    candidate = Candidate(dnn.arch, dnn.spec, FrontEndConfig(decimation=decimation))
    graph = read_model(to_tflite(candidate))
    clip_frames = candidate.input_shape[0]
    points = []
    try:
        blob = graph_to_blob(graph, "frontend")
        emulated = port is None and board_name in EMULATED
        if emulated:  # preloaded: no serial upload
            from nas.board.emulated import EmulatedBoard

            board = EmulatedBoard(board_name, frontend=candidate.frontend, model=blob, timeout_s=timeout_s)
        else:
            if decimation != 1:
                raise ConfigError(f"board {board_name}: the decimation-{decimation} front end is measured on the "
                                  "emulated boards only (a real board's firmware has one front end)")
            board = open_board(board_name, port)
        with board:
            if not emulated:
                board.load(blob)
            clip = board.stages(synthetic_clip(candidate.frontend.clip_samples), count=1, warmup=1)
            points.append((clip_frames, clip.stages["features"], clip.unit))
            for n in frames:
                m = board.stages(None, count=2, warmup=1, new_frames=n)
                points.append((n, m.stages["features"], m.unit))
    except (BoardError, ConfigError) as err:
        raise CalibrationError(f"front-end calibration on {board_name} failed: {err}; "
                               "the stored latency model is kept") from None
    return points


def check_enough(candidates: Sequence, base: "latency.LatencyModel | None" = None) -> None:
    """CalibrationError before anything is measured when ``candidates`` cannot determine the fit."""
    layer_lists = [_layers(c) for c in candidates]
    needed = latency.unknowns(layer_lists, transfer=base is not None)
    if len(candidates) < needed:
        what = "per-kind scales" if base is not None else "coefficients"
        raise CalibrationError(f"{len(candidates)} networks are too few to fit the {needed} {what} they exercise; "
                               f"measure at least {needed} (--count); the stored latency model is kept")


def fit_points(points: Sequence[Point], board: str, base: "latency.LatencyModel | None" = None) -> "latency.LatencyModel":
    """The model fitted to ``points`` (all in one unit): every term from scratch, or with ``base`` only
    its per-kind scales (transfer to a new board from a few measurements)."""
    from nas.spaces import Candidate

    units = {p.unit for p in points}
    if len(units) > 1:
        raise CalibrationError(f"calibration points mix time units {sorted(units)}")
    layer_lists = [_layers(Candidate.from_dict(p.candidate)) for p in points]
    values = [p.value for p in points]
    try:
        if base is None:
            return latency.fit(layer_lists, values, board=board, unit=units.pop() if units else "instructions")
        return base.transfer(layer_lists, values, board=board, unit=units.pop() if units else base.unit)
    except latency.FitError as err:
        raise CalibrationError(f"{err}; the stored latency model is kept") from None


@dataclass(frozen=True)
class FrontEndFit:
    """The front-end term fitted to measured ``(frames, value)`` runs, with its worst relative error."""

    terms: dict[str, float]
    frames: list[int]
    max_error: float


def fit_frontend_points(points: Sequence[tuple[int, float, str]]) -> FrontEndFit:
    """`latency.fit_frontend` on `measure_frontend`'s runs; CalibrationError if they cannot determine it."""
    frames = [n for n, _, _ in points]
    values = np.array([v for _, v, _ in points])
    try:
        terms = latency.fit_frontend(frames, values)
    except latency.FitError as err:
        raise CalibrationError(f"front end: {err}; the stored latency model is kept") from None
    predicted = terms["per_inference"] + terms["per_frame"] * np.asarray(frames, dtype=float)
    return FrontEndFit(terms, frames, float(np.max(np.abs(predicted / values - 1))))


def save_points(path: Path, points: Sequence[Point]) -> None:
    from nas.atomic import write_json_atomic

    write_json_atomic(path, [p.to_dict() for p in points])


def load_points(path: Path) -> list[Point]:
    import json

    return [Point(**row) for row in json.loads(Path(path).read_text())]


def _layers(candidate) -> list:
    return candidate.spec.layers(candidate.input_shape)
