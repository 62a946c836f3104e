"""Budgets (Hello Edge's classes) and board profiles, from the Hydra config group ``constraints/``.

Both satisfy `Limits`: they turn a `CostReport` into Optuna constraint values (``usage / limit − 1``
per limit, so ≤ 0 is feasible and the value says by how much a candidate misses: 0.25 = 25 % over),
name the memory objective, and check a measured int8 footprint. A board's profile lives in one file,
``constraints/<board>.yaml``: the search's ``constraints=<board>``, its latency probe
(``board=<board>``) and ``kws-nas bench --board <board>`` all load that file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from nas.errors import ConfigError
from nas.paths import CONSTRAINTS_DIR

if TYPE_CHECKING:
    from nas.cost import CostReport

CONVENTIONS = ("hello_edge", "deploy")
# Hello Edge (Zhang et al. 2017) reports memory in KB (1000 B) with one decimal: its classes are
# checked at that precision.
PAPER_MEMORY_STEP_BYTES = 100


@runtime_checkable
class Limits(Protocol):
    """What the search needs of a budget class or a board profile."""

    name: str

    def memory_of(self, cost: "CostReport") -> float:
        """The memory objective of a candidate."""

    def constraints(self, cost: "CostReport") -> dict[str, float]:
        """Optuna constraint values, ≤ 0 when the candidate fits."""

    def plot_limits(self) -> dict[str, float]:
        """``{"memory_bytes": .., "ops": ..}`` to draw on the Pareto figure; {} when the axes hold none."""

    def deploy_violations(self, footprint: dict) -> list[str]:
        """What a measured int8 footprint (``flash_bytes``, ``arena_bytes``) exceeds; [] when nothing."""


def _positive(owner: str, **values: float) -> None:
    for field, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ConfigError(f"{owner}: {field} must be a positive number, got {value!r}")


@dataclass(frozen=True)
class Budget:
    """A memory and ops limit per inference (Hello Edge, Table 2: small/medium/large).

    Attributes:
        convention: which memory the limit applies to: "hello_edge" (the paper's, default, so the
            paper's fronts are reproduced) or "deploy" (int8 flash + activation arena).

    In the Hello Edge convention memory is compared as the paper states it, to 0.1 KB (Table 5 lists
    its DNN small model, 80,038 B, as "80.0 KB" inside the 80 KB class): `PAPER_MEMORY_STEP_BYTES`.
    The memory objective itself stays exact.
    """

    name: str
    max_memory_bytes: int
    max_ops: int
    convention: str = "hello_edge"
    description: str = ""
    max_latency_ms: float | None = None  # predicted by the search board's latency model

    def __post_init__(self) -> None:
        _positive(f"budget {self.name}", max_memory_bytes=self.max_memory_bytes, max_ops=self.max_ops)
        if self.max_latency_ms is not None:
            _positive(f"budget {self.name}", max_latency_ms=self.max_latency_ms)
        if self.convention not in CONVENTIONS:
            raise ConfigError(f"budget {self.name}: convention must be one of {CONVENTIONS}, got {self.convention!r}")

    def memory_of(self, cost: "CostReport") -> int:
        return cost.memory_hello_edge_bytes if self.convention == "hello_edge" else cost.memory_deploy_bytes

    def checked_memory(self, cost: "CostReport") -> float:
        """The memory the limit is checked against: in the Hello Edge convention, rounded to the nearest
        0.1 KB as the paper reports it (80,049 B is 80.0 KB; 80,050 B is 80.1 KB)."""
        memory = self.memory_of(cost)
        if self.convention != "hello_edge":
            return memory
        step = PAPER_MEMORY_STEP_BYTES
        return (memory + step // 2) // step * step  # half up, exact in integers

    def constraints(self, cost: "CostReport") -> dict[str, float]:
        limits = {"memory": self.checked_memory(cost) / self.max_memory_bytes - 1, "ops": cost.ops / self.max_ops - 1}
        if self.max_latency_ms is not None:
            if cost.latency_ms is None:
                raise ConfigError(f"budget {self.name}: max_latency_ms needs a predicted latency: configure a "
                                  "board with a latency model (board=mps2_an500; kws-nas board calibrate)")
            limits["latency"] = cost.latency_ms / self.max_latency_ms - 1
        return limits

    def plot_limits(self) -> dict[str, float]:
        return {"memory_bytes": self.max_memory_bytes, "ops": self.max_ops}

    def deploy_violations(self, footprint: dict) -> list[str]:
        """Only the ``deploy`` convention limits what a board holds (flash + arena); Hello Edge's does not."""
        total = footprint["flash_bytes"] + footprint["arena_bytes"]
        if self.convention == "deploy" and total > self.max_memory_bytes:
            return [f"flash + arena {total} B > {self.max_memory_bytes} B"]
        return []

    def feasible(self, cost: "CostReport") -> bool:
        return all(v <= 0 for v in self.constraints(cost).values())


MODEL_STORAGE = ("ram", "flash")


@dataclass(frozen=True)
class BoardProfile:
    """A board's memory, clock and a latency target: the one profile per board (``constraints/<board>.yaml``).

    Attributes:
        core: the Cortex-M core.
        flash_bytes / sram_bytes: what the model may use (the whole device; firmware comes on top).
        clock_hz: the core clock that turns cycles into time. For an emulated board it is the clock of
            the board it stands in for (mps2_an500 → STM32F746 at 216 MHz): the emulator counts
            instructions, and milliseconds from them are ESTIMATES. A real board reports microseconds.
        cycles_per_instruction: turns the emulator's instruction counts into cycles.
        cycles_per_mac: turns a candidate's MACs into a latency estimate when the board has no
            latency model (``constraints/<board>.latency.json``, from ``kws-nas board calibrate``).
        target_inferences_per_s: the latency constraint is 1 / target seconds per inference, unless
            ``max_latency_ms`` sets it.
        max_latency_ms: the latency limit per inference, checked before training against the
            predicted latency.
        model_storage: where the board keeps the model: ``ram`` (one firmware, each model uploaded
            over serial into a RAM buffer) or ``flash`` (one image per model, its weights compiled
            into flash: boards whose RAM cannot hold the model; ``kws-nas board flash``).
        pyocd_target / openocd_config: how pyOCD (``--target``) and OpenOCD (``-f``) name the board,
            for the flash command; None where the tool has no such name.
    """

    name: str
    core: str
    flash_bytes: int
    sram_bytes: int
    clock_hz: float
    cycles_per_instruction: float
    cycles_per_mac: float
    target_inferences_per_s: float
    description: str = ""
    max_latency_ms: float | None = None
    model_storage: str = "ram"
    pyocd_target: str | None = None
    openocd_config: str | None = None

    def __post_init__(self) -> None:
        _positive(f"board {self.name}", flash_bytes=self.flash_bytes, sram_bytes=self.sram_bytes,
                  clock_hz=self.clock_hz, cycles_per_instruction=self.cycles_per_instruction,
                  cycles_per_mac=self.cycles_per_mac, target_inferences_per_s=self.target_inferences_per_s)
        if self.model_storage not in MODEL_STORAGE:
            raise ConfigError(f"board {self.name}: model_storage must be one of {MODEL_STORAGE}, "
                              f"got {self.model_storage!r}")
        if self.max_latency_ms is not None:
            _positive(f"board {self.name}", max_latency_ms=self.max_latency_ms)

    def latency_ms_estimate(self, cost: "CostReport") -> float:
        """The latency model's prediction when the cost carries one for this board, else MACs × cycles_per_mac."""
        if cost.latency_ms is not None and cost.latency_board == self.name:
            return cost.latency_ms
        return cost.macs * self.cycles_per_mac / self.clock_hz * 1e3

    @property
    def latency_limit_ms(self) -> float:
        return self.max_latency_ms if self.max_latency_ms is not None else 1e3 / self.target_inferences_per_s

    def to_ms(self, value: float, unit: str) -> float:
        """A board measurement in ``unit`` ("us" from a real board, "instructions" from the emulator:
        an estimate at this profile's clock) as milliseconds."""
        if unit == "us":
            return value / 1000.0
        if unit == "instructions":
            return value * self.cycles_per_instruction / self.clock_hz * 1000.0
        raise ValueError(f"board profile {self.name}: unknown time unit {unit!r}")

    def usage(self, cost: "CostReport") -> dict[str, float]:
        """Percent of the board's flash and SRAM the int8 model takes."""
        return {"flash_pct": 100 * cost.flash_bytes / self.flash_bytes,
                "ram_pct": 100 * cost.ram_bytes / self.sram_bytes}

    def constraints(self, cost: "CostReport") -> dict[str, float]:
        return {"flash": cost.flash_bytes / self.flash_bytes - 1,
                "ram": cost.ram_bytes / self.sram_bytes - 1,
                "latency": self.latency_ms_estimate(cost) / self.latency_limit_ms - 1}

    def feasible(self, cost: "CostReport") -> bool:
        return all(v <= 0 for v in self.constraints(cost).values())

    def memory_of(self, cost: "CostReport") -> int:
        """Flash and RAM are limited apart; the memory objective is their deployment total."""
        return cost.memory_deploy_bytes

    def plot_limits(self) -> dict[str, float]:
        return {}  # its limits (flash, SRAM, latency) are not the figure's memory and ops axes

    def deploy_violations(self, footprint: dict) -> list[str]:
        flash, arena = footprint["flash_bytes"], footprint["arena_bytes"]
        problems = []
        if flash > self.flash_bytes:
            problems.append(f"flash {flash} B > {self.flash_bytes} B")
        if arena > self.sram_bytes:
            problems.append(f"arena {arena} B > SRAM {self.sram_bytes} B")
        return problems


def load_budget(name: str, config_dir: str | Path | None = None) -> Budget | BoardProfile:
    """Instantiates ``constraints/<name>.yaml`` (a Budget or a BoardProfile)."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    path = Path(config_dir or CONSTRAINTS_DIR) / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise ConfigError(f"unknown budget or board {name!r}: no {path}; expected one of {known}")
    try:
        loaded = instantiate(OmegaConf.load(path), _convert_="all")
    except InstantiationException as err:
        cause = err.__cause__
        raise ConfigError(f"{path}: {cause if isinstance(cause, ConfigError) else err}") from None
    if not isinstance(loaded, (Budget, BoardProfile)):
        raise ConfigError(f"{path}: _target_ must be nas.cost.budget.Budget or BoardProfile")
    return loaded


def load_board(name: str, config_dir: str | Path | None = None) -> BoardProfile:
    """The board profile ``constraints/<name>.yaml``; ConfigError when it names a budget class."""
    profile = load_budget(name, config_dir)
    if not isinstance(profile, BoardProfile):
        raise ConfigError(f"{name!r} is a budget class, not a board profile (it has no flash, SRAM or clock)")
    return profile
