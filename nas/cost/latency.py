"""A per-board latency model: network time per inference predicted from the cost model's layers.

Each layer kind has its own term, a linear function of how often each loop of the firmware's kernel
runs for the layer's shape (`nas.cost.latency_features.FEATURES`): calls, a convolution's position
pairs, columns by path and 2×2 blocks in assembly or C, the depthwise plane fills and 3×3 output-pair
passes or weight pairs, a fully connected layer's blocks of four units and depth tails, a recurrent
cell's per-gate matrix products and per-step element-wise work... The coefficients are fitted by
least squares on measured whole networks (relative error, non-negative coefficients: every term is
work the kernels do) by ``kws-nas board calibrate``, and stored beside the board's profile as
``constraints/<board>.latency.json``: the profile holds the clock that turns the model's unit
("instructions" on the emulator, "us" on a real board) into milliseconds. A model calibrated on one board moves to another from a few measurements by refitting
one scale per layer kind (`LatencyModel.transfer`).

The front end (MFCC features on the board) has its own term, linear in the feature frames an
inference computes: all of them for a whole clip, only the new ones when streaming
(``frontend``: ``per_inference`` + ``per_frame`` × frames, fitted by `fit_frontend` from the board's
``stages`` timings; empty when the board's front end was not measured). A front end with
``decimation`` 2 (the 2:1 decimator, FFT at 8 kHz) has its own terms, ``frontend["decimation2"]``:
its prediction is None on a board where that front end was not measured.

Limits: the firmware runs LOGISTIC / TANH through a 256-entry table per op (constant time per
element) when its arena has room for the tables, else it computes each element, whose time follows
the values (a basic LSTM then takes 18-23 % longer on random features than on zeros); ADD / MUL's
requantisation still varies with the values by about 1 %.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from nas.cost.latency_features import FEATURES
from nas.cost.layers import Layer
from nas.errors import ConfigError

if TYPE_CHECKING:
    from nas.cost.budget import BoardProfile

FORMAT = 2  # 2: the conv / depthwise features follow the kernels' loops; format 1 held other features
FRONTEND_TERMS = ("per_inference", "per_frame")
# how strongly a transfer's per-kind scales are pulled towards their common scale (relative squared
# error of one network weighs 1)
TRANSFER_PRIOR = 1e-4
NETWORK = "network"  # the per-inference rest beside the layer kinds' terms (softmax, reshapes)


class FitError(ValueError):
    """Too few or unusable points for a fit (calibration turns it into one line)."""


def layer_features(layer: Layer) -> dict[str, float]:
    if layer.kind not in FEATURES:
        raise ConfigError(f"layer {layer.name}: no latency term for kind {layer.kind!r} (known: {sorted(FEATURES)})")
    return FEATURES[layer.kind](layer)


def _columns(layer_lists: Sequence[Sequence[Layer]]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The design matrix: one column per (kind, feature) that some network uses, plus the intercept."""
    rows = []
    for layers in layer_lists:
        row: dict[tuple[str, str], float] = {(NETWORK, "calls"): 1.0}
        for layer in layers:
            for name, value in layer_features(layer).items():
                row[(layer.kind, name)] = row.get((layer.kind, name), 0.0) + float(value)
        rows.append(row)
    columns = sorted({key for row in rows for key in row})
    return columns, np.array([[row.get(key, 0.0) for key in columns] for row in rows])


def unknowns(layer_lists: Sequence[Sequence[Layer]], transfer: bool = False) -> int:
    """Coefficients a fit of these networks determines: every (kind, feature) they use, or for a
    transfer one scale per kind (and the network term)."""
    if transfer:
        return 1 + len({layer.kind for layers in layer_lists for layer in layers})
    return len(_columns(layer_lists)[0])


def _relative_nnls(matrix: np.ndarray, values: np.ndarray, prior: np.ndarray | None = None,
                   strength: float = 0.0) -> np.ndarray:
    """Non-negative least squares on relative error (each row divided by its measurement), with
    columns scaled to unit norm so that MACs and call counts weigh alike. ``prior``: a solution each
    coefficient is pulled towards, relatively, with weight ``strength`` (what the data cannot tell
    apart stays near it)."""
    from scipy.optimize import nnls

    weighted = matrix / values[:, None]
    target = np.ones(len(values))
    if prior is not None:
        weighted = np.vstack([weighted, np.sqrt(strength) * np.diag(1 / prior)])
        target = np.concatenate([target, np.full(len(prior), np.sqrt(strength))])
    norms = np.linalg.norm(weighted, axis=0)
    norms[norms == 0] = 1.0
    solution, _ = nnls(weighted / norms, target, maxiter=50 * matrix.shape[1])
    return solution / norms


