"""The int8 kernels are bit-exact to TFLite Micro, and the DSP-optimised ones to the reference.

Each test converts small single-op models with TensorFlow (random shapes, strides, padding), then
re-draws the weights, biases, scales, zero points and fused activation in the flatbuffer several
times, runs TFLite Micro on random int8 inputs, and compares the C kernels' bytes with its output.
"""

from __future__ import annotations

import numpy as np
import pytest

from .tflite_oracle import (
    SingleOpModel,
    activation_range,
    conv_multiplier_scales,
    convert,
    fc_multiplier_scale,
    random_scale,
    run_tflm,
    same_padding,
)

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")
from tensorflow.lite.python.schema_py_generated import ActivationFunctionType, BuiltinOperator, Padding  # noqa: E402

ACTIVATIONS = (ActivationFunctionType.NONE, ActivationFunctionType.RELU, ActivationFunctionType.RELU6)
REDRAWS = 6  # quantisation / weight re-draws per converted model
INPUTS = 4  # random inputs per re-draw


def _spec_rng(name: str, index: int) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, name)), index])


def _assert_same(expected: np.ndarray, got: np.ndarray, what: str) -> None:
    if not np.array_equal(expected, got):
        diff = np.argwhere(expected != got)
        first = tuple(diff[0])
        raise AssertionError(
            f"{what}: {len(diff)} of {expected.size} elements differ; first at {first}: "
            f"TFLM {expected[first]} vs kernel {got[first]}"
        )


def _random_inputs(rng, shape, n=INPUTS) -> list[np.ndarray]:
    return [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(n)]


def _redraw_conv_like(model: SingleOpModel, rng, out_channels: int, taps: int) -> None:
    """New int8 weights, int32 bias and float32 scales/zero points, consistent as TFLite requires."""
    model.set_data(1, rng.integers(-127, 128, size=model.shape(1)))
    in_scale = random_scale(rng, 1e-3, 0.5)
    w_scales = np.array([random_scale(rng, 2e-3, 2e-2) for _ in range(out_channels)], np.float32)
    # Typical accumulators are ~ 74 * sqrt(taps) input*weight steps; put the output range around that,
    # and now and then make the multiplier exceed 1 to exercise the left shift.
    spread = np.sqrt(taps) * 74 * rng.uniform(0.2, 3.0)
    out_scale = np.float32(in_scale * w_scales.mean() * (spread if rng.random() > 0.1 else rng.uniform(0.2, 0.9)))
    model.set_quant(0, in_scale, rng.integers(-128, 128))
    model.set_quant(1, w_scales, np.zeros(out_channels, np.int64))
    model.set_quant(0, out_scale, rng.integers(-128, 128), outputs=True)
    if model.has_input(2):
        model.set_data(2, rng.integers(-(2**17), 2**17, size=out_channels))
        model.set_quant(2, (in_scale * w_scales).astype(np.float32), np.zeros(out_channels, np.int64))
    model.options.fusedActivationFunction = int(rng.choice(ACTIVATIONS))


def _conv_like_args(kernels, model: SingleOpModel) -> dict:
    """Kernel arguments read from the model the way the firmware's converter reads them."""
    opts = model.options
    in_scale, in_zp = model.quant(0)
    w_scales, _ = model.quant(1)
    out_scale, out_zp = model.quant(0, outputs=True)
    _, in_h, in_w, _ = model.shape(0)
    _, out_h, out_w, _ = model.shape(0, outputs=True)
    k_h, k_w = model.shape(1)[1:3]
    stride = (opts.strideH, opts.strideW)
    dilation = (opts.dilationHFactor, opts.dilationWFactor)
    if opts.padding == Padding.SAME:
        padding = (same_padding(in_h, k_h, stride[0], dilation[0], out_h), same_padding(in_w, k_w, stride[1], dilation[1], out_w))
    else:
        padding = (0, 0)
    mult, shift = kernels.quantize_multipliers(conv_multiplier_scales(in_scale[0], w_scales, out_scale[0]))
    return dict(
        bias=model.data(2) if model.has_input(2) else None,
        mult=mult,
        shift=shift,
        input_offset=-int(in_zp[0]),
        output_offset=int(out_zp[0]),
        stride=stride,
        padding=padding,
        dilation=dilation,
        act=activation_range(opts.fusedActivationFunction, out_scale[0], int(out_zp[0])),
        out_hw=(out_h, out_w),
    )


