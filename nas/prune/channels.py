"""Structured pruning: whole channels removed physically, giving a smaller dense model of the same family.

A `Group` is one set of channels that must be kept or dropped together: the producer's filters and
batch norm, and every consumer's matching input slice. DS-CNN: a standard/pointwise conv's output
channel is also its depthwise partner's channel (the depthwise conv keeps them), then the next
pointwise conv's input. TC-ResNet: a block's output channels are added to its shortcut's, so the
second body conv and the projection share one group, and an identity shortcut ties the block's output
to its input's group; a block's inner channels are a group of their own whose count the spec ties to
the output's (one ``filters`` per block). CNN: a channel of conv2 is a run of T·F inputs of the linear
layer (Flatten is channel-major). CRNN: a conv channel is every C-th input of the first GRU
(frequency-major); its GRU cells stay. LSTM, GRU and basic LSTM have no removable channels.

The new spec comes from the kept counts; ``spec.build`` makes the model and ``load_state_dict``
(strict) checks that the copied weights and batch-norm statistics fit it exactly.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from nas.errors import ConfigError
from nas.prune.masks import SCOPES, check_norm, check_sparsity, reduce_norm

Index = Callable[[torch.Tensor], torch.Tensor]  # kept channel ids → indices along the member's dim


def same(kept: torch.Tensor) -> torch.Tensor:
    return kept


def runs(length: int) -> Index:
    """Channel c ↔ indices c·length … c·length+length−1 (a channel-major Flatten)."""
    return lambda kept: (kept[:, None] * length + torch.arange(length)).flatten()


def interleaved(channels: int, positions: int, tail: int) -> Index:
    """Channel c ↔ indices f·channels + c for each of ``positions``, then ``tail`` indices kept whole."""
    return lambda kept: torch.cat([(torch.arange(positions)[:, None] * channels + kept).flatten(),
                                   channels * positions + torch.arange(tail)])


@dataclass
class Group:
    """Channels kept or dropped together. ``spec_field`` names the spec size they set (several joined by
    ``+`` when an identity shortcut ties them)."""

    spec_field: str
    size: int
    members: list[tuple[str, int, Index]] = field(default_factory=list)  # (state key, dim, index map)
    scored: list[str] = field(default_factory=list)  # weights whose dim-0 rows rank the channels

    def add_producer(self, prefix: str, bias: bool = False, batch_norm: str | None = None,
                     scored: bool = True) -> "Group":
        self.members.append((f"{prefix}.weight", 0, same))
        if scored:
            self.scored.append(f"{prefix}.weight")
        if bias:
            self.members.append((f"{prefix}.bias", 0, same))
        if batch_norm is not None:
            self.members += [(f"{batch_norm}.{k}", 0, same) for k in ("weight", "bias", "running_mean", "running_var")]
        return self

    def add_consumer(self, prefix: str, index: Index = same) -> "Group":
        self.members.append((f"{prefix}.weight", 1, index))
        return self


def _names(model: nn.Module, kind: type) -> list[str]:
    return [name for name, m in model.named_modules() if type(m) is kind]


def _ds_cnn(spec, model, input_shape):
    convs, bns, (fc,) = _names(model, nn.Conv2d), _names(model, nn.BatchNorm2d), _names(model, nn.Linear)
    groups = []
    for i in range(len(spec.blocks)):  # block i's output: conv1 (i = 0) or pw_i; consumed by dw/pw of i+1
        producer = 0 if i == 0 else 2 * i
        g = Group(f"blocks.{i}.filters", spec.blocks[i].filters).add_producer(convs[producer], batch_norm=bns[producer])
        if i + 1 < len(spec.blocks):
            g.add_producer(convs[producer + 1], batch_norm=bns[producer + 1], scored=False)  # the depthwise partner
            g.add_consumer(convs[producer + 2])
        else:
            g.add_consumer(fc)
        groups.append(g)

    def resize(sizes):
        blocks = [dataclasses.replace(b, filters=sizes[f"blocks.{i}.filters"]) for i, b in enumerate(spec.blocks)]
        return dataclasses.replace(spec, blocks=tuple(blocks))
    return groups, resize


def _cnn(spec, model, input_shape):
    c1, c2 = _names(model, nn.Conv2d)
    b1, b2 = _names(model, nn.BatchNorm2d)
    (b3,) = _names(model, nn.BatchNorm1d)
    lin, fc, out = _names(model, nn.Linear)
    t_f = spec.layers(input_shape)[1].output_shape
    groups = [
        Group("conv1.filters", spec.conv1.filters).add_producer(c1, batch_norm=b1).add_consumer(c2),
        Group("conv2.filters", spec.conv2.filters).add_producer(c2, batch_norm=b2).add_consumer(lin, runs(t_f[0] * t_f[1])),
        Group("linear", spec.linear).add_producer(lin, bias=True).add_consumer(fc),
        Group("fc", spec.fc).add_producer(fc, batch_norm=b3).add_consumer(out),
    ]

    def resize(sizes):
        return dataclasses.replace(
            spec, conv1=dataclasses.replace(spec.conv1, filters=sizes["conv1.filters"]),
            conv2=dataclasses.replace(spec.conv2, filters=sizes["conv2.filters"]), linear=sizes["linear"], fc=sizes["fc"])
    return groups, resize


def _dnn(spec, model, input_shape):
    linears = _names(model, nn.Linear)
    groups = [Group(f"widths.{i}", w).add_producer(linears[i], bias=True).add_consumer(linears[i + 1])
              for i, w in enumerate(spec.widths)]
    return groups, lambda sizes: dataclasses.replace(spec, widths=tuple(sizes[f"widths.{i}"] for i in range(len(spec.widths))))


def _crnn(spec, model, input_shape):
    (conv,) = _names(model, nn.Conv2d)
    linears = _names(model, nn.Linear)  # first GRU's gates, candidate, ..., fc, out
    _, f, _ = spec.layers(input_shape)[0].output_shape
    index = interleaved(spec.conv.filters, f, spec.gru_cells)
    g = Group("conv.filters", spec.conv.filters).add_producer(conv, bias=True)
    g.add_consumer(linears[0], index).add_consumer(linears[1], index)
    fc = Group("fc", spec.fc).add_producer(linears[-2], bias=True).add_consumer(linears[-1])

    def resize(sizes):
        return dataclasses.replace(spec, conv=dataclasses.replace(spec.conv, filters=sizes["conv.filters"]), fc=sizes["fc"])
    return [g, fc], resize


def _tc_resnet(spec, model, input_shape):
    from nas.spaces.residual import ResidualBlock

    blocks = [name for name, m in model.named_modules() if isinstance(m, ResidualBlock)]
    first_conv, first_bn = _names(model, nn.Conv2d)[0], _names(model, nn.BatchNorm2d)[0]
    (fc,) = _names(model, nn.Linear)
    current = Group("first_filters", spec.first_filters).add_producer(first_conv, batch_norm=first_bn)
    groups = [current]
    for i, name in enumerate(blocks):
        filters = spec.blocks[i].filters
        inner = Group(f"blocks.{i}.filters", filters).add_producer(f"{name}.body.1", batch_norm=f"{name}.body.2")
        inner.add_consumer(f"{name}.body.5")
        current.add_consumer(f"{name}.body.1")
        if isinstance(model.get_submodule(f"{name}.shortcut"), nn.Identity):
            out = current  # identity: the block's output channels are its input's
            out.spec_field = f"{out.spec_field}+blocks.{i}.filters"
        else:
            current.add_consumer(f"{name}.shortcut.0")
            out = Group(f"blocks.{i}.filters", filters).add_producer(f"{name}.shortcut.0", batch_norm=f"{name}.shortcut.1")
            groups.append(out)
        out.add_producer(f"{name}.body.5", batch_norm=f"{name}.body.6")
        groups.append(inner)
        current = out
    current.add_consumer(fc)

    def resize(sizes):
        new = [dataclasses.replace(b, filters=sizes[f"blocks.{i}.filters"]) for i, b in enumerate(spec.blocks)]
        return dataclasses.replace(spec, first_filters=sizes["first_filters"], blocks=tuple(new))
    return groups, resize


PLANS = {"ds_cnn": _ds_cnn, "cnn": _cnn, "dnn": _dnn, "crnn": _crnn, "tc_resnet": _tc_resnet}


def channel_groups(candidate, model: nn.Module):
    """(groups, resize: {spec field: kept count} → new spec) for ``candidate``'s family."""
    if candidate.arch not in PLANS:
        raise ConfigError(f"--granularity channel: {candidate.arch} has no channels kws-nas can remove (its recurrent "
                          f"cells are gate-coupled); use --method unstructured, or one of {sorted(PLANS)}")
    return PLANS[candidate.arch](candidate.spec, model, candidate.input_shape)


