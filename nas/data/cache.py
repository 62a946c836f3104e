"""MFCC features of a dataset split, extracted once and cached on disk.

The cache key is the dataset fingerprint (relative paths, sizes and mtimes of its files: cheap, and it
changes whenever a file does) + the front-end fingerprint + the loader and augmentation settings, so any
change extracts afresh and nothing stale is ever reused. Features are stored in their int8 board form
(4× smaller than float32); dequantizing them gives exactly ``MfccFrontEnd.features``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nas.atomic import atomic_path
from nas.data.augment import AugmentConfig, apply, draw_params
from nas.data.frontend_config import FrontEndConfig
from nas.data.speech_commands import SpeechCommands
from nas.errors import ConfigError
from nas.paths import features_cache_dir

logger = logging.getLogger(__name__)

_FORMAT = 1  # bump when the stored layout changes


@dataclass
class FeatureSet:
    """Features of one split: ``features`` float32 [N, T, F], ``labels`` int64 [N].

    ``extracted_clips`` counts the clips this call ran through the front end: 0 means all came from the
    cache. Augmented copies follow the original clips, in order, and repeat their ``files``.
    """

    features: "torch.Tensor"  # noqa: F821 (torch is imported lazily)
    labels: "torch.Tensor"  # noqa: F821
    files: list[str] = field(default_factory=list)
    extracted_clips: int = 0
    cache_file: Path | None = None


def dataset_fingerprint(root: str | Path) -> str:
    """SHA-1 over (relative path, size, mtime) of every file; hidden files and folders are skipped."""
    root = Path(root)
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(f for f in files if not f.startswith(".")):
            st = os.stat(os.path.join(folder, name))
            entries.append(f"{os.path.relpath(os.path.join(folder, name), root)}|{st.st_size}|{st.st_mtime_ns}")
    return hashlib.sha1("\n".join(entries).encode()).hexdigest()


def load_features(dataset_root: str | Path | SpeechCommands, frontend: FrontEndConfig, split: str,
                  augment_copies: int = 0, seed: int = 0, cache_dir: str | Path | None = None, *,
                  augment: AugmentConfig = AugmentConfig(), batch_size: int = 256,
                  progress: bool = True) -> FeatureSet:
    """Features of one split, from the cache when it holds them, else extracted and cached.

    Args:
        dataset_root: a Speech Commands folder, or a ``SpeechCommands`` built with non-default shares.
        frontend: the MFCC settings.
        split: train, validation or test.
        augment_copies: augmented copies of the train split added after the originals; validation and
            test are never augmented, so the value is ignored for them.
        seed: drives the loader's choice of unknown/silence clips (folder given) and the augmentation.
        cache_dir: where the cache lives; default ``nas.paths.features_cache_dir()`` (the user's cache
            folder: the dataset folder is never written to, it may be read-only or shared).
        augment: the augmentation recipe.
        batch_size: clips decoded and transformed at once.
        progress: show a tqdm bar while extracting.
    """

    from nas.data.frontend import MfccFrontEnd

    dataset = dataset_root if isinstance(dataset_root, SpeechCommands) else SpeechCommands(dataset_root, seed=seed)
    copies = augment_copies if split == "train" else 0
    if copies < 0:
        raise ConfigError(f"load_features: augment_copies must be >= 0, got {augment_copies}")
    key = {"format": _FORMAT, "dataset": dataset_fingerprint(dataset.root), "loader": dataset.settings(),
           "frontend": frontend.fingerprint(), "split": split, "copies": copies,
           "augment": {**augment.to_dict(), "seed": seed} if copies else None}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    folder = Path(cache_dir) if cache_dir is not None else features_cache_dir()
    path = folder / f"{split}-{digest}.pt"

    front_end = MfccFrontEnd(frontend)
    stored = _read_cache(path)
    extracted = 0
    if stored is None:
        stored = _extract(dataset, split, front_end, copies, seed, augment, batch_size, progress)
        extracted = len(stored["labels"])
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, stored)
    features = front_end.dequantize_int8(stored["features_int8"])
    return FeatureSet(features, stored["labels"], list(stored["files"]), extracted, path)


def _read_cache(path: Path) -> dict | None:
    import torch

    if not path.is_file():
        return None
    try:
        return torch.load(path, weights_only=True)
    except Exception as err:  # a damaged cache is only lost time: extract again
        logger.warning("%s: unreadable feature cache (%s); extracting again", path, err)
        return None


def _write_atomic(path: Path, stored: dict) -> None:
    """tmp file + rename in the same folder, so a killed run never leaves a half cache that looks whole."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(stored, tmp)


def _extract(dataset: SpeechCommands, split: str, front_end, copies: int, seed: int,
             augment: AugmentConfig, batch_size: int, progress: bool) -> dict:
    import torch
    from tqdm import tqdm

    refs = dataset.index(split)
    if not refs:
        dataset.clips(split)  # raises the loader's one clear error for an empty split
    n = len(refs)
    cfg = front_end.config
    frames = 1 + (dataset.clip_samples - cfg.window_samples) // cfg.stride_samples
    out = torch.empty((copies + 1) * n, frames, cfg.n_mfcc, dtype=torch.int8)
    noises = [dataset.background_noise[name] for name in sorted(dataset.background_noise)]
    # Drawn for the whole split up front: the result depends on the seed, not on batch_size.
    params = [draw_params(n, dataset.clip_samples, noises, np.random.default_rng([seed, 7, c]), augment,
                          dataset.sample_rate) for c in range(copies)]
    files: list[str] = []
    # a context: a bad clip's error then starts a line of its own, not the bar's
    with tqdm(total=(copies + 1) * n, desc=f"MFCC {split}", unit="clip", disable=not progress) as bar:
        for start in range(0, n, batch_size):
            clips = dataset.load(refs[start : start + batch_size])
            files += clips.files
            stop = start + len(clips.labels)
            out[start:stop] = front_end.quantize_int8(front_end(torch.from_numpy(clips.waveforms)))
            bar.update(stop - start)
            for c, drawn in enumerate(params, start=1):
                augmented = apply(clips.waveforms, noises, drawn[start:stop])
                out[c * n + start : c * n + stop] = front_end.quantize_int8(front_end(torch.from_numpy(augmented)))
                bar.update(stop - start)
    labels = torch.from_numpy(np.array([r.label for r in refs], dtype=np.int64)).repeat(copies + 1)
    return {"features_int8": out, "labels": labels, "files": files * (copies + 1)}
