"""What one pruned model costs and scores: nonzero parameters, effective MACs, desktop latency, and the
short fine-tune every point is also measured after."""
from __future__ import annotations

import math
import statistics
import time

import torch
from torch import nn

from nas.train.trainer import distillation_loss


def nonzero_params(model: nn.Module) -> int:
    """Nonzero entries of every parameter (a masked model must be made permanent first)."""
    return sum(int(torch.count_nonzero(p)) for p in model.parameters())


@torch.inference_mode()
def effective_macs(model: nn.Module, input_shape: tuple[int, int]) -> int:
    """Multiply-accumulates with a nonzero weight, per inference (batch 1), over Conv2d and Linear
    layers: each nonzero weight is used once per output position (conv) or per call (FC, once per time
    step in an RNN). Batch norm folds into its conv on export; pooling and activations are not MACs."""
    total = 0

    def count(module, _inputs, output):
        nonlocal total
        nnz = int(torch.count_nonzero(module.weight))
        per_call = output.numel() // output.shape[1] if isinstance(module, nn.Conv2d) else output.numel() // module.out_features
        total += nnz * per_call

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        was_training = model.training
        model.eval()(torch.zeros(1, *input_shape))
        model.train(was_training)
    finally:
        for h in hooks:
            h.remove()
    return total


@torch.inference_mode()
def cpu_latency_ms(model: nn.Module, input_shape: tuple[int, int], repeats: int = 30, warmup: int = 5) -> float:
    """Median wall time of one batch-1 float inference on one CPU thread (the board has one core too)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model.eval()
    x = torch.randn(1, *input_shape)
    try:
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return 1e3 * statistics.median(times)


def finetune(model: nn.Module, train_set, steps: int, lr: float = 5e-4, batch_size: int = 100, seed: int = 0,
             teacher: nn.Module | None = None, temperature: float = 4.0, alpha: float = 0.5) -> nn.Module:
    """``steps`` Adam steps on random training batches, in place; the learning rate decays from ``lr``
    along a cosine (to 3 % of it), which recovers more accuracy than a constant rate. Masks attached with
    `nas.prune.masks.apply_masks` stay applied: a pruned weight's gradient is zero through its mask and
    the forward pass multiplies by the mask, so pruned weights never re-grow.

    With a ``teacher`` (the unpruned model), the loss is knowledge distillation (Hinton et al. 2015):
    ``alpha`` of the KL divergence to the teacher's outputs softened by ``temperature`` (scaled by its
    square, so the gradients keep their size), plus ``1 - alpha`` of the labels' cross-entropy."""
    if steps <= 0:
        return model.eval()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    n = train_set.features.shape[0]
    if teacher is not None:
        teacher.eval()
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr * (0.03 + 0.97 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        idx = torch.randint(0, n, (min(batch_size, n),), generator=generator)
        logits = model(train_set.features[idx])
        loss = loss_fn(logits, train_set.labels[idx])
        if teacher is not None:
            with torch.no_grad():
                teacher_logits = teacher(train_set.features[idx])
            loss = (1 - alpha) * loss + alpha * distillation_loss(logits, teacher_logits, temperature)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()