def channel_scores(group: Group, state: dict[str, torch.Tensor], norm: str) -> torch.Tensor:
    rows = torch.cat([state[key].reshape(group.size, -1) for key in group.scored], dim=1)
    return reduce_norm(rows, norm, (1,))


def _fields(group: Group) -> list[str]:
    return group.spec_field.split("+")


def kept_counts(groups: list[Group], scores: list[torch.Tensor], sparsity: float, scope: str) -> dict[str, int]:
    """Spec field → channels kept (at least one). ``layer``: each field keeps round((1−s)·size);
    ``global``: one norm threshold over every channel of the model, averaged over the groups that share
    a field (a TC-ResNet block's inner and output channels share its one ``filters``)."""
    if scope not in SCOPES:
        raise ConfigError(f"--scope: expected one of {list(SCOPES)}, got {scope!r}")
    counts: dict[str, list[int]] = {}
    if scope == "global":
        flat = torch.cat(scores)
        threshold = flat.sort().values[round(sparsity * flat.numel()) - 1] if sparsity > 0 else -1.0
        above = [int((s > threshold).sum()) for s in scores]
    else:
        above = [round((1 - sparsity) * g.size) for g in groups]
    for g, n in zip(groups, above):
        for name in _fields(g):
            counts.setdefault(name, []).append(n)
    kept = {name: max(1, round(sum(v) / len(v))) for name, v in counts.items()}
    for g in groups:  # fields tied by an identity shortcut keep one count
        for name in _fields(g)[1:]:
            kept[name] = kept[_fields(g)[0]]
    return kept