def _check_points(layer_lists: Sequence, values: Sequence[float], unknowns: int, what: str) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    if len(layer_lists) != len(values):
        raise FitError(f"{len(layer_lists)} networks but {len(values)} measurements")
    if len(values) < unknowns:
        raise FitError(f"{len(values)} measured networks are too few to fit {unknowns} {what} (need >= {unknowns})")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise FitError("measurements must be positive and finite")
    return values


@dataclass(frozen=True)
class LatencyModel:
    """Fitted coefficients per (layer kind, feature) in ``unit`` per inference, with the fit's
    relative errors on its own points (``fit_error``: median, p95 and max of |predicted/measured - 1|)."""

    board: str
    unit: str
    coefficients: dict[str, dict[str, float]]
    fit_error: dict[str, float] = field(default_factory=dict)
    points: int = 0
    calibrated_from: str = ""  # the board a transferred model started from
    # per_inference, per_frame, and optionally "decimation2": the same two for that front end (see the module)
    frontend: dict = field(default_factory=dict)

    def layer_value(self, layer: Layer) -> float:
        terms = self.coefficients.get(layer.kind, {})
        return float(sum(terms.get(name, 0.0) * value for name, value in layer_features(layer).items()))

    def per_layer(self, layers: Sequence[Layer]) -> list[float]:
        return [self.layer_value(layer) for layer in layers]

    def overhead(self) -> float:
        """The per-inference rest: softmax, reshapes, the interpreter's loop."""
        return float(self.coefficients.get(NETWORK, {}).get("calls", 0.0))

    def predict(self, layers: Sequence[Layer]) -> float:
        return self.overhead() + sum(self.per_layer(layers))

    def frontend_value(self, frames: int, decimation: int = 1) -> float | None:
        """The front end's time for an inference that computes ``frames`` feature frames; None
        when the board's front end (with this decimation) was not measured."""
        terms = self.frontend if decimation == 1 else self.frontend.get(f"decimation{decimation}")
        if not terms:
            return None
        return terms["per_inference"] + terms["per_frame"] * frames

    def with_frontend(self, frontend: dict[str, float], decimation: int = 1) -> "LatencyModel":
        if decimation == 1:
            return replace(self, frontend={**dict(frontend), **{k: v for k, v in self.frontend.items() if k.startswith("decimation")}})
        return replace(self, frontend={**self.frontend, f"decimation{decimation}": dict(frontend)})

    def transfer(self, layer_lists: Sequence[Sequence[Layer]], values: Sequence[float], board: str,
                 unit: str | None = None) -> "LatencyModel":
        """This model moved to another board: one non-negative scale per layer kind (and the network
        term), fitted to a few measured networks and pulled towards their common scale (a kind the
        networks cannot separate from another, or none exercises, keeps about that scale)."""
        kinds = sorted({NETWORK} | {layer.kind for layers in layer_lists for layer in layers})
        values = _check_points(layer_lists, values, len(kinds), "per-kind scales")
        matrix = np.zeros((len(values), len(kinds)))
        for r, layers in enumerate(layer_lists):
            matrix[r, kinds.index(NETWORK)] = self.overhead()
            for layer in layers:
                matrix[r, kinds.index(layer.kind)] += self.layer_value(layer)
        common = float(_relative_nnls(matrix.sum(axis=1, keepdims=True), values)[0])
        scales = dict(zip(kinds, _relative_nnls(matrix, values, np.full(len(kinds), common), TRANSFER_PRIOR)))
        default = common
        coefficients = {kind: {name: c * scales.get(kind, default) for name, c in terms.items()}
                        for kind, terms in self.coefficients.items()}
        # the front end is not moved: it is measured on the new board (a few stages runs)
        model = LatencyModel(board, unit or self.unit, coefficients, points=len(values), calibrated_from=self.board)
        return model.with_fit_error(layer_lists, values)

    def errors(self, layer_lists: Sequence[Sequence[Layer]], values: Sequence[float]) -> np.ndarray:
        """Relative errors predicted / measured - 1, one per network."""
        predicted = np.array([self.predict(layers) for layers in layer_lists])
        return predicted / np.asarray(values, dtype=float) - 1

    def with_fit_error(self, layer_lists, values) -> "LatencyModel":
        errors = np.abs(self.errors(layer_lists, values))
        summary = {"median": float(np.median(errors)), "p95": float(np.percentile(errors, 95)),
                   "max": float(errors.max())}
        return replace(self, fit_error=summary, points=len(values))

    def to_dict(self) -> dict:
        return {"format": FORMAT, "board": self.board, "unit": self.unit, "points": self.points,
                "calibrated_from": self.calibrated_from, "fit_error": self.fit_error,
                "coefficients": self.coefficients, "frontend": self.frontend}

    @classmethod
    def from_dict(cls, data: dict, source: str = "latency model") -> "LatencyModel":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(f"{source}: expected a latency model of format {FORMAT} (kws-nas board calibrate writes it)")
        try:
            coefficients = {kind: {name: float(v) for name, v in terms.items()}
                            for kind, terms in data["coefficients"].items()}
            stored = data.get("frontend") or {}
            frontend = {name: float(stored[name]) for name in FRONTEND_TERMS} if stored else {}
            if stored.get("decimation2"):
                frontend["decimation2"] = {name: float(stored["decimation2"][name]) for name in FRONTEND_TERMS}
            return cls(str(data["board"]), str(data["unit"]), coefficients, dict(data.get("fit_error", {})),
                       int(data.get("points", 0)), str(data.get("calibrated_from", "")), frontend)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ConfigError(f"{source}: malformed latency model ({type(err).__name__}: {err})") from None


