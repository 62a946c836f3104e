"""The concepts every architecture shares: ArchSpec, Candidate, SearchSpace, and the registry.

Lifecycle of one trial: ``SearchSpace.sample(trial)`` draws the front end first (it fixes the input
size T × F), then the architecture's spec with kernel ranges capped by that size, and returns a
`Candidate`. The cost model reads ``candidate.spec.layers(...)`` (no torch); training calls
`build_model`. Specs never touch Optuna, and samplers never build torch modules.
"""
from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from nas.data.frontend_config import FrontEndConfig
from nas.errors import ConfigError
from nas.spaces.domains import Draw, parse_choices

if TYPE_CHECKING:
    import torch

    from nas.cost.layers import Layer

NUM_CLASSES = 12
FRONTEND_PARAMS = ("n_mfcc", "window_ms", "stride_ms")


def check_positive(arch: str, field: str, value: Any) -> None:
    """The one validation every size field gets: a positive int (bool is not an int here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{arch} spec: {field} must be a positive integer, got {value!r}")


class ArchSpec(ABC):
    """A frozen dataclass describing one architecture's sizes; JSON-safe via to_dict/from_dict."""

    arch: ClassVar[str]
    # What Hello Edge's ``--model_size_info`` list holds for this architecture (for error messages).
    model_size_info_help: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_model_size_info(cls, values: Sequence[int]) -> "ArchSpec":
        """Builds the spec from Hello Edge's ``model_size_info`` list (ConfigError if malformed)."""

    @abstractmethod
    def to_model_size_info(self) -> list[int]:
        """The inverse of from_model_size_info."""

    @abstractmethod
    def _layers(self, input_shape: tuple[int, int], num_classes: int) -> list["Layer"]:
        """The per-layer description (see `layers`)."""

    def layers(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES) -> list["Layer"]:
        """Per-layer shapes, parameters and MACs for a (T, F) input; ConfigError if a kernel does not fit."""
        try:
            return self._layers(tuple(input_shape), num_classes)
        except ConfigError as err:
            raise ConfigError(f"{self.arch} spec: {err}") from None

    @abstractmethod
    def build(self, input_shape: tuple[int, int], num_classes: int = NUM_CLASSES) -> "torch.nn.Module":
        """The float PyTorch model: [B, T, F] → logits [B, num_classes]."""

    def to_dict(self) -> dict:
        # Through JSON so tuples come back as lists: to_dict() == json.loads(json.dumps(to_dict())).
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict) -> "ArchSpec":
        """Default for flat specs; specs with nested fields override it."""
        return cls(**spec_fields(cls, data))

    @classmethod
    def _check_length(cls, values: Sequence[int], expected: int) -> list[int]:
        values = list(values)
        if len(values) != expected:
            raise ConfigError(
                f"{cls.arch}: model_size_info needs {expected} numbers ({cls.model_size_info_help}), "
                f"got {len(values)}"
            )
        return values


