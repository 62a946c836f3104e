"""Float versus int8 accuracy of one candidate on the same splits (what the search's last stage calls).

``int8_accuracy`` converts the model with a representative dataset from the training features and
scores the float torch model, the TFLite Micro host interpreter (the firmware's oracle) and TFLite's
reference kernels on every split it is given, so the three figures are always on the same clips.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from nas.atomic import write_bytes_atomic
from nas.errors import ConfigError
from nas.export import tflite


def load_model(checkpoint: str | Path, candidate=None):
    """(torch model in eval mode, Candidate) from a checkpoint written by `nas.train.save_checkpoint`.

    ConfigError when the file is unreadable or its weights do not fit its candidate (`load_checkpoint`
    checks both), and when its candidate differs from the expected ``candidate``.
    """
    from nas.spaces import Candidate
    from nas.train import load_checkpoint

    model, candidate_dict, _ = load_checkpoint(checkpoint)
    stored = Candidate.from_dict(candidate_dict)
    if candidate is not None and candidate.to_dict() != stored.to_dict():
        raise ConfigError(f"checkpoint {checkpoint}: its candidate {stored.describe()} does not match the expected "
                          f"{candidate.describe()}")
    return model.eval(), stored


def _as_arrays(feature_set) -> tuple[np.ndarray, np.ndarray]:
    features = feature_set.features
    labels = feature_set.labels
    features = features.numpy() if hasattr(features, "numpy") else np.asarray(features)
    labels = labels.numpy() if hasattr(labels, "numpy") else np.asarray(labels)
    return features.astype(np.float32), labels.astype(np.int64)


def float_logits(model, features: np.ndarray, batch: int = 500) -> np.ndarray:
    import torch

    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(features[i:i + batch])).numpy()
                               for i in range(0, len(features), batch)])


def convert_trained(model, candidate, calibration) -> bytes:
    """A trained torch model → full-int8 .tflite bytes, calibrated on the FeatureSet ``calibration``
    (a seeded spread of its rows, `tflite.representative_subset`), exactly as `int8_accuracy` converts."""
    return tflite.convert(model.eval(), candidate.frontend, _as_arrays(calibration)[0], candidate.arch)


def int8_accuracy(checkpoint_or_model, candidate, feature_sets: Mapping[str, object],
                  tflite_path: str | Path | None = None, calibration=None) -> dict:
    """Accuracy of the float model and of its full-int8 .tflite on every split in ``feature_sets``.

    Args:
        checkpoint_or_model: a checkpoint path or a trained torch model built from ``candidate``.
        candidate: the `nas.spaces.Candidate` (its front end fixes the int8 input scale).
        feature_sets: split name → FeatureSet (features float [N, T, F], labels [N]): the splits scored.
        tflite_path: where to keep the .tflite (written atomically); not kept when None.
        calibration: the FeatureSet whose features make the representative dataset (a seeded spread,
            `tflite.representative_subset`); default ``feature_sets["train"]``, else the first split.
            Pass the training set here rather than in ``feature_sets`` when its accuracy is not wanted:
            scoring thousands of clips in two interpreters takes far longer than converting.

    Returns:
        ``{split: {"float": acc, "int8": acc (TFLite Micro), "int8_tflite": acc, "n": clips}}`` plus
        ``"flash_bytes"`` (the .tflite size) and ``"ops"`` (sorted distinct op names).
    """
    if not feature_sets:
        raise ConfigError("int8_accuracy: feature_sets is empty; expected at least one split")
    if isinstance(checkpoint_or_model, (str, Path)):
        model, candidate = load_model(checkpoint_or_model, candidate)
    else:
        model = checkpoint_or_model.eval()
    arrays = {name: _as_arrays(fs) for name, fs in feature_sets.items()}
    representative = _as_arrays(calibration)[0] if calibration is not None else \
        arrays.get("train", next(iter(arrays.values())))[0]
    model_bytes = tflite.convert(model, candidate.frontend, representative, candidate.arch)
    if tflite_path is not None:
        write_bytes_atomic(tflite_path, model_bytes)
    return score_int8_model(model, model_bytes, candidate, feature_sets)


def score_int8_model(model, model_bytes: bytes, candidate, feature_sets: Mapping[str, object]) -> dict:
    """`int8_accuracy`'s figures for a model already converted to ``model_bytes`` (no conversion here)."""
    model = model.eval()
    result: dict = {"flash_bytes": len(model_bytes),
                    "ops": sorted({name for name, _, _ in tflite.op_set(model_bytes)})}
    for name, fs in feature_sets.items():
        features, labels = _as_arrays(fs)
        q = tflite.quantize_features(features, candidate.frontend)
        result[name] = {
            "float": float(np.mean(float_logits(model, features).argmax(1) == labels)),
            "int8": float(np.mean(tflite.run_tflm(model_bytes, q).argmax(1) == labels)),
            "int8_tflite": float(np.mean(tflite.run_tflite(model_bytes, q).argmax(1) == labels)),
            "n": int(len(labels)),
        }
    return result