def fit(layer_lists: Sequence[Sequence[Layer]], values: Sequence[float], board: str,
        unit: str = "instructions") -> LatencyModel:
    """Every coefficient from measured networks (``values`` in ``unit`` per inference)."""
    columns, matrix = _columns(layer_lists)
    values = _check_points(layer_lists, values, len(columns), "coefficients")
    solution = _relative_nnls(matrix, values)
    coefficients: dict[str, dict[str, float]] = {}
    for (kind, name), value in zip(columns, solution):
        coefficients.setdefault(kind, {})[name] = float(value)
    return LatencyModel(board, unit, coefficients).with_fit_error(layer_lists, values)


def fit_frontend(frames: Sequence[int], values: Sequence[float]) -> dict[str, float]:
    """The front-end term from ``values`` (time per inference) measured at ``frames`` feature frames
    per inference: ``per_inference`` + ``per_frame`` × frames, non-negative, on relative error."""
    values = _check_points(frames, values, len(FRONTEND_TERMS), "front-end terms")
    if len(set(frames)) < 2:
        raise FitError(f"the front end was measured at {sorted(set(frames))} frames per inference; "
                       "a per-frame term needs two or more frame counts")
    matrix = np.column_stack([np.ones(len(values)), np.asarray(frames, dtype=float)])
    return dict(zip(FRONTEND_TERMS, map(float, _relative_nnls(matrix, values))))


def model_path(board: str, config_dir: str | Path | None = None) -> Path:
    from nas.paths import CONSTRAINTS_DIR

    return Path(config_dir or CONSTRAINTS_DIR) / f"{board}.latency.json"


def load(board: str, config_dir: str | Path | None = None) -> LatencyModel | None:
    """The stored model of ``board`` (``constraints/<board>.latency.json``); None when it has none."""
    path = model_path(board, config_dir)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: unreadable latency model ({err}); rerun kws-nas board calibrate --board {board}") from None
    return LatencyModel.from_dict(data, str(path))


def save(model: LatencyModel, path: Path) -> Path:
    from nas.atomic import write_json_atomic

    return write_json_atomic(path, model.to_dict())


@dataclass(frozen=True)
class BoardLatency:
    """A board's latency model with its profile: predictions in the model's unit and in ms at the
    profile's clock (an estimate on the emulator, which counts instructions)."""

    profile: "BoardProfile"
    model: LatencyModel

    def layer_rows(self, layers: Sequence[Layer]) -> list[dict]:
        """Per layer: ``latency_<unit>`` and ``latency_ms``."""
        unit = self.model.unit
        return [{f"latency_{unit}": value, "latency_ms": self.profile.to_ms(value, unit)}
                for value in self.model.per_layer(layers)]

    def network(self, layers: Sequence[Layer]) -> dict:
        """The whole network per inference: ``latency_<unit>``, ``latency_ms`` and the board's name."""
        value = self.model.predict(layers)
        return {f"latency_{self.model.unit}": value, "latency_ms": self.profile.to_ms(value, self.model.unit),
                "latency_board": self.profile.name}

    def frontend(self, frames: int, decimation: int = 1) -> dict:
        """The front end per inference computing ``frames`` feature frames: ``frontend_frames``,
        ``frontend_latency_<unit>`` and ``frontend_latency_ms``; empty when it was not measured."""
        value = self.model.frontend_value(frames, decimation)
        if value is None:
            return {}
        return {"frontend_frames": frames, f"frontend_latency_{self.model.unit}": value,
                "frontend_latency_ms": self.profile.to_ms(value, self.model.unit)}


def for_board(profile: "BoardProfile", config_dir: str | Path | None = None) -> BoardLatency | None:
    """The board's stored model with its profile; None when the board has not been calibrated."""
    model = load(profile.name, config_dir)
    return None if model is None else BoardLatency(profile, model)


__all__ = ["BoardLatency", "for_board", "LatencyModel", "FitError", "fit", "fit_frontend", "load", "save", "model_path", "layer_features", "FEATURES"]