# ---------------------------------------------------------------------------- convolution

def _window_spec(rng, index: int) -> dict:
    """Input size, kernel, stride, dilation (every fifth spec) and padding of a conv-like spec."""
    dilation = 2 if index % 5 == 4 else 1
    stride = (1, 1) if dilation > 1 else tuple(int(s) for s in rng.integers(1, 4, size=2))
    k = (int(rng.integers(1, 6)), int(rng.integers(1, 5)))
    size = (int(rng.integers((k[0] - 1) * dilation + 1, 14)), int(rng.integers((k[1] - 1) * dilation + 1, 10)))
    return dict(size=size, k=k, stride=stride, dilation=dilation, padding=["SAME", "VALID"][index % 2])


def _conv_spec(index: int) -> dict:
    rng = _spec_rng("conv", index)
    window = _window_spec(rng, index)
    return dict(window, in_ch=int(rng.integers(1, 10)), out_ch=int(rng.integers(1, 13)), bias=index % 7 != 6)


CONV_SPECS = [_conv_spec(i) for i in range(14)]


def _convert_conv(spec: dict, rng) -> bytes:
    (h, w), c, oc, (kh, kw) = spec["size"], spec["in_ch"], spec["out_ch"], spec["k"]
    weights = tf.constant(rng.normal(size=(kh, kw, c, oc)).astype(np.float32))
    bias = tf.constant(rng.normal(size=(oc,)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([1, h, w, c], tf.float32)])
    def conv(x):
        y = tf.nn.conv2d(x, weights, strides=[1, *spec["stride"], 1], padding=spec["padding"],
                         dilations=[1, spec["dilation"], spec["dilation"], 1])
        return tf.nn.relu(y + bias) if spec["bias"] else y

    return convert(conv, [(1, h, w, c)], rng)


@pytest.mark.parametrize("index", range(len(CONV_SPECS)))
def test_conv_bit_exact_to_tflite_micro(kernels, converted, index):
    spec = CONV_SPECS[index]
    rng = _spec_rng("conv-run", index)
    base = converted(f"conv {spec}", lambda: _convert_conv(spec, _spec_rng("conv-convert", index)))
    for redraw in range(REDRAWS):
        model = SingleOpModel(base)
        assert model.opcode() == BuiltinOperator.CONV_2D
        taps = int(np.prod(model.shape(1)[1:]))
        _redraw_conv_like(model, rng, spec["out_ch"], taps)
        model_bytes = model.to_bytes()
        inputs = _random_inputs(rng, model.shape(0))
        expected = run_tflm(model_bytes, inputs)
        args = _conv_like_args(kernels, SingleOpModel(model_bytes))
        weights = SingleOpModel(model_bytes).data(1)
        for variant in ("ref", "opt"):
            got = np.stack([kernels.conv(x, weights, **args, variant=variant) for x in inputs])
            _assert_same(expected, got, f"conv {spec} redraw {redraw} {variant}")


# ---------------------------------------------------------------------------- depthwise convolution

def _dw_spec(index: int) -> dict:
    rng = _spec_rng("dw", index)
    window = _window_spec(rng, index)
    return dict(window, in_ch=int(rng.integers(1, 12)), ch_mult=[1, 1, 2, 3][index % 4])


DW_SPECS = [_dw_spec(i) for i in range(14)]


