"""The ops that unrolled recurrent cells and padding add (ADD, SUB, MUL, LOGISTIC, TANH, PAD, UNPACK,
PACK) are bit-exact to TFLite Micro; same method as test_kernels.py: convert, re-draw quantisation in
the flatbuffer, compare the C kernel's bytes with the interpreter's."""

from __future__ import annotations

import numpy as np
import pytest

from .tflite_oracle import SingleOpModel, activation_range, convert, random_scale, run_tflm_multi

tf = pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")
from tensorflow.lite.python.schema_py_generated import ActivationFunctionType, BuiltinOperator  # noqa: E402

REDRAWS = 12
INPUTS = 4
OPCODES = {"add": BuiltinOperator.ADD, "sub": BuiltinOperator.SUB, "mul": BuiltinOperator.MUL}


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng([sum(map(ord, str(k))) for k in key])


def _assert_same(expected: np.ndarray, got: np.ndarray, what: str) -> None:
    expected, got = np.asarray(expected), np.asarray(got).reshape(np.shape(expected))
    if not np.array_equal(expected, got):
        diff = np.argwhere(expected != got)
        first = tuple(diff[0])
        raise AssertionError(f"{what}: {len(diff)} of {expected.size} differ; first at {first}: "
                             f"TFLM {expected[first]} vs kernel {got[first]}")


def _graph_input_index(model: SingleOpModel, position: int) -> int | None:
    """The interpreter input index feeding op input `position`, or None for a constant."""
    tensor_index = model.op.inputs[position]
    inputs = list(model.subgraph.inputs)
    return inputs.index(tensor_index) if tensor_index in inputs else None


ELEMENTWISE_SPECS = [
    ("add", (1, 16), (1, 16), False),
    ("add", (1, 5, 7), (1, 5, 7), False),
    ("add", (1, 24), (24,), True),
    ("sub", (1, 16), (1, 16), False),
    ("sub", (1, 10), (10,), True),
    ("mul", (1, 16), (1, 16), False),
    ("mul", (2, 3, 8), (2, 3, 8), False),
    ("mul", (1, 20), (20,), True),
]


def _convert_elementwise(op, shape1, shape2, const, rng) -> bytes:
    fn = {"add": tf.add, "sub": tf.subtract, "mul": tf.multiply}[op]
    if const:
        c = tf.constant(rng.normal(size=shape2).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec(shape1, tf.float32)])
        def model(x):
            return fn(x, c)

        return convert(model, [shape1], rng)

    @tf.function(input_signature=[tf.TensorSpec(shape1, tf.float32), tf.TensorSpec(shape2, tf.float32)])
    def model2(x1, x2):
        return fn(x1, x2)

    return convert(model2, [shape1, shape2], rng)


@pytest.mark.parametrize("spec", ELEMENTWISE_SPECS, ids=lambda s: f"{s[0]}-{'x'.join(map(str, s[1]))}-{'const' if s[3] else 'var'}")
def test_elementwise_bit_exact_to_tflite_micro(kernels, converted, spec):
    op, shape1, shape2, const = spec
    rng = _rng("elementwise-run", *spec)
    base = converted(f"elementwise {spec}", lambda: _convert_elementwise(op, shape1, shape2, const, _rng("elementwise-convert", *spec)))
    for redraw in range(REDRAWS):
        model = SingleOpModel(base)
        assert model.opcode() == OPCODES[op]
        s1, s2 = random_scale(rng, 5e-3, 0.5), random_scale(rng, 5e-3, 0.5)
        so = np.float32(s1 * s2 * 128 * rng.uniform(0.3, 3.0)) if op == "mul" else np.float32((s1 + s2) * rng.uniform(0.5, 2.0))
        model.set_quant(0, s1, rng.integers(-128, 128))
        model.set_quant(1, s2, rng.integers(-128, 128))
        model.set_quant(0, so, rng.integers(-128, 128), outputs=True)
        if const:
            model.set_data(1, rng.integers(-128, 128, size=model.shape(1)))
        model.options.fusedActivationFunction = int(rng.choice([ActivationFunctionType.NONE, ActivationFunctionType.RELU]))
        model_bytes = model.to_bytes()
        edited = SingleOpModel(model_bytes)
        positions = [p for p in (0, 1) if _graph_input_index(edited, p) is not None]
        cases = [[rng.integers(-128, 128, size=edited.shape(p), dtype=np.int8) for p in positions] for _ in range(INPUTS)]
        order = [_graph_input_index(edited, p) for p in positions]
        expected = run_tflm_multi(model_bytes, [[c[order.index(i)] for i in range(len(c))] for c in cases], 1)

        (q1,), (z1,) = edited.quant(0)
        (q2,), (z2,) = edited.quant(1)
        (qo,), (zo,) = edited.quant(0, outputs=True)
        act = activation_range(edited.options.fusedActivationFunction, qo, int(zo))
        for case, (want,) in zip(cases, expected):
            x1 = case[0]
            x2 = case[1] if len(case) > 1 else edited.data(1)
            got = kernels.elementwise(op, x1, x2, scales=(q1, q2, qo), zero_points=(z1, z2, zo), act=act)
            _assert_same(want, got, f"{op} {spec} redraw {redraw}")