def _keep_shortcut_kinds(spec, counts: dict[str, int]) -> dict[str, int]:
    """TC-ResNet: a stride-1 block with a projection must keep a count different from its input's,
    or the rebuilt block would get an identity shortcut; it keeps one channel more (or fewer)."""
    if getattr(spec, "arch", "") != "tc_resnet":
        return counts
    previous, prev_orig = counts["first_filters"], spec.first_filters
    for i, block in enumerate(spec.blocks):
        key = f"blocks.{i}.filters"
        if block.stride_t == 1 and block.filters != prev_orig and counts[key] == previous:
            counts[key] += 1 if counts[key] < block.filters else -1
        previous, prev_orig = counts[key], block.filters
    return counts


def select_channels(candidate, model: nn.Module, sparsity: float, norm: str, scope: str = "layer"):
    """(groups, kept channel ids per group, new spec): the ``sparsity`` fraction of channels with the
    lowest ``norm`` dropped from each group (``layer``) or below one threshold (``global``)."""
    check_sparsity(sparsity)
    check_norm(norm)
    groups, resize = channel_groups(candidate, model)
    state = model.state_dict()
    scores = [channel_scores(g, state, norm) for g in groups]
    counts = _keep_shortcut_kinds(candidate.spec, kept_counts(groups, scores, sparsity, scope))
    kept = [s.argsort(descending=True, stable=True)[:counts[_fields(g)[0]]].sort().values
            for g, s in zip(groups, scores)]
    return groups, kept, resize(counts)


def prune_channels(candidate, model: nn.Module, sparsity: float, norm: str, scope: str = "layer",
                   num_classes: int = 12):
    """(smaller model, its Candidate): `select_channels` then `remove_channels`."""
    return remove_channels(candidate, model, *select_channels(candidate, model, sparsity, norm, scope), num_classes)


def remove_channels(candidate, model: nn.Module, groups: list[Group], kept: list[torch.Tensor], spec,
                    num_classes: int = 12):
    """(smaller model, its Candidate): the ``kept`` channels' weights and batch-norm statistics copied
    into the model ``spec.build`` makes; strict loading checks they fit it exactly."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for g, ids in zip(groups, kept):
        for key, dim, index in g.members:
            state[key] = state[key].index_select(dim, index(ids))
    small = spec.build(candidate.input_shape, num_classes)
    try:
        small.load_state_dict(state)
    except RuntimeError as err:  # a plan that does not match the builder: a bug, said plainly
        raise RuntimeError(f"channel pruning of {candidate.arch}: copied weights do not fit {spec}: {err}") from err
    return small.eval(), dataclasses.replace(candidate, spec=spec)