def _convert_dw(spec: dict, rng) -> bytes:
    (h, w), c, m, (kh, kw) = spec["size"], spec["in_ch"], spec["ch_mult"], spec["k"]
    weights = tf.constant(rng.normal(size=(kh, kw, c, m)).astype(np.float32))
    bias = tf.constant(rng.normal(size=(c * m,)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([1, h, w, c], tf.float32)])
    def depthwise(x):
        y = tf.nn.depthwise_conv2d(x, weights, strides=[1, *spec["stride"], 1], padding=spec["padding"],
                                   dilations=[spec["dilation"], spec["dilation"]])
        return tf.nn.relu(y + bias)

    return convert(depthwise, [(1, h, w, c)], rng)


@pytest.mark.parametrize("index", range(len(DW_SPECS)))
def test_depthwise_conv_bit_exact_to_tflite_micro(kernels, converted, index):
    spec = DW_SPECS[index]
    rng = _spec_rng("dw-run", index)
    base = converted(f"dw {spec}", lambda: _convert_dw(spec, _spec_rng("dw-convert", index)))
    for redraw in range(REDRAWS):
        model = SingleOpModel(base)
        assert model.opcode() == BuiltinOperator.DEPTHWISE_CONV_2D
        out_ch = model.shape(1)[-1]
        assert out_ch == spec["in_ch"] * spec["ch_mult"]
        _redraw_conv_like(model, rng, out_ch, int(np.prod(model.shape(1)[1:3])))
        model_bytes = model.to_bytes()
        inputs = _random_inputs(rng, model.shape(0))
        expected = run_tflm(model_bytes, inputs)
        edited = SingleOpModel(model_bytes)
        args = _conv_like_args(kernels, edited)
        ch_mult = out_ch // edited.shape(0)[-1]
        for variant in ("ref", "opt"):
            got = np.stack([kernels.depthwise_conv(x, edited.data(1), **args, ch_mult=ch_mult, variant=variant) for x in inputs])
            _assert_same(expected, got, f"depthwise {spec} redraw {redraw} {variant}")


# ---------------------------------------------------------------------------- fully connected

def _fc_spec(index: int) -> dict:
    rng = _spec_rng("fc", index)
    return dict(batches=[1, 1, 1, 2, 3][index % 5], depth=int(rng.integers(1, 300)), units=int(rng.integers(1, 40)))


FC_SPECS = [_fc_spec(i) for i in range(12)]


def _convert_fc(spec: dict, rng) -> bytes:
    b, d, u = spec["batches"], spec["depth"], spec["units"]
    weights = tf.constant(rng.normal(size=(d, u)).astype(np.float32))
    bias = tf.constant(rng.normal(size=(u,)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([b, d], tf.float32)])
    def dense(x):
        return tf.matmul(x, weights) + bias

    return convert(dense, [(b, d)], rng)


