"""Cost of a candidate before training, in milliseconds and without torch.

`estimate(candidate)` → `CostReport`: parameters, memory in the Hello Edge convention
(nas.cost.hello_edge) and in the deployment convention (nas.cost.arena), MACs, ops = 2 × MACs, and
the per-layer breakdown; with a board's latency model (nas.cost.latency) also the predicted latency,
per layer and in total. Budgets and board profiles (nas.cost.budget) turn it into constraints.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

from nas.cost import arena, hello_edge
from nas.cost.layers import Layer
from nas.cost.latency import BoardLatency


class LayerSpec(Protocol):
    def layers(self, input_shape: tuple[int, int], num_classes: int) -> list[Layer]: ...


class Costable(Protocol):
    """What the cost model reads of a candidate (``nas.spaces.Candidate``, a layer above, has it)."""

    arch: str
    input_shape: tuple[int, int]
    spec: LayerSpec


@dataclass(frozen=True)
class CostReport:
    """Costs of one candidate. ``params`` counts the float model's trainable parameters (what
    ``sum(p.numel() for p in model.parameters())`` says); ``params_deployed`` counts weights and
    biases after folding batch norm (what Hello Edge memory and flash count)."""

    arch: str
    params: int
    params_deployed: int
    memory_hello_edge_bytes: int
    memory_deploy_bytes: int
    flash_bytes: int
    ram_bytes: int
    arena_bytes: int
    macs: int
    ops: int
    layers: list[dict] = field(default_factory=list)
    # predicted by a board's latency model (None without one): instructions on the emulator (or
    # latency_us on a real board's model) and ms at the board's clock, per inference
    latency_instructions: float | None = None
    latency_us: float | None = None
    latency_ms: float | None = None
    latency_board: str | None = None
    # the board's front end per inference where its model has it: features of `frontend_frames`
    # frames (the whole clip, or the new frames of a streaming inference), in the same units
    frontend_frames: int | None = None
    frontend_latency_instructions: float | None = None
    frontend_latency_us: float | None = None
    frontend_latency_ms: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def layer_rows(layers: list[Layer]) -> list[dict]:
    return [{"name": layer.name, "kind": layer.kind,
             "input_shape": list(layer.input_shape), "output_shape": list(layer.output_shape),
             "params": layer.params, "trainable": layer.trainable,
             "macs": layer.macs, "ops": 2 * layer.macs,
             "activations_hello_edge": hello_edge.activation_elems(layer),
             "flash_bytes": arena.layer_flash_bytes(layer),
             "state_bytes": layer.state_bytes}
            for layer in layers]


def estimate(candidate: Costable, num_classes: int = 12, latency: BoardLatency | None = None,
             new_frames: int | None = None) -> CostReport:
    """Every cost of ``candidate`` (and its predicted latency on ``latency``'s board, with the front
    end's for the whole clip, or ``new_frames`` per streaming inference); ConfigError if one of its
    layers does not fit its input."""
    layers = candidate.spec.layers(candidate.input_shape, num_classes)
    deploy = arena.deploy_cost(layers)
    macs = sum(layer.macs for layer in layers)
    rows = layer_rows(layers)
    predicted = {}
    if latency is not None:
        predicted = {**latency.network(layers), **latency.frontend(new_frames or candidate.input_shape[0],
                                                                     candidate.frontend.decimation)}
        for row, extra in zip(rows, latency.layer_rows(layers)):
            row.update(extra)
    return CostReport(
        arch=candidate.arch,
        params=sum(layer.trainable for layer in layers),
        params_deployed=sum(layer.params for layer in layers),
        memory_hello_edge_bytes=hello_edge.memory_bytes(layers),
        memory_deploy_bytes=deploy.total_bytes,
        flash_bytes=deploy.flash_bytes,
        ram_bytes=deploy.ram_bytes,
        arena_bytes=deploy.arena_bytes,
        macs=macs,
        ops=2 * macs,
        layers=rows,
        **predicted,
    )


__all__ = ["CostReport", "estimate"]
