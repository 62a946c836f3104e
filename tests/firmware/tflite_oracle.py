"""The oracle for the kernels: single-op int8 .tflite models run in the TFLite Micro host interpreter.

Models come from TensorFlow's converter (a ``tf.function`` over one op, full int8 quantisation from a
representative dataset). ``SingleOpModel`` then edits the flatbuffer (weights, biases, scales, zero
points, fused activation) so one conversion yields many distinct quantisation cases; the kernel
arguments are read back from the edited model, as the firmware's converter would read them.
"""

from __future__ import annotations

import math

import flatbuffers
import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

TENSOR_INT8 = schema.TensorType.INT8
ARENA_BYTES = 4 * 1024 * 1024


def convert(fn, input_shapes, rng: np.random.Generator, calibration_samples: int = 16) -> bytes:
    """Converts a ``tf.function`` to a full-int8 .tflite with a random representative dataset."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    scales = [rng.uniform(0.5, 4.0) for _ in input_shapes]

    def representative():
        for _ in range(calibration_samples):
            yield [(rng.normal(size=shape) * s).astype(np.float32) for shape, s in zip(input_shapes, scales)]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def run_tflm(model_bytes: bytes, inputs: list[np.ndarray]) -> np.ndarray:
    """Runs the model once per input in TFLite Micro; returns the outputs stacked."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=ARENA_BYTES)
    outputs = []
    for x in inputs:
        interpreter.set_input(x, 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0).copy())
    return np.stack(outputs)


def run_tflm_multi(model_bytes: bytes, cases: list[list[np.ndarray]], num_outputs: int) -> list[list[np.ndarray]]:
    """Runs the model once per case (one array per model input); returns each case's outputs."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model_bytes, arena_size=ARENA_BYTES)
    results = []
    for inputs in cases:
        for index, x in enumerate(inputs):
            interpreter.set_input(x, index)
        interpreter.invoke()
        results.append([interpreter.get_output(i).copy() for i in range(num_outputs)])
    return results


def tflite_round(x):
    """std::round: half away from zero."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def activation_range(fused: int, scale: float, zero_point: int) -> tuple[int, int]:
    """TFLite's CalculateActivationRangeQuantized for int8 (float32 arithmetic, as in C++)."""
    def quantize(f: float) -> int:
        return zero_point + int(tflite_round(np.float32(f) / np.float32(scale)))

    lo, hi = -128, 127
    if fused == schema.ActivationFunctionType.RELU:
        return max(lo, quantize(0.0)), hi
    if fused == schema.ActivationFunctionType.RELU6:
        return max(lo, quantize(0.0)), min(hi, quantize(6.0))
    if fused == schema.ActivationFunctionType.RELU_N1_TO_1:
        return max(lo, quantize(-1.0)), min(hi, quantize(1.0))
    return lo, hi


def same_padding(in_size: int, filter_size: int, stride: int, dilation: int, out_size: int) -> int:
    """TFLite's ComputePaddingWithOffset: the top/left padding (the odd pixel goes bottom/right)."""
    effective = (filter_size - 1) * dilation + 1
    return max((out_size - 1) * stride + effective - in_size, 0) // 2


def conv_multiplier_scales(input_scale, filter_scales, output_scale) -> np.ndarray:
    """Conv / depthwise: double(input) * double(filter_c) / double(output) (PopulateConvolutionQuantizationParams)."""
    return np.array([float(input_scale) * float(s) / float(output_scale) for s in np.atleast_1d(filter_scales)])


def fc_multiplier_scale(input_scale, filter_scale, output_scale) -> float:
    """Fully connected: the float32 product input * filter, widened, over output (GetQuantizedConvolutionMultipler)."""
    return float(np.float32(input_scale) * np.float32(filter_scale)) / float(output_scale)


class SingleOpModel:
    """A converted model with one operator whose tensors and options can be read and edited."""

    def __init__(self, model_bytes: bytes):
        self.model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
        self.subgraph = self.model.subgraphs[0]
        if len(self.subgraph.operators) != 1:
            codes = [self.opcode(op) for op in self.subgraph.operators]
            raise ValueError(f"expected a single operator, got builtin codes {codes}")
        self.op = self.subgraph.operators[0]

    def opcode(self, op=None) -> int:
        code = self.model.operatorCodes[(op or self.op).opcodeIndex]
        return max(code.builtinCode, code.deprecatedBuiltinCode)

    def tensor(self, position: int, outputs: bool = False):
        return self.subgraph.tensors[(self.op.outputs if outputs else self.op.inputs)[position]]

    def has_input(self, position: int) -> bool:
        return position < len(self.op.inputs) and self.op.inputs[position] >= 0

    def shape(self, position: int, outputs: bool = False) -> tuple[int, ...]:
        return tuple(int(d) for d in self.tensor(position, outputs).shape)

    def quant(self, position: int, outputs: bool = False) -> tuple[np.ndarray, np.ndarray]:
        q = self.tensor(position, outputs).quantization
        return np.asarray(q.scale, np.float32), np.asarray(q.zeroPoint, np.int64)

    def set_quant(self, position: int, scales, zero_points, outputs: bool = False) -> None:
        q = self.tensor(position, outputs).quantization
        q.scale = np.asarray(np.atleast_1d(scales), np.float32)
        q.zeroPoint = np.asarray(np.atleast_1d(zero_points), np.int64)

    def data(self, position: int) -> np.ndarray:
        t = self.tensor(position)
        dtype = {schema.TensorType.INT8: np.int8, schema.TensorType.INT32: np.int32, schema.TensorType.INT16: np.int16,
                 schema.TensorType.INT64: np.int64}[t.type]
        raw = np.asarray(self.model.buffers[t.buffer].data, np.uint8)
        return raw.view(dtype).reshape(self.shape(position))

    def set_data(self, position: int, values: np.ndarray) -> None:
        t = self.tensor(position)
        current = self.data(position)
        values = np.asarray(values, current.dtype).reshape(current.shape)
        self.model.buffers[t.buffer].data = np.frombuffer(values.tobytes(), np.uint8).copy()

    @property
    def options(self):
        return self.op.builtinOptions

    def to_bytes(self) -> bytes:
        builder = flatbuffers.Builder(1024)
        builder.Finish(self.model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


def random_scale(rng: np.random.Generator, lo: float, hi: float) -> np.float32:
    """A log-uniform float32 scale in [lo, hi]."""
    return np.float32(math.exp(rng.uniform(math.log(lo), math.log(hi))))