@pytest.mark.parametrize("index", range(len(FC_SPECS)))
def test_fully_connected_bit_exact_to_tflite_micro(kernels, converted, index):
    spec = FC_SPECS[index]
    rng = _spec_rng("fc-run", index)
    base = converted(f"fc {spec}", lambda: _convert_fc(spec, _spec_rng("fc-convert", index)))
    for redraw in range(REDRAWS):
        model = SingleOpModel(base)
        assert model.opcode() == BuiltinOperator.FULLY_CONNECTED
        units, depth = model.shape(1)
        per_channel = len(model.quant(1)[0]) > 1
        model.set_data(1, rng.integers(-127, 128, size=(units, depth)))
        in_scale = random_scale(rng, 1e-3, 0.5)
        w_scales = np.array([random_scale(rng, 2e-3, 2e-2) for _ in range(units if per_channel else 1)], np.float32)
        out_scale = np.float32(in_scale * w_scales.mean() * np.sqrt(depth) * 74 * rng.uniform(0.2, 3.0))
        model.set_quant(0, in_scale, rng.integers(-128, 128))
        model.set_quant(1, w_scales, np.zeros(len(w_scales), np.int64))
        model.set_quant(0, out_scale, rng.integers(-128, 128), outputs=True)
        model.set_data(2, rng.integers(-(2**17), 2**17, size=units))
        model.set_quant(2, np.float32(in_scale) * w_scales, np.zeros(len(w_scales), np.int64))
        model.options.fusedActivationFunction = int(rng.choice(ACTIVATIONS))
        model_bytes = model.to_bytes()
        inputs = _random_inputs(rng, model.shape(0))
        expected = run_tflm(model_bytes, inputs)

        edited = SingleOpModel(model_bytes)
        (in_scale,), (in_zp,) = edited.quant(0)
        (out_scale,), (out_zp,) = edited.quant(0, outputs=True)
        w_scales, _ = edited.quant(1)
        scales = [fc_multiplier_scale(in_scale, s, out_scale) for s in w_scales]
        mult, shift = kernels.quantize_multipliers(scales)
        if not per_channel:
            mult, shift = int(mult[0]), int(shift[0])
        act = activation_range(edited.options.fusedActivationFunction, out_scale, int(out_zp))
        variants = ("ref", "opt") if not per_channel else ("ref",)
        for variant in variants:
            got = np.stack([
                kernels.fully_connected(x.reshape(spec["batches"], depth), edited.data(1), edited.data(2), mult, shift,
                                        input_offset=-int(in_zp), output_offset=int(out_zp), act=act, variant=variant)
                for x in inputs
            ])
            _assert_same(expected, got.reshape(expected.shape), f"fully connected {spec} redraw {redraw} {variant}")


# ---------------------------------------------------------------------------- average pooling

def _pool_spec(index: int) -> dict:
    rng = _spec_rng("pool", index)
    window = (int(rng.integers(1, 6)), int(rng.integers(1, 5)))
    size = (int(rng.integers(window[0], 14)), int(rng.integers(window[1], 10)))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    return dict(size=size, ch=int(rng.integers(1, 20)), window=window, stride=stride, padding=["SAME", "VALID"][index % 2])


POOL_SPECS = [_pool_spec(i) for i in range(10)]


def _convert_pool(spec: dict, rng) -> bytes:
    (h, w), c = spec["size"], spec["ch"]

    @tf.function(input_signature=[tf.TensorSpec([1, h, w, c], tf.float32)])
    def pool(x):
        return tf.nn.avg_pool2d(x, ksize=spec["window"], strides=spec["stride"], padding=spec["padding"])

    return convert(pool, [(1, h, w, c)], rng)


@pytest.mark.parametrize("index", range(len(POOL_SPECS)))
def test_avgpool_bit_exact_to_tflite_micro(kernels, converted, index):
    spec = POOL_SPECS[index]
    rng = _spec_rng("pool-run", index)
    base = converted(f"pool {spec}", lambda: _convert_pool(spec, _spec_rng("pool-convert", index)))
    for redraw in range(REDRAWS):
        model = SingleOpModel(base)
        assert model.opcode() == BuiltinOperator.AVERAGE_POOL_2D
        scale, zp = random_scale(rng, 1e-3, 0.5), int(rng.integers(-128, 128))
        model.set_quant(0, scale, zp)
        model.set_quant(0, scale, zp, outputs=True)
        model.options.fusedActivationFunction = int(rng.choice(ACTIVATIONS))
        model_bytes = model.to_bytes()
        inputs = _random_inputs(rng, model.shape(0))
        expected = run_tflm(model_bytes, inputs)

        edited = SingleOpModel(model_bytes)
        opts = edited.options
        _, in_h, in_w, _ = edited.shape(0)
        _, out_h, out_w, _ = edited.shape(0, outputs=True)
        window, stride = (opts.filterHeight, opts.filterWidth), (opts.strideH, opts.strideW)
        padding = (0, 0)
        if opts.padding == Padding.SAME:
            padding = (same_padding(in_h, window[0], stride[0], 1, out_h), same_padding(in_w, window[1], stride[1], 1, out_w))
        act = activation_range(opts.fusedActivationFunction, scale, zp)
        got = np.stack([kernels.avgpool(x, window=window, stride=stride, padding=padding, act=act, out_hw=(out_h, out_w)) for x in inputs])
        _assert_same(expected, got, f"avgpool {spec} redraw {redraw}")


