"""Small full-int8 .tflite models made with TensorFlow directly (tf.keras + TFLiteConverter), one per
op family the firmware runs; cached on disk so that a test session converts each once. A model can be
pruned before conversion (conv and dense kernels zeroed by magnitude along TFLite's OHWI inner loop),
so the converter's own int8 weights carry the zeros, as a `kws-nas prune` export does."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from nas.atomic import write_bytes_atomic

INPUT_SHAPE = (49, 10)  # the default front end's [T, F]


def _layers(tf, arch: str):
    L = tf.keras.layers
    if arch == "dnn":
        return [L.Reshape((-1,)), L.Dense(32, activation="relu"), L.Dense(24, activation="relu"), L.Dense(12)]
    if arch == "cnn":
        return [L.Reshape(INPUT_SHAPE + (1,)), L.Conv2D(8, (10, 4), strides=(2, 1), padding="same", activation="relu"),
                L.Conv2D(6, (5, 3), strides=(2, 2), padding="valid", activation="relu"), L.Reshape((-1,)), L.Dense(12)]
    if arch == "ds_cnn":
        return [L.Reshape(INPUT_SHAPE + (1,)), L.Conv2D(16, (10, 4), strides=(2, 2), padding="same", activation="relu"),
                L.DepthwiseConv2D((3, 3), padding="same", activation="relu"), L.Conv2D(16, (1, 1), activation="relu"),
                L.DepthwiseConv2D((3, 3), strides=(2, 2), padding="same", activation="relu"),
                L.Conv2D(24, (1, 1), activation="relu"), L.AveragePooling2D((13, 3)), L.Reshape((-1,)),
                L.Dense(12), L.Softmax()]
    if arch == "ds_cnn_small":  # Hello Edge DS-CNN small: 64 channels, four separable blocks
        blocks = []
        for _ in range(4):
            blocks += [L.DepthwiseConv2D((3, 3), padding="same", activation="relu"),
                       L.Conv2D(64, (1, 1), activation="relu")]
        return [L.Reshape(INPUT_SHAPE + (1,)), L.Conv2D(64, (10, 4), strides=(2, 2), padding="same", activation="relu"),
                *blocks, L.AveragePooling2D((25, 5)), L.Reshape((-1,)), L.Dense(12), L.Softmax()]
    raise ValueError(arch)


def _prune_keras(tf, model, prune: tuple) -> None:
    """Zeroes every Conv2D (not depthwise) and Dense kernel: ("element" | "block", sparsity) or ("nm", n, m),
    on the [out channels, KH·KW·C_IN] matrix the firmware's kernels walk."""
    from nas.firmware.sparse_format import prune as prune_rows

    for layer in model.layers:
        if type(layer) not in (tf.keras.layers.Conv2D, tf.keras.layers.Dense):
            continue
        kernel, *rest = layer.get_weights()
        # Conv2D [KH, KW, C_IN, OUT], Dense [IN, OUT] -> rows = OUT
        rows = np.moveaxis(kernel, -1, 0).reshape(kernel.shape[-1], -1)
        scale = np.abs(rows).max() / 127
        ranks = np.clip(np.round(rows / scale), -127, 127).astype(np.int8)  # magnitude order of int8 weights
        if prune[0] == "nm":
            kept = prune_rows(ranks, "nm", n=prune[1], m=prune[2]) != 0
        else:
            kept = prune_rows(ranks, prune[0], prune[1]) != 0
        pruned = np.moveaxis(np.where(kept, rows, 0).reshape((kernel.shape[-1],) + kernel.shape[:-1]), 0, -1)
        layer.set_weights([pruned.astype(kernel.dtype), *rest])


def make_tflite(arch: str, seed: int = 0, prune: tuple | None = None) -> bytes:
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([tf.keras.Input(INPUT_SHAPE, batch_size=1), *_layers(tf, arch)])
    if prune is not None:
        _prune_keras(tf, model, prune)
    rng = np.random.default_rng(seed)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.normal(0, 8, (1,) + INPUT_SHAPE).astype(np.float32)]
                                                for _ in range(32))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def cached_tflite(cache_dir: Path, arch: str, seed: int = 0, prune: tuple | None = None) -> Path:
    import tensorflow as tf

    code = _layers.__code__.co_code.hex() + (_prune_keras.__code__.co_code.hex() if prune else "")
    key = hashlib.sha256(f"{tf.__version__}|{arch}|{seed}|{prune}|{code}".encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"{arch}-{key}.tflite"
    if not path.exists():
        write_bytes_atomic(path, make_tflite(arch, seed, prune))
    return path


def run_tflm(path: Path, inputs: np.ndarray) -> np.ndarray:
    """The oracle: TFLite Micro's host interpreter, one int8 output row per input."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(str(path), arena_size=1 << 22)
    rows = []
    for x in inputs:
        interpreter.set_input(x.reshape((1,) + INPUT_SHAPE).astype(np.int8), 0)
        interpreter.invoke()
        rows.append(interpreter.get_output(0).reshape(-1).copy())
    return np.stack(rows)
