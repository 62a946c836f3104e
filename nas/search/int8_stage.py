"""The INT8 stage of a trial (``objective.accuracy=int8``): the trained model as the board runs it.

One conversion per trial (`convert_trial`, in memory, from the trained model): its bytes are saved as
``trials/<n>/model.tflite`` (written atomically), scored here, and timed by a board probe when one is
configured. The representative dataset is a seeded spread of the training features
(``nas.export.tflite.representative_subset``), as in ``nas.export.int8_accuracy`` given the training
split as calibration, so that call on the saved checkpoint reproduces the recorded figures.

User attributes: ``val_acc_float`` / ``val_acc_int8`` / ``val_acc_int8_tflite`` (same clips),
``tflite`` (path relative to the study folder), ``deploy_footprint`` (flash_bytes = .tflite size,
arena_bytes = smallest TFLite Micro arena, activation_bytes) and ``memory_deploy_measured_bytes``
(flash + arena: the deployment convention from the real file instead of the cost model's estimate).
"""
from __future__ import annotations

from pathlib import Path

from nas.atomic import write_bytes_atomic
from nas.cost.budget import Limits
from nas.errors import BudgetError


def convert_trial(model, candidate, train_set) -> bytes:
    """The trained model → full-int8 .tflite bytes (ConversionError names the op and architecture)."""
    from nas.export.accuracy import convert_trained

    return convert_trained(model, candidate, train_set)


def score_int8(trial, model, candidate, tflite: bytes, val_set, limits: Limits, tflite_path: Path,
               results_dir: Path) -> float:
    """Save, score and measure the trial's converted model; returns its int8 validation accuracy.

    Raises BudgetError when the measured footprint exceeds a deployment limit (``limits.deploy_violations``);
    the trial then fails with its attributes kept.
    """
    from nas.export.accuracy import score_int8_model
    from nas.export.tflite import deploy_footprint

    write_bytes_atomic(tflite_path, tflite)
    val = score_int8_model(model, tflite, candidate, {"validation": val_set})["validation"]
    trial.set_user_attr("val_acc_float", val["float"])
    trial.set_user_attr("val_acc_int8", val["int8"])
    trial.set_user_attr("val_acc_int8_tflite", val["int8_tflite"])
    trial.set_user_attr("tflite", str(Path(tflite_path).relative_to(results_dir)))

    footprint = deploy_footprint(tflite)
    trial.set_user_attr("deploy_footprint", footprint)
    trial.set_user_attr("memory_deploy_measured_bytes", footprint["flash_bytes"] + footprint["arena_bytes"])
    problems = limits.deploy_violations(footprint)
    if problems:
        raise BudgetError(f"{candidate.arch} int8 model {Path(tflite_path).name} does not fit {limits.name}: "
                          f"{'; '.join(problems)} (measured)")
    return val["int8"]