@pytest.mark.parametrize("op", ["logistic", "tanh"])
def test_logistic_and_tanh_bit_exact_to_tflite_micro_for_every_input_value(kernels, converted, op):
    rng = _rng(op, "run")

    def make():
        @tf.function(input_signature=[tf.TensorSpec((1, 256), tf.float32)])
        def model(x):
            return tf.sigmoid(x) if op == "logistic" else tf.tanh(x)

        return convert(model, [(1, 256)], _rng(op, "convert"))

    base = converted(f"{op} 1x256", make)
    every_value = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)
    for redraw in range(3 * REDRAWS):
        model = SingleOpModel(base)
        assert model.opcode() == (BuiltinOperator.LOGISTIC if op == "logistic" else BuiltinOperator.TANH)
        model.set_quant(0, random_scale(rng, 1e-3, 0.5), rng.integers(-128, 128))
        model_bytes = model.to_bytes()
        (want,), = run_tflm_multi(model_bytes, [[every_value]], 1)
        edited = SingleOpModel(model_bytes)
        (scale,), (zp,) = edited.quant(0)
        got = kernels.sigmoid_like(op, every_value, input_scale=scale, input_zero_point=zp)
        _assert_same(want, got, f"{op} scale {scale} zero point {zp}")


@pytest.mark.parametrize("pads", [((1, 1), (1, 2)), ((0, 3), (2, 0)), ((2, 2), (0, 0))])
def test_pad_bit_exact_to_tflite_micro(kernels, converted, pads):
    shape = (1, 6, 4, 3)
    rng = _rng("pad", pads)

    def make():
        @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
        def model(x):
            return tf.pad(x, [[0, 0], list(pads[0]), list(pads[1]), [0, 0]])

        return convert(model, [shape], _rng("pad-convert", pads))

    model_bytes = converted(f"pad {pads}", make)
    model = SingleOpModel(model_bytes)
    assert model.opcode() == BuiltinOperator.PAD
    paddings = model.data(1)
    (_,), (zp,) = model.quant(0, outputs=True)
    cases = [[rng.integers(-128, 128, size=shape, dtype=np.int8)] for _ in range(INPUTS)]
    for case, (want,) in zip(cases, run_tflm_multi(model_bytes, cases, 1)):
        got = kernels.pad(case[0], paddings[:, 0], paddings[:, 1], zp)
        _assert_same(want, got, f"pad {pads}")


def test_unpack_and_pack_bit_exact_to_tflite_micro(kernels, converted):
    rng = _rng("unpack-pack")
    shape, steps = (1, 7, 10), 7

    def make_unpack():
        @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)])
        def model(x):
            return tf.unstack(x, axis=1)

        return convert(model, [shape], _rng("unpack-convert"))

    def make_pack():
        @tf.function(input_signature=[tf.TensorSpec((1, 10), tf.float32)] * 3)
        def model(a, b, c):
            return tf.stack([a, b, c], axis=1)

        return convert(model, [(1, 10)] * 3, _rng("pack-convert"))

    unpack_bytes = converted("unpack 1x7x10 axis 1", make_unpack)
    unpack = SingleOpModel(unpack_bytes)
    assert unpack.opcode() == BuiltinOperator.UNPACK and len(unpack.op.outputs) == steps
    cases = [[rng.integers(-128, 128, size=shape, dtype=np.int8)] for _ in range(INPUTS)]
    for case, want in zip(cases, run_tflm_multi(unpack_bytes, cases, steps)):
        got = kernels.unpack(case[0], axis=1)
        # The interpreter's outputs follow the subgraph's output order; map each to its step.
        for out_index, tensor_index in enumerate(unpack.subgraph.outputs):
            _assert_same(want[out_index], got[list(unpack.op.outputs).index(tensor_index)], "unpack")

    pack_bytes = converted("pack 3x(1x10) axis 1", make_pack)
    pack = SingleOpModel(pack_bytes)
    assert pack.opcode() == BuiltinOperator.PACK
    quants = {(float(pack.quant(i)[0][0]), int(pack.quant(i)[1][0])) for i in range(3)} | {
        (float(pack.quant(0, outputs=True)[0][0]), int(pack.quant(0, outputs=True)[1][0]))}
    assert len(quants) == 1, "PACK with differing quantisation would need a requantising kernel"
    cases = [[rng.integers(-128, 128, size=(1, 10), dtype=np.int8) for _ in range(3)] for _ in range(INPUTS)]
    graph_inputs = list(pack.subgraph.inputs)
    for case, (want,) in zip(cases, run_tflm_multi(pack_bytes, cases, 1)):
        ordered = [case[graph_inputs.index(t)] for t in pack.op.inputs]
        _assert_same(want, kernels.pack(ordered, axis=1), "pack")
