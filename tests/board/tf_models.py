"""Small full-int8 .tflite models made with TensorFlow directly (tf.keras + TFLiteConverter), one per
op family the firmware runs; cached on disk so that a test session converts each once."""
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
    raise ValueError(arch)


def make_tflite(arch: str, seed: int = 0) -> bytes:
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential([tf.keras.Input(INPUT_SHAPE, batch_size=1), *_layers(tf, arch)])
    rng = np.random.default_rng(seed)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([rng.normal(0, 8, (1,) + INPUT_SHAPE).astype(np.float32)]
                                                for _ in range(32))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def cached_tflite(cache_dir: Path, arch: str, seed: int = 0) -> Path:
    import tensorflow as tf

    key = hashlib.sha256(f"{tf.__version__}|{arch}|{seed}|{_layers.__code__.co_code.hex()}".encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"{arch}-{key}.tflite"
    if not path.exists():
        write_bytes_atomic(path, make_tflite(arch, seed))
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
