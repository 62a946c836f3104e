"""Training loop for one candidate on in-memory features, on the CPU or a CUDA GPU.

The whole feature set is one tensor, resident on the training device; batches are index permutations of
it (no DataLoader, no workers): on two cores the model, not data loading, must have the CPU, and on a GPU
no batch crosses the bus. Augmentation happens in feature space on the batch (time shift,
SpecAugment-style masks), so it costs a few tensor ops. Every random draw (batch order, augmentation)
comes from one seeded CPU generator, so a seed draws the same batches and augmentations on every device.
The recipe itself (schedule, length, augmentation) is ``nas.train.config.TrainConfig``.

Speed (benchmarks/bench_train.py, Hello Edge's small DS-CNN): conv weights in channels_last and
bfloat16 autocast on CPUs with native bfloat16 are the defaults; torch.compile was measured and
left out (20-30 s of compilation per architecture, no faster afterwards on two cores).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

import torch
from torch import nn

from nas.errors import ConfigError
from nas.train.config import TrainConfig


class FeatureBatch(Protocol):
    """What the trainer needs of a feature set (nas.data.cache.FeatureSet satisfies it)."""

    features: torch.Tensor  # float32 [N, T, F]
    labels: torch.Tensor  # int64 [N]


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite; ``epoch`` says when (1-based)."""

    def __init__(self, epoch: int, step: int):
        super().__init__(f"training diverged: non-finite loss in epoch {epoch} (step {step})")
        self.epoch = epoch
        self.step = step


@dataclass
class TrainResult:
    """What one training run produced; the model itself ends holding ``best_state_dict``."""

    history: list[dict] = field(default_factory=list)
    best_val_acc: float = 0.0
    best_epoch: int = 0
    best_state_dict: dict[str, torch.Tensor] = field(default_factory=dict)
    stopped_early: bool = False
    train_samples_per_s: float = 0.0
    bf16: bool = False  # whether training autocast to bfloat16
    channels_last: bool = False  # whether conv weights were laid out channels-last
    fallback: str = ""  # why training ran in float32 / the default layout although the config asked otherwise
    device: str = "cpu"  # where it trained: cpu or cuda


