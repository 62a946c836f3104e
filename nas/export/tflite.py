"""Full-int8 TFLite conversion of a trained torch candidate, and the two interpreters that run it.

Path (pinned): torch ``nn.Sequential`` → `from_torch` (numpy layer list, batch norm folded) →
`tf_graph` (a batch-1 ``tf.function``) → ``tf.lite.TFLiteConverter`` (TensorFlow 2.21) with a
representative dataset of training features. Why this path rather than litert-torch's PT2E quantizer:
the graph is ours, so recurrent layers are unrolled into FULLY_CONNECTED + LOGISTIC/TANH + MUL/ADD/SUB
(ops TFLite Micro and our firmware run) instead of fused LSTM/GRU kernels, the union of ops over the
seven Hello Edge architectures and TC-ResNet (residual blocks as int8 ADD) stays at 13, and no second
torch export stack has to track torch 2.13.

Quantization: int8 activations; CONV_2D and DEPTHWISE_CONV_2D weights per channel; FULLY_CONNECTED
weights per tensor (TFLite Micro keeps per-channel multipliers per *node*, and an unrolled recurrent
layer reuses one weight matrix in T nodes, so per-channel FC would cost T × 8 × H bytes of arena per
gate; per-tensor is also CMSIS-NN's ``arm_fully_connected_s8`` convention). The input is then pinned
to the front end's int8 MFCC (scale 2**-int8_frac_bits, zero point 0) so the board feeds its features
unchanged: the calibrated input scale is replaced and the first layers' int32 biases are rescaled to
match (a FakeQuant op in the graph would set the input scale, but the converter then quantizes those
biases with the calibrated scale anyway: measured, it shifts every bias by the ratio of the two). The output is int8 logits (no softmax: argmax does not need it).
After conversion, identical weight buffers are merged (the converter copies a biased FC's weights
per use) and tensor names are stripped: both only shrink flash.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from nas.data.frontend_config import FrontEndConfig
from nas.export.float_islands import requantize_float_islands
from nas.export.from_torch import ConversionError, torch_to_ir
from nas.tflite_model import FIRMWARE_OPCODES, SAME_QUANTIZATION_OPS, op_name, read_model

# Every op an exported int8 kws-nas model may contain: the firmware's ops, less SOFTMAX (the converted
# models end on logits; argmax does not need the softmax).
ALLOWED_OPS = frozenset(FIRMWARE_OPCODES) - {"SOFTMAX"}
REPRESENTATIVE_SAMPLES = 300
TFLM_HOST_ARENA = 8 << 20  # generous on the host; deploy_footprint measures what a board needs


def quantize_features(features, frontend: FrontEndConfig) -> np.ndarray:
    """float features (already on the int8 grid) → the int8 tensor the board feeds the model."""
    values = np.asarray(features, dtype=np.float32) * 2.0 ** frontend.int8_frac_bits
    return np.clip(np.round(values), -128, 127).astype(np.int8)


def _converter_error(err: Exception, arch: str) -> ConversionError:
    text = str(err)
    ops = sorted(set(re.findall(r"'(tf\.[A-Za-z0-9_]+)'", text)))
    what = f"op(s) {', '.join(ops)}" if ops else "the graph"
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    return ConversionError(f"{arch}: the TFLite converter refused {what}: {first}")


def representative_subset(features: np.ndarray, size: int = REPRESENTATIVE_SAMPLES, seed: int = 0) -> np.ndarray:
    """``size`` rows drawn evenly at random from all of ``features``, in their original order.

    Feature sets are stored class by class: their first rows are one or two classes only, and ranges
    calibrated on those clip the activations of every other class.
    """
    if len(features) <= size:
        return features
    return features[np.sort(np.random.default_rng(seed).choice(len(features), size=size, replace=False))]


def convert_layers(layers, frontend: FrontEndConfig, representative: np.ndarray, arch: str = "model") -> bytes:
    """A `graph_ir` layer list → full-int8 .tflite bytes, checked against `ALLOWED_OPS`."""
    import tensorflow as tf

    from nas.export import tf_graph

    fn = tf_graph.concrete_function(layers, frontend.input_shape)
    samples = representative_subset(np.asarray(representative, dtype=np.float32))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([s[None]] for s in samples)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel_quantization_for_dense_layers = True  # see module doc
    try:
        # The converter's C++ prints a line per call ("fully_quantize: ...") straight to fd 2: shown only
        # when TensorFlow's own logging is on (`-v`), like its other log lines.
        with warnings.catch_warnings(), _captured_stderr() as chatter:
            warnings.simplefilter("ignore", UserWarning)  # "statistics for quantized inputs were expected": pinned
            model = converter.convert()
        if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") == "0":
            sys.stderr.write(chatter["text"])
    except Exception as err:  # the converter raises ConverterError, ValueError, ... with its own text
        raise _converter_error(err, arch) from None
    model = requantize_float_islands(model)  # the quantizer's occasional float UNPACK (see float_islands)
    model = _shrink(_pin_input_quantization(model, 2.0 ** -frontend.int8_frac_bits, arch))
    check_int8_model(model, frontend, arch)
    return model


def convert(model, frontend: FrontEndConfig, representative: np.ndarray, arch: str = "model") -> bytes:
    """A trained torch model (from `nas.spaces.build_model`) → full-int8 .tflite bytes."""
    return convert_layers(torch_to_ir(model, frontend.input_shape, arch), frontend, representative, arch)


def untrained_int8(candidate, seed: int = 0) -> bytes:
    """The int8 .tflite of ``candidate`` with random weights, calibrated on random features of the int8
    input's range: what latency measurements need (a network's time does not depend on training)."""
    import torch

    from nas.spaces import build_model

    torch.manual_seed(seed)
    frontend = candidate.frontend
    rng = np.random.default_rng(seed)
    representative = np.round(np.clip(rng.normal(0, 20, (64, *frontend.input_shape)), -128, 127))
    return convert(build_model(candidate).eval(), frontend,
                   (representative * 2.0 ** -frontend.int8_frac_bits).astype(np.float32), candidate.arch)


_BIASED = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}


def _pin_input_quantization(model: bytes, scale: float, arch: str) -> bytes:
    """Give the input tensor (and the pass-through tensors after it) ``scale`` and zero point 0.

    Kernels read scales and zero points from the tensors at run time; only the int32 bias, stored in
    units of input scale × weight scale, depends on the old input scale and is rescaled here.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    obj = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    graph = obj.subgraphs[0]
    old_scale = float(graph.tensors[graph.inputs[0]].quantization.scale[0])
    pinned = {int(graph.inputs[0])}
    for op in graph.operators:  # operators are in execution order
        name = op_name(obj.operatorCodes[op.opcodeIndex])
        if not pinned.intersection(int(i) for i in op.inputs):
            continue
        if name in SAME_QUANTIZATION_OPS and int(op.inputs[0]) in pinned:
            pinned.update(int(o) for o in op.outputs)
        elif name in _BIASED and int(op.inputs[0]) in pinned and int(op.inputs[1]) not in pinned:
            if op.inputs[2] < 0:
                continue
            bias = graph.tensors[op.inputs[2]]
            values = np.frombuffer(bytes(obj.buffers[bias.buffer].data), dtype=np.int32).astype(np.float64)
            rescaled = np.round(values * old_scale / scale)
            if np.abs(rescaled).max(initial=0) >= 2**31:
                raise ConversionError(f"{arch}: {name} bias overflows int32 at the front end's input scale {scale}")
            obj.buffers[bias.buffer].data = np.frombuffer(rescaled.astype("<i4").tobytes(), dtype=np.uint8)
            # float32: the flatbuffer packer copies the array's raw bytes into a float vector
            bias.quantization.scale = (np.asarray(bias.quantization.scale, np.float64) * scale / old_scale).astype(np.float32)
        else:
            raise ConversionError(f"{arch}: op {name} reads the model input; expected one of "
                                  f"{sorted(SAME_QUANTIZATION_OPS | _BIASED)} so the input scale can be pinned")
    for index in pinned:
        q = graph.tensors[index].quantization
        q.scale, q.zeroPoint = np.asarray([scale], dtype=np.float32), np.asarray([0], dtype=np.int64)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))


