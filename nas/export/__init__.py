"""int8 deployment: TFLite conversion, int8 accuracy, C arrays, per-class bundles, bit-width studies.

`int8_accuracy` gives float and int8 accuracy on the same splits and `deploy_footprint` the flash and
TFLite Micro arena of a .tflite; the search's int8 stage converts once (`accuracy.convert_trained`) and
scores those bytes (`accuracy.score_int8_model`). `kws-nas export` and `kws-nas quant-sweep` are the verbs.
Heavy imports (torch, tensorflow) happen inside the functions.
"""
from __future__ import annotations


def int8_accuracy(checkpoint_or_model, candidate, feature_sets, tflite_path=None, calibration=None) -> dict:
    """See `nas.export.accuracy.int8_accuracy`."""
    from nas.export.accuracy import int8_accuracy as impl

    return impl(checkpoint_or_model, candidate, feature_sets, tflite_path, calibration)


def deploy_footprint(tflite_path) -> dict:
    """See `nas.export.tflite.deploy_footprint`."""
    from nas.export.tflite import deploy_footprint as impl

    return impl(tflite_path)


__all__ = ["deploy_footprint", "int8_accuracy"]
