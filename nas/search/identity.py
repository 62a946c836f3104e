"""What defines a study: the settings that give its trials' values their meaning.

A resumed study only takes more trials when these match, because its Pareto front and ``summary.md``
compare every trial as if it were made under one definition:

- ``search_space`` and ``constraints``: the resolved group configs (architecture, ranges, front-end
  ranges; budget limits or board profile);
- ``data``: the dataset folder (absolute), its kind and its augmented copies: accuracies on other
  clips are other numbers; for a generated set also its ``generator`` (a hash of its manifest), since a
  new generator regenerates the default set in the same folder;
- ``train``: the training recipe, minus its seed and the knobs that only change speed: an accuracy
  after 10 epochs does not compare with one after 40;
- ``objective`` (float or int8 accuracy) and ``board`` (ops or measured latency as third objective).

The sampler, its seed, the pruner, ``trials``, ``timeout`` and the storage's heartbeats do not define a
study: they change which candidates are tried and when a run stops, not what a trial's values mean.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import optuna
from omegaconf import DictConfig, OmegaConf

from nas.data.synth import MANIFEST
from nas.errors import ConfigError

log = logging.getLogger("nas.search")

DEFINITION_ATTR = "definition"
# TrainConfig fields that do not define a study: the seed (it follows the search's ``seed``: another
# draw of the same recipe) and what only changes how fast a candidate trains (bench_train.py).
TRAIN_KEYS_NOT_DEFINING = ("seed", "num_threads", "device", "channels_last", "bf16", "eval_batch_size")


def defining_train_settings(train: dict) -> dict:
    """The TrainConfig settings that define a study's numbers. ``steps`` only when set: studies stored
    before the key existed (every run then lasted ``epochs``) still resume."""
    return {k: v for k, v in train.items()
            if k not in TRAIN_KEYS_NOT_DEFINING and not (k == "steps" and v is None)}


def study_definition(cfg: DictConfig, dataset_root: str | Path) -> dict:
    """The defining settings of ``cfg`` as plain JSON values (stored in the study's user attributes)."""
    train = OmegaConf.to_container(cfg.train, resolve=True)
    definition = {
        "search_space": OmegaConf.to_container(cfg.search_space, resolve=True),
        "constraints": OmegaConf.to_container(cfg.constraints, resolve=True),
        "data": {"root": str(Path(dataset_root).resolve()), "kind": cfg.data.kind,
                 "augment_copies": cfg.data.augment_copies},
        "train": defining_train_settings(train),
        "objective": "int8" if cfg.objective.accuracy == "int8" else "float",
        "board": cfg.board.name,
    }
    if cfg.data.split_test_archive:  # only when set: studies stored before the key existed still resume
        definition["data"]["split_test_archive"] = True
    manifest = Path(dataset_root) / MANIFEST
    if manifest.is_file():  # a generated set: which voices and engines made its clips
        definition["data"]["generator"] = hashlib.sha1(manifest.read_bytes()).hexdigest()[:12]
    frontend = definition["search_space"].get("frontend")
    if isinstance(frontend, dict) and frontend.get("decimation") == 1:
        del frontend["decimation"]  # the default, as FrontEndConfig.to_dict leaves it out: older studies resume
    return json.loads(json.dumps(definition))  # tuples → lists, as the storage gives them back


def differences(stored: dict, current: dict, prefix: str = "") -> list[str]:
    """'key: was X, now Y' for each dotted key whose value differs."""
    out = []
    for key in sorted(set(stored) | set(current), key=str):
        name = f"{prefix}{key}"
        old, new = stored.get(key, _ABSENT), current.get(key, _ABSENT)
        if isinstance(old, dict) and isinstance(new, dict):
            out += differences(old, new, f"{name}.")
        elif old != new:
            out.append(f"{name}: was {_show(old)}, now {_show(new)}")
    return out


_ABSENT = object()


def _show(value) -> str:
    return "(not set)" if value is _ABSENT else json.dumps(value)


def check_definition(study: optuna.Study, definition: dict) -> None:
    """Store ``definition`` on a new study; on a resumed one, refuse a different definition.

    A study from before definitions were stored resumes with a warning and gets this one.

    Raises:
        ConfigError: the study was made with other defining settings (each difference is named).
    """
    stored = study.user_attrs.get(DEFINITION_ATTR)
    if stored is None:
        if study.get_trials(deepcopy=False):
            log.warning("study %s records no definition (made by an older kws-nas): resuming it without checking "
                        "that its search space, budget, dataset and recipe match this run's", study.study_name)
        study.set_user_attr(DEFINITION_ATTR, definition)
        return
    if "generator" in definition.get("data", {}) and "generator" not in stored.get("data", {}):
        log.warning("study %s records no generator for its generated dataset (made by an older kws-nas): "
                    "resuming it without checking that the clips were made by the same generator", study.study_name)
        definition = {**definition, "data": {k: v for k, v in definition["data"].items() if k != "generator"}}
    diffs = differences(stored, definition)
    if diffs:
        raise ConfigError(
            f"study {study.study_name!r} was made with other settings, so it cannot take this run's trials: "
            f"{'; '.join(diffs)}. Rerun with the study's settings to resume it, or start a new study with "
            f"study_name={study.study_name}_2 (or another results_dir)"
        )
