"""Unstructured pruning masks: element, block (1×B / B×1) and N:M, ranked by an L1, L2 or L∞ norm.

Every Conv2d and Linear weight of a model is prunable, the RNNs' gate matrices included (their cells
are plain Linear layers). Each weight is seen as the 2-D matrix its int8 kernel walks: rows are output
channels and the columns follow the kernel's inner loop, TFLite's OHWI order (input channels fastest)
for a conv and the input features for a fully connected layer; a depthwise conv's inner loop runs over
its channels, so its matrix is [kh·kw, C]. A block 1×4 is four neighbours along that inner loop, 4×1
four output rows at one column; N:M keeps the N largest of every M neighbours along the inner loop.

The masks are applied with ``torch.nn.utils.prune.custom_from_mask``: the forward pass multiplies by
the mask, so fine-tuning updates ``weight_orig`` but the pruned weights stay zero (they never re-grow).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune

from nas.errors import ConfigError

NORMS = ("l1", "l2", "linf")
SCOPES = ("global", "layer")


def check_sparsity(value: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise ConfigError(f"--sparsities: each sparsity must lie in [0, 1), got {value!r}")
    return float(value)


def check_norm(norm: str) -> str:
    if norm not in NORMS:
        raise ConfigError(f"--norm: unknown norm {norm!r}; expected one of {list(NORMS)}")
    return norm


def prunable(model: nn.Module) -> dict[str, nn.Module]:
    """Name → every Conv2d and Linear module of ``model`` (their ``weight`` is what gets pruned)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))}


def weight_of(module: nn.Module) -> torch.Tensor:
    """The effective weight (``weight_orig * mask`` once masked)."""
    return module.weight.detach()


def as_matrix(module: nn.Module, weight: torch.Tensor) -> torch.Tensor:
    """``weight`` as the kernel's [rows, inner loop] matrix (see the module docstring)."""
    if isinstance(module, nn.Linear):
        return weight
    if module.groups > 1 and module.groups == module.in_channels:  # depthwise: [C,1,kh,kw] → [kh·kw, C]
        return weight.reshape(weight.shape[0], -1).t()
    return weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1)


def from_matrix(module: nn.Module, matrix: torch.Tensor) -> torch.Tensor:
    """The inverse of `as_matrix`."""
    shape = module.weight.shape
    if isinstance(module, nn.Linear):
        return matrix
    if module.groups > 1 and module.groups == module.in_channels:
        return matrix.t().reshape(shape)
    return matrix.reshape(shape[0], shape[2], shape[3], shape[1]).permute(0, 3, 1, 2)


def reduce_norm(values: torch.Tensor, norm: str, dims: tuple[int, ...]) -> torch.Tensor:
    a = values.abs()
    if norm == "l1":
        return a.sum(dims)
    if norm == "l2":
        return a.pow(2).sum(dims).sqrt()
    return a.amax(dims)


def _tiles(matrix: torch.Tensor, rows: int, cols: int, fill: float) -> torch.Tensor:
    """[R, K] → [R/rows, rows, K/cols, cols], padded with ``fill`` up to whole tiles."""
    r, k = matrix.shape
    padded = nn.functional.pad(matrix, (0, -k % cols, 0, -r % rows), value=fill)
    return padded.reshape(padded.shape[0] // rows, rows, padded.shape[1] // cols, cols)


def _untile(tiles: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    a, rows, b, cols = tiles.shape
    return tiles.reshape(a * rows, b * cols)[: shape[0], : shape[1]]


def block_masks(model: nn.Module, sparsity: float, norm: str, scope: str, block: tuple[int, int]) -> dict[str, torch.Tensor]:
    """Masks pruning the ``sparsity`` fraction of blocks (element = block 1×1) with the lowest norm.

    ``layer`` scope prunes that fraction of each weight's blocks; ``global`` ranks all blocks of the
    model together (a layer may lose more or fewer than the rest).
    """
    check_sparsity(sparsity)
    check_norm(norm)
    if scope not in SCOPES:
        raise ConfigError(f"--scope: expected one of {list(SCOPES)}, got {scope!r}")
    rows, cols = block
    modules = prunable(model)
    scores = {name: reduce_norm(_tiles(as_matrix(m, weight_of(m)), rows, cols, 0.0), norm, (1, 3))
              for name, m in modules.items()}
    if scope == "global":
        flat = torch.cat([s.flatten() for s in scores.values()])
        threshold_rank = round(sparsity * flat.numel())
        pruned = torch.zeros(flat.numel(), dtype=torch.bool)
        pruned[flat.argsort(stable=True)[:threshold_rank]] = True
        keeps, start = {}, 0
        for name, s in scores.items():
            keeps[name] = ~pruned[start:start + s.numel()].reshape(s.shape)
            start += s.numel()
    else:
        keeps = {}
        for name, s in scores.items():
            keep = torch.ones(s.numel(), dtype=torch.bool)
            keep[s.flatten().argsort(stable=True)[:round(sparsity * s.numel())]] = False
            keeps[name] = keep.reshape(s.shape)
    masks = {}
    for name, m in modules.items():
        keep = keeps[name][:, None, :, None].expand(-1, rows, -1, cols).float()
        masks[name] = from_matrix(m, _untile(keep, as_matrix(m, weight_of(m)).shape).contiguous())
    return masks


def nm_masks(model: nn.Module, n: int, m: int, norm: str) -> dict[str, torch.Tensor]:
    """Keep the N largest of every M neighbours along each weight's inner loop (a ragged last group of
    r < M keeps min(N, r)); the scope does not apply: the pattern is per group by definition."""
    check_norm(norm)
    masks = {}
    for name, module in prunable(model).items():
        matrix = as_matrix(module, weight_of(module))
        groups = _tiles(matrix.abs(), 1, m, -1.0)  # padding ranks below every real weight
        order = groups.argsort(dim=3, descending=True, stable=True)
        keep = torch.zeros_like(groups)
        keep.scatter_(3, order[..., :n], 1.0)
        keep = keep * (groups >= 0)
        masks[name] = from_matrix(module, _untile(keep, matrix.shape).contiguous())
    return masks


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Attach ``masks`` to ``model``'s weights (in place): pruned weights stay zero while training."""
    modules = prunable(model)
    for name, mask in masks.items():
        torch_prune.custom_from_mask(modules[name], "weight", mask)
    return model


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold the masks into plain weights (zeros stay zeros); the model is an ordinary one again."""
    for module in prunable(model).values():
        if torch_prune.is_pruned(module) and hasattr(module, "weight_mask"):
            torch_prune.remove(module, "weight")
    return model


def weight_sparsity(model: nn.Module) -> float:
    """Fraction of zeros over all prunable weights."""
    weights = [weight_of(m) for m in prunable(model).values()]
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / max(1, sum(w.numel() for w in weights))


def parse_pair(flag: str, text: str, sep: str) -> tuple[int, int]:
    """``'1x4'`` or ``'2:4'`` → (1, 4); ConfigError naming the flag otherwise."""
    try:
        a, b = (int(v) for v in text.split(sep))
    except ValueError:
        raise ConfigError(f"{flag}: expected two integers like 'A{sep}B', got {text!r}") from None
    if a < 1 or b < 1:
        raise ConfigError(f"{flag}: both numbers must be >= 1, got {text!r}")
    return a, b


def nm_sparsity(n: int, m: int) -> float:
    if n >= m:
        raise ConfigError(f"--nm: N must be below M (N:M keeps N of every M weights), got {n}:{m}")
    return 1 - n / m