def _shrink(model: bytes) -> bytes:
    """Merge byte-identical constant buffers, point data-less tensors at the empty buffer 0, drop the
    buffers nothing uses, and strip tensor names and signatures: all only shrink flash."""
    from tensorflow.lite.tools import flatbuffer_utils

    obj = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    first_of: dict[bytes, int] = {}
    target = {}  # buffer index → the index that holds its bytes (0: no bytes)
    for index, buf in enumerate(obj.buffers):
        has_data = buf.data is not None and len(buf.data) > 0
        target[index] = first_of.setdefault(bytes(buf.data), index) if has_data else 0
    tensors = [t for graph in obj.subgraphs for t in graph.tensors]
    for tensor in tensors:
        tensor.buffer = target[tensor.buffer]
    used = sorted({0} | {t.buffer for t in tensors} | {m.buffer for m in (obj.metadata or [])})
    new_index = {old: new for new, old in enumerate(used)}
    obj.buffers = [obj.buffers[old] for old in used]
    for item in [*tensors, *(obj.metadata or [])]:
        item.buffer = new_index[item.buffer]
    flatbuffer_utils.strip_strings(obj)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(obj))


def op_set(model: bytes) -> Counter:
    """Counts of (op name, input dtypes, output dtypes) in a .tflite; absent optional inputs are skipped."""
    graph = read_model(model)
    return Counter((op.name, tuple(graph.tensors[i].dtype for i in op.inputs if i >= 0),
                    tuple(graph.tensors[i].dtype for i in op.outputs)) for op in graph.ops)


