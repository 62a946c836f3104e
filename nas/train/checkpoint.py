"""Checkpoints that load with ``torch.load(weights_only=True)``: plain tensors and JSON metadata.

Layout of the saved dict::

    {"format": "kws-nas-checkpoint", "version": 1, "num_classes": 12,
     "candidate": Candidate.to_dict(), "extra": {...JSON...}, "state_dict": {name: tensor}}

No pickled classes are stored, so loading never runs code from the file; the model is rebuilt
from the candidate with ``nas.spaces.build_model`` and must match the weights exactly.
"""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import torch
from torch import nn

from nas.atomic import atomic_path
from nas.data.speech_commands import LABELS
from nas.errors import ConfigError

FORMAT = "kws-nas-checkpoint"
VERSION = 1


def save_checkpoint(
    path: str | os.PathLike, model: nn.Module, candidate_dict: dict, extra: dict, num_classes: int = len(LABELS)
) -> Path:
    """Write ``model``'s weights and metadata to ``path`` atomically (temp file + rename).

    ``candidate_dict`` and ``extra`` must be JSON-serialisable; they are stored as their JSON
    round trip so the file holds only types ``weights_only`` loading accepts.
    """
    path = Path(path)
    try:
        metadata = json.loads(json.dumps({"candidate": candidate_dict, "extra": extra}))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"checkpoint {path}: candidate_dict and extra must be JSON-serialisable ({err})") from err
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "num_classes": int(num_classes),
        **metadata,
        "state_dict": {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()},
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        torch.save(payload, handle)
        handle.flush()
        os.fsync(handle.fileno())  # on disk before the rename publishes it
    return path


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The raw checkpoint dict, loaded with ``weights_only=True``; clear errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"checkpoint {path}: no such file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as err:
        raise ConfigError(f"checkpoint {path}: not a readable torch checkpoint ({err})") from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ConfigError(f"checkpoint {path}: not a {FORMAT} file (no 'format': '{FORMAT}' entry)")
    if payload.get("version") != VERSION:
        raise ConfigError(f"checkpoint {path}: version {payload.get('version')}, this kws-nas reads {VERSION}")
    return payload


def load_checkpoint(path: str | os.PathLike) -> tuple[nn.Module, dict, dict]:
    """Rebuild the model a checkpoint describes and load its weights.

    Returns:
        (model in eval mode, candidate_dict, extra).

    Raises:
        ConfigError: the file is missing or not a checkpoint, its candidate is invalid, or its
            weights do not fit the model the candidate builds (naming the first mismatched key).
    """
    from nas.spaces import Candidate, build_model

    payload = read_checkpoint(path)
    candidate_dict = payload["candidate"]
    model = build_model(Candidate.from_dict(candidate_dict), num_classes=payload["num_classes"])
    state = payload["state_dict"]
    _check_state_matches(path, model.state_dict(), state)
    model.load_state_dict(state)
    model.eval()
    return model, candidate_dict, payload["extra"]


def _check_state_matches(path, expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> None:
    for key, tensor in expected.items():
        if key not in found:
            raise ConfigError(f"checkpoint {path}: weights lack '{key}' {tuple(tensor.shape)} that the candidate's model has")
        if found[key].shape != tensor.shape:
            raise ConfigError(
                f"checkpoint {path}: '{key}' has shape {tuple(found[key].shape)}, "
                f"the candidate's model expects {tuple(tensor.shape)}"
            )
    for key in found:
        if key not in expected:
            raise ConfigError(f"checkpoint {path}: weights hold '{key}' that the candidate's model does not have")
