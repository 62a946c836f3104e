"""The INT8 stage of a trial (``objective.accuracy=int8``): the trained checkpoint as the board runs it.

One conversion per trial: the best checkpoint becomes ``trials/<n>/model.tflite`` (written atomically);
its validation accuracy in the TFLite Micro host interpreter becomes the accuracy objective, and a
board probe that can time a .tflite (``measure_tflite``) is given this file instead of converting again.
The representative dataset is the first `REPRESENTATIVE_SAMPLES` training clips, as in any
``nas.export.int8_accuracy`` call given the training split, so that call on the saved checkpoint
reproduces the recorded figures.

User attributes: ``val_acc_float`` / ``val_acc_int8`` / ``val_acc_int8_tflite`` (same clips),
``tflite`` (path relative to the study folder), ``deploy_footprint`` (flash_bytes = .tflite size,
arena_bytes = smallest TFLite Micro arena, activation_bytes) and ``memory_deploy_measured_bytes``
(flash + arena: the deployment convention from the real file instead of the cost model's estimate).
"""
from __future__ import annotations

from pathlib import Path

from nas.errors import BudgetError


def deploy_violations(budget, footprint: dict) -> list[str]:
    """What the measured footprint exceeds: a board profile limits flash and SRAM separately, a budget
    class with the ``deploy`` convention limits flash + arena; other budgets have no deployment limit."""
    flash, arena = footprint["flash_bytes"], footprint["arena_bytes"]
    problems = []
    if hasattr(budget, "flash_bytes") and hasattr(budget, "sram_bytes"):
        if flash > budget.flash_bytes:
            problems.append(f"flash {flash} B > {budget.flash_bytes} B")
        if arena > budget.sram_bytes:
            problems.append(f"arena {arena} B > SRAM {budget.sram_bytes} B")
    elif getattr(budget, "convention", None) == "deploy" and flash + arena > budget.max_memory_bytes:
        problems.append(f"flash + arena {flash + arena} B > {budget.max_memory_bytes} B")
    return problems


def score_int8(trial, candidate, checkpoint: Path, train_set, val_set, budget, results_dir: Path) -> tuple[float, Path]:
    """Convert, score and measure one trained trial; returns (int8 validation accuracy, .tflite path).

    Raises the converter's ConversionError (it names the op and architecture) and BudgetError when the
    measured footprint exceeds a deployment budget; either fails the trial with its attributes kept.
    """
    from nas.export import deploy_footprint, int8_accuracy

    tflite_path = Path(checkpoint).with_name("model.tflite")
    scores = int8_accuracy(checkpoint, candidate, {"validation": val_set}, tflite_path, calibration=train_set)
    val = scores["validation"]
    trial.set_user_attr("val_acc_float", val["float"])
    trial.set_user_attr("val_acc_int8", val["int8"])
    trial.set_user_attr("val_acc_int8_tflite", val["int8_tflite"])
    trial.set_user_attr("tflite", str(tflite_path.relative_to(results_dir)))

    footprint = deploy_footprint(tflite_path)
    trial.set_user_attr("deploy_footprint", footprint)
    trial.set_user_attr("memory_deploy_measured_bytes", footprint["flash_bytes"] + footprint["arena_bytes"])
    problems = deploy_violations(budget, footprint)
    if problems:
        raise BudgetError(f"{candidate.arch} int8 model {tflite_path.name} does not fit {budget.name}: "
                          f"{'; '.join(problems)} (measured)")
    return val["int8"], tflite_path