def io_quantization(model: bytes) -> dict:
    """dtype, scale and zero point of the (single) input and output tensors."""
    graph = read_model(model)

    def describe(index: int) -> dict:
        tensor = graph.tensors[index]
        return {"dtype": tensor.dtype, "shape": list(tensor.shape), "scale": tensor.scale,
                "zero_point": tensor.zero_point}

    return {"input": describe(graph.inputs[0]), "output": describe(graph.outputs[0])}


def check_int8_model(model: bytes, frontend: FrontEndConfig, arch: str = "model") -> None:
    """ConversionError unless every op is allowed and int8, and the input matches the front end."""
    for (name, ins, outs) in op_set(model):
        if name not in ALLOWED_OPS:
            raise ConversionError(f"{arch}: the int8 model contains op {name}, which the firmware does not "
                                  f"run; expected only {sorted(ALLOWED_OPS)}")
        if any(t not in ("int8", "int32") for t in ins + outs) or any(t != "int8" for t in outs):
            raise ConversionError(f"{arch}: op {name} is not full int8 (inputs {ins}, outputs {outs})")
    io = io_quantization(model)
    want = 2.0 ** -frontend.int8_frac_bits
    got = io["input"]
    if got["dtype"] != "int8" or got["zero_point"] != 0 or not np.isclose(got["scale"], want, rtol=1e-6):
        raise ConversionError(f"{arch}: int8 input has scale {got['scale']} zero point {got['zero_point']}; "
                              f"the front end needs scale {want} zero point 0")


def run_tflm(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """int8 outputs [N, classes] from the TFLite Micro host interpreter (the firmware's oracle)."""
    from tflite_micro.python.tflite_micro import runtime

    interpreter = runtime.Interpreter.from_bytes(model, arena_size=TFLM_HOST_ARENA)
    outputs = []
    for x in inputs:
        interpreter.set_input(x[None], 0)
        interpreter.invoke()
        outputs.append(interpreter.get_output(0).reshape(-1).copy())
    return np.stack(outputs)


def run_tflite(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """int8 outputs [N, classes] from TensorFlow Lite's reference kernels."""
    import tensorflow as tf

    with warnings.catch_warnings():  # tf.lite.Interpreter's deprecation notice
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(
            model_content=model, experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    outputs = []
    for x in inputs:
        interpreter.set_tensor(inp, x[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(out).reshape(-1).copy())
    return np.stack(outputs)


@contextlib.contextmanager
def _captured_stderr():
    """Collects what C++ writes to file descriptor 2 (print_allocations has no other output)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        box: dict[str, str] = {}
        try:
            yield box
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            box["text"] = sink.read().decode(errors="replace")


ARENA_STEP = 16  # TFLite Micro aligns arena allocations to 16 bytes


def _arena_fits(model: bytes, size: int) -> bool:
    from tflite_micro.python.tflite_micro import runtime

    with _captured_stderr():  # a failed allocation prints its complaint from C++
        try:
            runtime.Interpreter.from_bytes(model, arena_size=size)
        except RuntimeError:
            return False
    return True


def deploy_footprint(tflite_model: bytes | str | Path) -> dict:
    """Flash and RAM a TFLite Micro deployment needs for a .tflite (its bytes or its path).

    Returns ``flash_bytes`` (the model's size: it is linked in as a const array), ``arena_bytes``
    (the smallest ``arena_size``, to 16 bytes, with which TFLite Micro allocates the model: planned
    activations plus interpreter bookkeeping, which for unrolled recurrent models is most of it; found by
    bisection because the recorded total misses temporary allocations made while preparing kernels) and
    ``activation_bytes`` (the planned activation tensors alone, from ``print_allocations``).
    """
    from tflite_micro.python.tflite_micro import runtime

    if isinstance(tflite_model, (bytes, bytearray)):
        path, model = "<bytes>", bytes(tflite_model)
    else:
        path = Path(tflite_model)
        model = path.read_bytes()
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=TFLM_HOST_ARENA)
    with _captured_stderr() as log:
        interpreter.print_allocations()
    total = re.search(r"Arena allocation total (\d+) bytes", log["text"])
    head = re.search(r"Arena allocation head (\d+) bytes", log["text"])
    if total is None or head is None:
        raise ConversionError(f"{path}: TFLite Micro printed no arena figures: {log['text'][:200]!r}")
    low = int(total.group(1)) - ARENA_STEP  # recorded total: a lower bound
    high = int(total.group(1)) + 1024
    while not _arena_fits(model, high):
        low, high = high, 2 * high
        if high > TFLM_HOST_ARENA:
            raise ConversionError(f"{path}: TFLite Micro cannot allocate the model in {TFLM_HOST_ARENA} bytes")
    while high - low > ARENA_STEP:  # invariant: low fails (or is below the total), high fits
        mid = (low + high) // 2 // ARENA_STEP * ARENA_STEP
        if mid <= low:
            break
        low, high = (low, mid) if _arena_fits(model, mid) else (mid, high)
    return {"flash_bytes": len(model), "arena_bytes": high, "activation_bytes": int(head.group(1))}