class FeatureAugmenter:
    """Batched feature-space augmentation drawn from one seeded generator."""

    def __init__(self, config: TrainConfig, fill: torch.Tensor, generator: torch.Generator):
        self.config = config
        self.fill = fill  # [F]: per-coefficient training mean, a neutral value for masked cells
        self.generator = generator

    @property
    def active(self) -> bool:
        c = self.config
        return bool(c.time_shift_frames or c.time_mask_frames or c.freq_mask_bins)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        c, g = self.config, self.generator
        batch, frames, coeffs = x.shape
        # Drawn on the CPU generator whatever x's device, so a seed means the same draws everywhere.
        if c.time_shift_frames:
            shift = torch.randint(-c.time_shift_frames, c.time_shift_frames + 1, (batch, 1), generator=g)
            # Edge frames are repeated rather than zero-filled: zero is not silence in MFCC space.
            src = (torch.arange(frames).unsqueeze(0) - shift).clamp_(0, frames - 1).to(x.device)
            x = torch.gather(x, 1, src.unsqueeze(-1).expand(batch, frames, coeffs))
        mask = torch.zeros(batch, frames, coeffs, dtype=torch.bool)
        if c.time_mask_frames:
            mask |= self._band(batch, frames, c.time_mask_frames).unsqueeze(2)
        if c.freq_mask_bins:
            mask |= self._band(batch, coeffs, c.freq_mask_bins).unsqueeze(1)
        if c.time_mask_frames or c.freq_mask_bins:
            x = torch.where(mask.to(x.device), self.fill.to(x.device), x)
        return x

    def mix(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mixup: (mixed x, each clip's partner index, each clip's own share in [0.5, 1])."""
        batch = x.shape[0]
        a = torch.full((batch,), float(self.config.mixup_alpha))
        # Beta(a, a) as a ratio of gammas drawn on the seeded generator (torch's Beta takes none).
        g1, g2 = (torch._standard_gamma(a, generator=self.generator) for _ in range(2))
        share = torch.maximum(g1 / (g1 + g2), g2 / (g1 + g2)).nan_to_num_(1.0)
        partner = torch.randperm(batch, generator=self.generator)
        share, partner = share.to(x.device), partner.to(x.device)
        w = share.view(batch, *([1] * (x.dim() - 1)))
        return w * x + (1 - w) * x.index_select(0, partner), partner, share

    def _band(self, batch: int, length: int, max_width: int) -> torch.Tensor:
        """[batch, length] bool: one random band of width 0..max_width per row."""
        g = self.generator
        width = torch.randint(0, min(max_width, length) + 1, (batch, 1), generator=g)
        start = (torch.rand(batch, 1, generator=g) * (length - width + 1)).long()
        pos = torch.arange(length).unsqueeze(0)
        return (pos >= start) & (pos < start + width)


def _check_sets(train_set: FeatureBatch, val_set: FeatureBatch) -> None:
    for name, data in (("train_set", train_set), ("val_set", val_set)):
        feats, labels = data.features, data.labels
        if feats.ndim != 3 or feats.dtype != torch.float32:
            raise ConfigError(f"train: {name}.features must be float32 [N, T, F], got {feats.dtype} {tuple(feats.shape)}")
        if labels.shape != (feats.shape[0],) or labels.dtype != torch.int64:
            raise ConfigError(f"train: {name}.labels must be int64 [{feats.shape[0]}], got {labels.dtype} {tuple(labels.shape)}")
        if feats.shape[0] < (2 if name == "train_set" else 1):
            raise ConfigError(f"train: {name} holds {feats.shape[0]} clips, too few to train on")
    if train_set.features.shape[1:] != val_set.features.shape[1:]:
        raise ConfigError(
            f"train: train_set features {tuple(train_set.features.shape[1:])} and val_set features "
            f"{tuple(val_set.features.shape[1:])} differ in shape"
        )


def _batches(n: int, batch_size: int, generator: torch.Generator):
    perm = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        idx = perm[start : start + batch_size]
        if idx.numel() > 1:  # BatchNorm cannot train on a batch of one
            yield idx


@torch.inference_mode()
def loss_and_accuracy(model: nn.Module, data: FeatureBatch, batch_size: int = 1000) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` (in eval mode) over ``data`` (on the model's device)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total_loss, correct = torch.zeros((), device=device), torch.zeros((), dtype=torch.int64, device=device)
    for start in range(0, data.features.shape[0], batch_size):
        x = data.features[start : start + batch_size].to(device)
        y = data.labels[start : start + batch_size].to(device)
        logits = model(x)
        total_loss += nn.functional.cross_entropy(logits, y, reduction="sum")
        correct += (logits.argmax(1) == y).sum()
    model.train(was_training)
    total_loss, correct = total_loss.item(), int(correct)
    n = data.features.shape[0]
    return total_loss / n, correct / n


def train(
    model: nn.Module,
    train_set: FeatureBatch,
    val_set: FeatureBatch,
    config: TrainConfig,
    on_epoch: Callable[[int, dict], None] | None = None,
    teacher: nn.Module | None = None,
) -> TrainResult:
    """Train ``model`` in place and return its history and best weights.

    Args:
        model: takes float [B, T, F], returns logits [B, classes].
        train_set, val_set: in-memory features (``features`` [N, T, F], ``labels`` [N]).
        config: length (epochs or steps), batch size, schedule, augmentation, seed, device.
        on_epoch: called as ``on_epoch(epoch, stats)`` after each epoch (1-based); whatever it
            raises (e.g. ``optuna.TrialPruned``) stops training and propagates.
        teacher: a trained model of the same classes to distil from (`distillation_loss`, weighted by
            ``config.distill_alpha`` at ``config.distill_temperature``); it sees the same augmented
            batches and is never updated.

    Returns:
        TrainResult; ``model`` is left holding the weights of the best validation epoch, on the CPU
        (where export and evaluation expect it) whatever device trained it.

    Reduced precision and the channels-last layout are used only where they compute what float32 in the
    default layout computes: some CPU kernels return wrong or non-finite values for a few layer shapes
    (measured with oneDNN: a 9×6 conv with frequency stride 3 over 8 MFCCs, whose output is one column
    wide, is wrong in bfloat16 and in float32 channels-last). `safe_precision` checks one batch before
    training; a run whose loss still turns non-finite is retried once in float32, default layout, from
    the same initial weights and seed (``on_epoch`` then sees epoch 1 again).

    Raises:
        TrainingDiverged: the training loss became NaN or infinite in float32.
        ConfigError: ``config.device`` is ``cuda`` where torch sees no GPU.
    """
    _check_sets(train_set, val_set)
    device = config.torch_device()
    previous_threads = torch.get_num_threads()
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    initial = _copy_state(model)
    try:
        model.to(device)
        if teacher is not None:
            teacher.to(device).eval()
        train_set, val_set = _resident(train_set, device), _resident(val_set, device)
        bf16, channels_last, fallback = safe_precision(model, train_set.features[: config.batch_size], config)
        try:
            result = _train(model, train_set, val_set, config, on_epoch, bf16, channels_last, teacher)
        except TrainingDiverged as err:
            if not (bf16 or channels_last):
                raise
            model.to(memory_format=torch.contiguous_format).load_state_dict(initial)
            result = _train(model, train_set, val_set, config, on_epoch, bf16=False, channels_last=False,
                            teacher=teacher)
            fallback = f"float32, default layout after {err}"
        result.fallback = fallback
        result.device = device.type
        return result
    finally:
        model.to("cpu")
        if teacher is not None:
            teacher.to("cpu")
        torch.set_num_threads(previous_threads)


@dataclass
class _Resident:
    features: torch.Tensor
    labels: torch.Tensor


def _resident(data: FeatureBatch, device: torch.device) -> FeatureBatch:
    """``data`` with its tensors on ``device`` (the same object when they already are)."""
    if data.features.device == device:
        return data
    return _Resident(data.features.to(device), data.labels.to(device))


def safe_precision(model: nn.Module, batch: torch.Tensor, config: TrainConfig) -> tuple[bool, bool, str]:
    """(bf16, channels_last, why any was dropped): the config's precision and layout where ``model``'s
    outputs on ``batch`` under them match float32 in the default layout, else the safe ones. ``model``
    and ``batch`` are on the training device."""
    asked_bf16 = config.use_bf16(batch.device)
    reference = _outputs(model, batch, bf16=False, channels_last=False)
    tries = ((asked_bf16, config.channels_last), (False, config.channels_last), (False, False))
    for bf16, channels_last in tries:
        out = _outputs(model, batch, bf16, channels_last)
        scale = reference.abs().max().item() + 1e-6
        if torch.isfinite(out).all() and (out - reference).abs().max().item() <= 0.25 * scale:
            break
    asked_used = (("bfloat16", asked_bf16, bf16), ("channels-last", config.channels_last, channels_last))
    dropped = [name for name, asked, used in asked_used if asked and not used]
    why = f"{' and '.join(dropped)} gave wrong outputs for this model's layers" if dropped else ""
    return bf16, channels_last, why


def _outputs(model: nn.Module, batch: torch.Tensor, bf16: bool, channels_last: bool) -> torch.Tensor:
    probe = copy.deepcopy(model).eval()  # eval: the check must not move batch-norm statistics
    if channels_last:
        probe.to(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast(batch.device.type, dtype=torch.bfloat16, enabled=bf16):
        return probe(batch).float()


def mixed_labels(y: torch.Tensor, partner: torch.Tensor, share: torch.Tensor, classes: int) -> torch.Tensor:
    """Mixup's soft targets, [B, classes]: each clip's label and its partner's, weighted as their features."""
    one_hot = nn.functional.one_hot(y, classes).float()
    share = share.unsqueeze(1)
    return share * one_hot + (1 - share) * one_hot.index_select(0, partner)


def distillation_loss(logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL divergence from the teacher's to the student's outputs, both softened by ``temperature`` and
    scaled by its square so the gradients keep their size as the temperature changes (Hinton et al. 2015)."""
    soft = torch.log_softmax(teacher_logits.float() / temperature, dim=1)
    return temperature ** 2 * nn.functional.kl_div(torch.log_softmax(logits.float() / temperature, dim=1), soft,
                                                   reduction="batchmean", log_target=True)


def _train(model, train_set, val_set, config: TrainConfig, on_epoch, bf16: bool,
           channels_last: bool, teacher: nn.Module | None = None) -> TrainResult:
    torch.manual_seed(config.seed)  # dropout and any other global-RNG use inside the model
    if channels_last:
        model.to(memory_format=torch.channels_last)  # only 4-D weights change; others are left as they are
    generator = torch.Generator().manual_seed(config.seed)
    features, labels = train_set.features, train_set.labels
    device = features.device
    augment = FeatureAugmenter(config, features.mean(dim=(0, 1)), generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr_phases[0], weight_decay=config.weight_decay)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    n = features.shape[0]
    total_steps = config.total_steps(n)

    result = TrainResult(best_val_acc=-1.0, best_state_dict=_copy_state(model), bf16=bf16,
                         channels_last=channels_last)
    step, epochs_since_best, train_seconds, samples_trained = 0, 0, 0.0, 0
    epochs = config.epoch_count(n)
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        model.train()
        # Summed on the device and read once per epoch: a per-step .item() would wait for the GPU.
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        seen = 0
        for idx in _batches(n, config.batch_size, generator):
            if step == total_steps:  # a steps-long run ends inside its last epoch
                break
            lr = config.lr_at(step, total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            idx = idx.to(device)
            x, y = features.index_select(0, idx), labels.index_select(0, idx)
            if augment.active:
                x = augment(x)
            if config.mixup_alpha:
                x, partner, share = augment.mix(x)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=result.bf16):
                logits = model(x)
                loss = loss_fn(logits, mixed_labels(y, partner, share, logits.shape[1]) if config.mixup_alpha else y)
                if teacher is not None:
                    with torch.no_grad():
                        teacher_logits = teacher(x)
                    alpha = config.distill_alpha
                    loss = (1 - alpha) * loss + alpha * distillation_loss(logits, teacher_logits,
                                                                          config.distill_temperature)
            if device.type == "cpu" and not math.isfinite(loss.item()):  # free on the CPU: stop at once
                raise TrainingDiverged(epoch, step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            loss_sum += loss.detach().float() * y.numel()
            correct += (logits.detach().argmax(1) == y).sum()
            seen += y.numel()
        loss_sum = loss_sum.item()
        if not math.isfinite(loss_sum):  # on a GPU, checked once an epoch: a per-step check would sync
            raise TrainingDiverged(epoch, step)
        correct = int(correct)
        epoch_train_seconds = time.perf_counter() - started
        train_seconds += epoch_train_seconds
        samples_trained += seen
        val_loss, val_acc = loss_and_accuracy(model, val_set, config.eval_batch_size)
        stats = {
            "epoch": epoch,
            "train_loss": loss_sum / seen,
            "train_acc": correct / seen,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "lr": lr,
            "seconds": time.perf_counter() - started,
            "train_samples_per_s": seen / epoch_train_seconds,
        }
        result.history.append(stats)
        if val_acc > result.best_val_acc:
            result.best_val_acc, result.best_epoch = val_acc, epoch
            result.best_state_dict = _copy_state(model)
            epochs_since_best = 0
        else:
            epochs_since_best += 1
        if on_epoch is not None:
            on_epoch(epoch, dict(stats))
        patience = config.early_stopping_patience
        if patience and epochs_since_best >= patience and epoch < epochs:
            result.stopped_early = True
            break
    model.load_state_dict(result.best_state_dict)
    result.train_samples_per_s = samples_trained / train_seconds
    return result


def _copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The weights, copied to the CPU (a GPU run keeps no second copy of them on the device)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