# ---------------------------------------------------------------------------- softmax and reshape

SOFTMAX_SPECS = [dict(shape=s) for s in [(1, 12), (1, 2), (1, 35), (2, 12), (1, 5, 7), (1, 1), (1, 100)]]


@pytest.mark.parametrize("index", range(len(SOFTMAX_SPECS)))
def test_softmax_bit_exact_to_tflite_micro(kernels, converted, index):
    shape = SOFTMAX_SPECS[index]["shape"]
    rng = _spec_rng("softmax-run", index)

    def make():
        @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
        def softmax(x):
            return tf.nn.softmax(x)

        return convert(softmax, [shape], _spec_rng("softmax-convert", index))

    base = converted(f"softmax {shape}", make)
    for redraw in range(3 * REDRAWS):
        model = SingleOpModel(base)
        assert model.opcode() == BuiltinOperator.SOFTMAX
        # Scales from "all classes within one step" to "one step saturates the exponent".
        model.set_quant(0, random_scale(rng, 1e-3, 2.0), rng.integers(-128, 128))
        model.options.beta = float(rng.choice([1.0, 1.0, rng.uniform(0.1, 3.0)]))
        model_bytes = model.to_bytes()
        inputs = _random_inputs(rng, shape)
        # Ties and a dominant class are the interesting rows.
        inputs[0] = np.full(shape, rng.integers(-128, 128), np.int8)
        expected = run_tflm(model_bytes, inputs)

        edited = SingleOpModel(model_bytes)
        (out_scale,), (out_zp,) = edited.quant(0, outputs=True)
        assert (out_scale, out_zp) == (np.float32(1 / 256), -128)
        params = kernels.softmax_params(np.float32(edited.options.beta), edited.quant(0)[0][0])
        got = np.stack([kernels.softmax(x, params) for x in inputs])
        _assert_same(expected, got, f"softmax {shape} redraw {redraw}")


def test_reshape_copies_bytes_in_order_like_tflite_micro(kernels, converted):
    rng = _spec_rng("reshape-run", 0)

    def make():
        @tf.function(input_signature=[tf.TensorSpec([1, 7, 5, 3], tf.float32)])
        def reshape(x):
            return tf.reshape(x, [1, 35, 3])

        return convert(reshape, [(1, 7, 5, 3)], _spec_rng("reshape-convert", 0))

    model_bytes = converted("reshape 1x7x5x3", make)
    assert SingleOpModel(model_bytes).opcode() == BuiltinOperator.RESHAPE
    inputs = _random_inputs(rng, (1, 7, 5, 3), n=8)
    expected = run_tflm(model_bytes, inputs)
    got = np.stack([kernels.reshape(x, (1, 35, 3)) for x in inputs])
    _assert_same(expected, got, "reshape")


def test_opt_kernels_fall_back_to_reference_without_dsp(kernels_without_dsp, converted):
    """Built for a core without the DSP extension, the _opt kernels still match TFLite Micro."""
    rng = _spec_rng("fallback-run", 0)
    spec = CONV_SPECS[1]
    model = SingleOpModel(converted(f"conv {spec}", lambda: _convert_conv(spec, _spec_rng("conv-convert", 1))))
    _redraw_conv_like(model, rng, spec["out_ch"], int(np.prod(model.shape(1)[1:])))
    model_bytes = model.to_bytes()
    inputs = _random_inputs(rng, model.shape(0))
    edited = SingleOpModel(model_bytes)
    got = np.stack([kernels_without_dsp.conv(x, edited.data(1), **_conv_like_args(kernels_without_dsp, edited), variant="opt")
                    for x in inputs])
    _assert_same(run_tflm(model_bytes, inputs), got, "conv opt without DSP")