def spec_fields(cls: type, data: dict) -> dict:
    """``data``'s values for exactly ``cls``'s dataclass fields; ConfigError naming unknown/missing keys."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.arch} spec: expected a JSON object, got {type(data).__name__}")
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    missing = sorted(set(names) - set(data))
    if unknown or missing:
        raise ConfigError(f"{cls.arch} spec: unknown keys {unknown}, missing keys {missing}; expected {names}")
    return {name: data[name] for name in names}


_REGISTRY: dict[str, type[ArchSpec]] = {}
# Hello Edge's order (simplest first); arch_names() lists registered architectures this way.
ARCH_ORDER = ("dnn", "cnn", "basic_lstm", "lstm", "gru", "crnn", "ds_cnn")


def register(cls: type[ArchSpec]) -> type[ArchSpec]:
    _REGISTRY[cls.arch] = cls
    return cls


def arch_names() -> list[str]:
    return sorted(_REGISTRY, key=lambda a: (ARCH_ORDER.index(a) if a in ARCH_ORDER else len(ARCH_ORDER), a))


def spec_class(arch: str) -> type[ArchSpec]:
    try:
        return _REGISTRY[arch]
    except KeyError:
        raise ConfigError(f"unknown architecture {arch!r}; expected one of {arch_names()}") from None


@dataclass(frozen=True)
class Candidate:
    """One point of a search: architecture, its sizes, and the front end that feeds it."""

    arch: str
    spec: ArchSpec
    frontend: FrontEndConfig

    def __post_init__(self) -> None:
        if spec_class(self.arch) is not type(self.spec):
            raise ConfigError(f"candidate: spec {type(self.spec).__name__} does not belong to arch {self.arch!r}")

    @property
    def input_shape(self) -> tuple[int, int]:
        return self.frontend.input_shape

    def to_dict(self) -> dict:
        return {"arch": self.arch, "spec": self.spec.to_dict(), "frontend": self.frontend.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "Candidate":
        missing = {"arch", "spec", "frontend"} - set(data)
        if missing:
            raise ConfigError(f"candidate: missing keys {sorted(missing)}")
        return cls(data["arch"], spec_class(data["arch"]).from_dict(data["spec"]),
                   FrontEndConfig.from_dict(data["frontend"]))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def describe(self) -> str:
        """Short label, e.g. ``ds_cnn [5 64 10 4 2 2 ...] mfcc=10 win=40ms stride=20ms``."""
        sizes = " ".join(str(v) for v in self.spec.to_model_size_info())
        fe = self.frontend
        decimated = f" decimation={fe.decimation}" if fe.decimation != 1 else ""
        return f"{self.arch} [{sizes}] mfcc={fe.n_mfcc} win={fe.window_ms:g}ms stride={fe.stride_ms:g}ms{decimated}"


def build_model(candidate: Candidate, num_classes: int = NUM_CLASSES, seed: int | None = None) -> "torch.nn.Module":
    """The float model for a candidate, after checking every layer fits its input; with a ``seed``, its
    initial weights are drawn from torch's RNG seeded with it (the global RNG state is left as it was), so a
    training run's seed decides its initial weights too."""
    candidate.spec.layers(candidate.input_shape, num_classes)
    if seed is None:
        return candidate.spec.build(candidate.input_shape, num_classes)
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return candidate.spec.build(candidate.input_shape, num_classes)


def candidate_from_model_size_info(
    arch: str, model_size_info: Sequence[int], frontend: FrontEndConfig | None = None
) -> Candidate:
    """A candidate from Hello Edge's encoding, checked against the front end's input size."""
    frontend = frontend or FrontEndConfig()
    candidate = Candidate(arch, spec_class(arch).from_model_size_info(model_size_info), frontend)
    candidate.spec.layers(candidate.input_shape)
    return candidate


def _inside(distribution: Any, value: Any) -> bool:
    """Whether an Optuna distribution (as the sampler saw it, caps included) holds ``value``."""
    if hasattr(distribution, "choices"):
        return value in distribution.choices
    return distribution.low <= value <= distribution.high


class SearchSpace(ABC):
    """The ranges one architecture is sampled from; one YAML in ``search_spaces/`` per subclass.

    Subclasses read their ranges in ``__init__`` (keyword arguments straight from the YAML) and
    implement `sample_spec` and its inverse `spec_params`. Parameter names are stable so that
    Optuna's samplers can learn across trials and `to_params` + ``study.enqueue_trial`` can replay known
    configurations (the search enqueues Hello Edge's published model this way).
    """

    arch: ClassVar[str]

    def __init__(self, frontend: dict) -> None:
        unknown = set(frontend) - set(FRONTEND_PARAMS) - {"decimation"}
        if unknown:
            raise ConfigError(f"search space {self.arch}: frontend has unknown keys {sorted(unknown)}")
        # One value for every candidate, not searched (search_space.frontend.decimation=2 on the command line).
        self.decimation = frontend.get("decimation", 1)
        if self.decimation not in (1, 2) or isinstance(self.decimation, bool):
            raise ConfigError(f"search space {self.arch}: frontend.decimation must be 1 or 2 (one value, not a list "
                              f"of choices), got {self.decimation!r}")
        # Every front-end parameter is a list of choices: T and F must be known before the spec.
        self.frontend_choices = {name: parse_choices(f"{self.arch}.frontend.{name}", frontend.get(name))
                                 for name in FRONTEND_PARAMS}

    @abstractmethod
    def sample_spec(self, draw: Draw, input_shape: tuple[int, int]) -> ArchSpec:
        """Draws the spec; ranges of kernels are capped by the (T, F) input."""

    @abstractmethod
    def spec_params(self, spec: ArchSpec) -> dict[str, Any]:
        """The Optuna parameters that make `sample_spec` return ``spec``."""

    def sample(self, trial: Any) -> Candidate:
        draw = Draw(trial)
        frontend = FrontEndConfig(**{name: draw.choice(name, choices)
                                     for name, choices in self.frontend_choices.items()}, decimation=self.decimation)
        spec = self.sample_spec(draw, frontend.input_shape)
        return Candidate(self.arch, spec, frontend)

    def to_params(self, candidate: Candidate) -> dict[str, Any]:
        """Trial parameters for ``candidate`` (for ``study.enqueue_trial``)."""
        fe = candidate.frontend
        return {"n_mfcc": fe.n_mfcc, "window_ms": fe.window_ms, "stride_ms": fe.stride_ms,
                **self.spec_params(candidate.spec)}

    @abstractmethod
    def cheapest_specs(self, input_shape: tuple[int, int]) -> list[ArchSpec]:
        """Specs drawable on ``input_shape`` among which every cost's minimum lies.

        Every cost (Hello Edge and deployed memory, flash, RAM, MACs) grows with each width, so
        widths sit at their lows; the parameters that trade one layer's cost against the next (kernels
        and strides that shrink later maps, shortcut projections) are enumerated, dropping only choices
        that cost no less than another in every cost.
        """

    def smallest_input(self) -> FrontEndConfig:
        """The front end of the fewest frames and the fewest MFCCs (frames depend on window and stride
        only, so one front end has both)."""
        import itertools

        n_mfcc = min(self.frontend_choices["n_mfcc"])
        frontends = [FrontEndConfig(n_mfcc=n_mfcc, window_ms=window, stride_ms=stride, decimation=self.decimation)
                     for window, stride in
                     itertools.product(self.frontend_choices["window_ms"], self.frontend_choices["stride_ms"])]
        return min(frontends, key=lambda fe: fe.num_frames)

    def cheapest_candidates(self) -> list[Candidate]:
        """Candidates of this space among which each cost's minimum over the whole space lies.

        Only the smallest input is needed: every cost grows with the frames and with the MFCCs, since a
        spec drawn on a larger input maps to one on the smaller input (kernels clipped to its size)
        whose every map, and so every cost, is no larger.
        """
        frontend = self.smallest_input()
        return [Candidate(self.arch, spec, frontend) for spec in self.cheapest_specs(frontend.input_shape)]

    def contains(self, candidate: Candidate) -> bool:
        """True when sampling can return exactly ``candidate`` with every value inside its range."""
        import optuna

        if candidate.arch != self.arch:
            return False
        params = self.to_params(candidate)
        if any(params[name] not in self.frontend_choices[name] for name in FRONTEND_PARAMS):
            return False
        trial = optuna.trial.FixedTrial(params)
        resampled = self.sample(trial)
        in_range = all(_inside(dist, trial.params[name]) for name, dist in trial.distributions.items())
        return in_range and resampled == candidate and set(trial.params) == set(params)
