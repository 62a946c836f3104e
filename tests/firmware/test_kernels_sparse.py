"""Sparse int8 kernels: the packed formats, and every sparse kernel bit-exact to the dense kernels on
the same pruned weights — on the host (emulated DSP intrinsics and portable C) and on the emulated
Cortex-M7 (the Arm code paths), where the outputs must also equal TFLite Micro running the dense
model with the pruned weights. The board runs every case in one QEMU boot of one firmware build.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from nas.firmware.sparse_format import FORMATS, SparseFilter, pack, prune, unpack

from .sparse_lib import SparseKernels

NM_CHOICES = ((1, 2), (2, 3), (2, 4), (1, 4), (2, 7), (1, 8), (1, 10), (1, 20), (2, 16))
SPARSITIES = (0.0, 0.3, 0.5, 0.7, 0.75, 0.9, 0.95, 1.0)
ORDERS = ("input_stationary", "weight_prioritised")


def nonzero_int8(rng, shape) -> np.ndarray:
    """Random int8 weights without zeros, so a pruned fraction is exactly what pruning removed."""
    w = rng.integers(1, 128, size=shape) * rng.choice([-1, 1], size=shape)
    return w.astype(np.int8)


def draw_pruned(rng, rows: np.ndarray, fmt: str) -> tuple[np.ndarray, SparseFilter]:
    """Prunes [rows, taps] to a random pattern of `fmt` and packs it."""
    if fmt == "nm":
        n, m = NM_CHOICES[rng.integers(len(NM_CHOICES))]
        pruned = prune(rows, "nm", n=n, m=m)
        return pruned, pack(pruned, "nm", n=n, m=m)
    pruned = prune(rows, fmt, float(rng.choice(SPARSITIES)))
    return pruned, pack(pruned, fmt)


# ---------------------------------------------------------------------------- the formats

@pytest.mark.parametrize("fmt", FORMATS)
def test_pack_then_unpack_gives_the_pruned_weights_back(fmt):
    rng = np.random.default_rng(FORMATS.index(fmt))
    for _ in range(40):
        rows = nonzero_int8(rng, (int(rng.integers(1, 9)), int(rng.integers(1, 70))))
        pruned, packed = draw_pruned(rng, rows, fmt)
        np.testing.assert_array_equal(unpack(packed), pruned)
        assert packed.values.dtype == np.int8 and len(packed.values) % 4 == 0


def test_prune_removes_the_requested_fraction_per_granularity():
    rng = np.random.default_rng(7)
    rows = nonzero_int8(rng, (16, 80))  # 80 taps, 20 blocks: every fraction below is whole
    for sparsity in (0.25, 0.5, 0.75, 0.9):
        assert (prune(rows, "element", sparsity) == 0).mean() == sparsity
        blocks = prune(rows, "block", sparsity).reshape(16, 20, 4)
        assert (blocks == 0).all(axis=2).mean() == sparsity  # whole blocks go
        assert ((blocks == 0).any(axis=2) == (blocks == 0).all(axis=2)).all()
    for n, m in ((2, 4), (1, 4), (1, 8)):
        groups = prune(rows, "nm", n=n, m=m).reshape(16, -1, m)
        assert ((groups != 0).sum(axis=2) == n).all()


def test_prune_keeps_the_largest_magnitudes():
    rows = np.array([[5, -9, 1, 3, -2, 8, 7, -2]], np.int8)
    np.testing.assert_array_equal(prune(rows, "element", 0.5), [[5, -9, 0, 0, 0, 8, 7, 0]])
    np.testing.assert_array_equal(prune(rows, "nm", n=1, m=4), [[0, -9, 0, 0, 0, 8, 0, 0]])
    np.testing.assert_array_equal(prune(rows, "block", 0.5), [[0, 0, 0, 0, -2, 8, 7, -2]])  # L1 18 < 19


def test_flash_shrinks_with_sparsity():
    """Bytes stored: block 2 a row + 6 a kept block; N:M 2 a kept weight; element 2 a row + 2 a kept weight."""
    rng = np.random.default_rng(3)
    rows = nonzero_int8(rng, (64, 64))
    for sparsity in (0.5, 0.75, 0.9):
        kept_blocks = 64 * (16 - round(sparsity * 16))
        assert pack(prune(rows, "block", sparsity), "block").flash_bytes == 2 * 64 + 6 * kept_blocks
        kept = 64 * -(-(64 - round(sparsity * 64)) // 4) * 4  # rows padded to whole quads
        assert pack(prune(rows, "element", sparsity), "element").flash_bytes == 2 * 64 + 2 * kept
    assert pack(prune(rows, "block", 0.5), "block").flash_bytes < 0.8 * rows.size
    far = np.zeros((1, 1000), np.int8)
    far[0, [3, 700]] = (5, -7)  # a 697-tap gap: two zero weights in between keep the steps in a byte
    packed = pack(far, "element")
    assert packed.offsets.tolist() == [3, 255, 255, 187] and packed.flash_bytes == 2 + 2 * 4
    np.testing.assert_array_equal(unpack(packed), far)
    assert pack(prune(rows, "nm", n=1, m=4), "nm", n=1, m=4).flash_bytes == rows.size // 2
    assert pack(prune(rows, "nm", n=1, m=10), "nm", n=1, m=10).flash_bytes == 64 * 8 * 2  # 7 groups, 1 pad


def test_packing_refuses_what_the_format_cannot_hold():
    rows = np.array([[1, 2, 0, 0, 3, 0, 0, 0]], np.int8)
    with pytest.raises(ValueError, match="N:M 1:4: row 0 group 0 has 2 non-zeros"):
        pack(rows, "nm", n=1, m=4)
    with pytest.raises(ValueError, match="N:M: expected N in"):
        pack(rows, "nm", n=3, m=8)
    with pytest.raises(ValueError, match="format: expected one of element, block, nm"):
        pack(rows, "channel")
    with pytest.raises(ValueError, match="weights: expected a 2-D int8 array"):
        pack(rows.astype(np.int16), "element")


# ---------------------------------------------------------------------------- host: sparse == dense

def draw_quant(kernels, rng, channels: int):
    scales = rng.uniform(1e-4, 0.02, size=channels)
    if rng.random() < 0.2:  # a multiplier >= 0.5: the kernels' slow requantisation path
        scales[rng.integers(channels)] = rng.uniform(0.5, 3.0)
    return kernels.quantize_multipliers(scales)


@pytest.mark.parametrize("build", ["kernels", "kernels_without_dsp"])
def test_sparse_conv_equals_dense_reference_on_host(request, build):
    kernels = request.getfixturevalue(build)
    sparse = SparseKernels(kernels)
    rng = np.random.default_rng(11)
    for case in range(60):
        fmt = FORMATS[case % 3]
        kh, kw, ic, oc = (int(v) for v in (rng.integers(1, 5), rng.integers(1, 4), rng.integers(1, 12), rng.integers(1, 14)))
        h, w = int(rng.integers(kh, 11)), int(rng.integers(kw, 9))
        sh, sw, ph, pw = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(0, kh)), int(rng.integers(0, kw))
        x = rng.integers(-128, 128, size=(int(rng.integers(1, 3)), h, w, ic)).astype(np.int8)
        pruned, packed = draw_pruned(rng, nonzero_int8(rng, (oc, kh * kw * ic)), fmt)
        mult, shift = draw_quant(kernels, rng, oc)
        bias = rng.integers(-5000, 5000, size=oc) if case % 5 else None
        act = [(-128, 127), (-20, 127), (-3, 9)][case % 3]
        kw_args = dict(input_offset=int(rng.integers(-127, 129)), output_offset=int(rng.integers(-128, 128)),
                       stride=(sh, sw), padding=(ph, pw), dilation=(1, 1), act=act,
                       out_hw=((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1))
        dense = kernels.conv(x, pruned.reshape(oc, kh, kw, ic), bias, mult, shift, **kw_args, variant="ref")
        for order in ORDERS:
            got = sparse.conv(x, packed, (oc, kh, kw, ic), bias, mult, shift, **kw_args, order=order)
            np.testing.assert_array_equal(got, dense, err_msg=f"case {case} {fmt} {order} {x.shape} k {kh}x{kw} oc {oc}")


@pytest.mark.parametrize("build", ["kernels", "kernels_without_dsp"])
def test_sparse_fully_connected_equals_dense_reference_on_host(request, build):
    kernels = request.getfixturevalue(build)
    sparse = SparseKernels(kernels)
    rng = np.random.default_rng(12)
    for case in range(45):
        fmt = FORMATS[case % 3]
        batches, depth, units = int(rng.integers(1, 4)), int(rng.integers(1, 200)), int(rng.integers(1, 30))
        x = rng.integers(-128, 128, size=(batches, depth)).astype(np.int8)
        pruned, packed = draw_pruned(rng, nonzero_int8(rng, (units, depth)), fmt)
        (mult,), (shift,) = draw_quant(kernels, rng, 1)
        bias = rng.integers(-5000, 5000, size=units) if case % 4 else None
        kw_args = dict(input_offset=int(rng.integers(-127, 129)), output_offset=int(rng.integers(-128, 128)),
                       act=[(-128, 127), (-5, 100)][case % 2])
        dense = kernels.fully_connected(x, pruned, bias, int(mult), int(shift), **kw_args, variant="ref")
        for order in ORDERS:
            got = sparse.fully_connected(x, packed, bias, int(mult), int(shift), **kw_args, order=order)
            np.testing.assert_array_equal(got, dense, err_msg=f"case {case} {fmt} {order} {batches}x{depth}->{units}")


def test_element_gaps_over_255_taps_on_host(kernels):
    """Kept weights hundreds of taps apart (zero weights in between in the format) sum like dense."""
    sparse = SparseKernels(kernels)
    rng = np.random.default_rng(14)
    x = rng.integers(-128, 128, size=(3, 1200)).astype(np.int8)
    pruned = prune(nonzero_int8(rng, (5, 1200)), "element", 0.996)
    packed = pack(pruned, "element")
    assert (packed.offsets == 255).any()
    (mult,), (shift,) = kernels.quantize_multipliers([0.01])
    args = dict(input_offset=7, output_offset=-3, act=(-128, 127))
    dense = kernels.fully_connected(x, pruned, None, int(mult), int(shift), **args, variant="ref")
    for order in ORDERS:
        np.testing.assert_array_equal(sparse.fully_connected(x, packed, None, int(mult), int(shift), **args, order=order),
                                      dense)


def test_sparse_kernels_reject_bad_arguments(kernels):
    sparse = SparseKernels(kernels)
    rng = np.random.default_rng(13)
    x = rng.integers(-128, 128, size=(1, 5, 5, 4)).astype(np.int8)
    packed = pack(prune(nonzero_int8(rng, (3, 36)), "nm", n=1, m=4), "nm", n=1, m=4)
    mult, shift = kernels.quantize_multipliers([0.01] * 3)
    args = dict(input_offset=0, output_offset=0, stride=(1, 1), padding=(0, 0), dilation=(1, 1), act=(-128, 127),
                out_hw=(3, 3))
    sparse.conv(x, packed, (3, 3, 3, 4), None, mult, shift, **args)  # valid as given
    for bad in (dict(format_code=7), dict(n=3), dict(scratch_bytes=16)):  # format, N:M, scratch
        with pytest.raises(ValueError, match="kws_convolve_sparse_s8 returned status -1"):
            sparse.conv(x, packed, (3, 3, 3, 4), None, mult, shift, **args, **bad)
    with pytest.raises(ValueError, match="returned status -1"):  # filter dims that disagree with the input
        sparse.conv(x, packed, (3, 3, 3, 5), None, mult, shift, **args)
    fc = pack(prune(nonzero_int8(rng, (3, 8)), "block", 0.5), "block")
    with pytest.raises(ValueError, match="kws_fully_connected_sparse_s8 returned status -1"):  # int8 weights: offset 0
        sparse.fully_connected(x.reshape(1, -1)[:, :8], fc, None, int(mult[0]), int(shift[0]), input_offset=0,
                               output_offset=0, act=(-128, 127), filter_offset=3)


# ---------------------------------------------------------------------------- the emulated board

POINTWISE_SPECS = [
    dict(size=(25, 5), k=(1, 1), stride=(1, 1), dilation=1, padding="VALID", in_ch=16, out_ch=20, bias=True),
    dict(size=(7, 3), k=(1, 1), stride=(1, 1), dilation=1, padding="SAME", in_ch=13, out_ch=9, bias=True),
    dict(size=(6, 5), k=(1, 1), stride=(2, 1), dilation=1, padding="VALID", in_ch=8, out_ch=7, bias=False),
]
INPUTS = 3  # random inputs per case, run by the board as one batch


def _board_conv_case(kernels, converted, seed: int, spec: dict, rng, fmt: str):
    """A conv layer converted by TensorFlow, its weights pruned to `fmt`, with TFLite Micro's outputs."""
    from nas.firmware.bench.sparse_runner import Case

    from .test_kernels import _conv_like_args, _convert_conv, _redraw_conv_like, _spec_rng
    from .tflite_oracle import SingleOpModel, run_tflm

    model = SingleOpModel(converted(f"conv {spec}", lambda: _convert_conv(spec, _spec_rng("conv-convert", seed))))
    oc = model.shape(1)[0]
    taps = int(np.prod(model.shape(1)[1:]))
    _redraw_conv_like(model, rng, oc, taps)
    pruned, packed = draw_pruned(rng, model.data(1).reshape(oc, taps), fmt)
    model.set_data(1, pruned)
    model_bytes = model.to_bytes()
    inputs = [rng.integers(-128, 128, size=model.shape(0), dtype=np.int8) for _ in range(INPUTS)]
    expected = run_tflm(model_bytes, inputs)
    edited = SingleOpModel(model_bytes)
    args = _conv_like_args(kernels, edited)
    batch = np.concatenate(inputs)
    case = Case("conv", batch, edited.data(1), packed, args["mult"], args["shift"],
                (len(batch), *args["out_hw"], oc), bias=args["bias"], stride=args["stride"],
                padding=args["padding"], dilation=args["dilation"], input_offset=args["input_offset"],
                output_offset=args["output_offset"], act=args["act"], label=f"conv {spec} {packed.format}")
    return case, expected.reshape(case.out_shape)


def _board_fc_case(kernels, converted, index: int, rng, fmt: str):
    """A fully connected layer (per-tensor weights) pruned to `fmt`, with TFLite Micro's outputs."""
    from tensorflow.lite.python.schema_py_generated import ActivationFunctionType

    from nas.firmware.bench.sparse_runner import Case

    from .test_kernels import FC_SPECS, _convert_fc, _spec_rng
    from .tflite_oracle import SingleOpModel, activation_range, fc_multiplier_scale, random_scale, run_tflm

    spec = FC_SPECS[index]
    model = SingleOpModel(converted(f"fc {spec}", lambda: _convert_fc(spec, _spec_rng("fc-convert", index))))
    units, depth = model.shape(1)
    pruned, packed = draw_pruned(rng, nonzero_int8(rng, (units, depth)), fmt)
    model.set_data(1, pruned)
    in_scale, w_scale = random_scale(rng, 1e-3, 0.5), random_scale(rng, 2e-3, 2e-2)
    model.set_quant(0, in_scale, rng.integers(-128, 128))
    model.set_quant(1, w_scale, 0)  # per tensor: the sparse fully connected kernel's quantisation
    model.set_quant(0, np.float32(in_scale * w_scale * np.sqrt(depth) * 74 * rng.uniform(0.1, 2.0)),
                    rng.integers(-128, 128), outputs=True)
    model.set_data(2, rng.integers(-(2**17), 2**17, size=units))
    model.set_quant(2, np.float32(in_scale) * w_scale, 0)
    model.options.fusedActivationFunction = int(rng.choice([ActivationFunctionType.NONE, ActivationFunctionType.RELU]))
    model_bytes = model.to_bytes()
    inputs = [rng.integers(-128, 128, size=model.shape(0), dtype=np.int8) for _ in range(INPUTS)]
    expected = run_tflm(model_bytes, inputs)
    edited = SingleOpModel(model_bytes)
    (in_scale,), (in_zp,) = edited.quant(0)
    (out_scale,), (out_zp,) = edited.quant(0, outputs=True)
    mult, shift = kernels.quantize_multiplier(fc_multiplier_scale(in_scale, edited.quant(1)[0][0], out_scale))
    batch = np.concatenate(inputs).reshape(-1, depth)
    case = Case("fc", batch, pruned, packed, np.array([mult]), np.array([shift]), (len(batch), units),
                bias=edited.data(2), input_offset=-int(in_zp), output_offset=int(out_zp),
                act=activation_range(edited.options.fusedActivationFunction, out_scale, int(out_zp)),
                label=f"fc {index} {packed.format}")
    return case, expected.reshape(case.out_shape)


@pytest.mark.firmware
def test_sparse_kernels_on_the_board_equal_dense_kernels_and_tflite_micro(kernels, converted):
    """Conv, pointwise and fully connected layers of random shapes, each pruned to each format at a
    random sparsity (or N:M), run on the emulated M7: both sparse loop orders, the dense reference and
    the dense DSP kernel must all give TFLite Micro's bytes."""
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/bootstrap.sh installs it)")
    pytest.importorskip("tensorflow")
    pytest.importorskip("tflite_micro")
    from nas.firmware.bench.sparse_runner import VARIANTS, run

    from .test_kernels import CONV_SPECS, FC_SPECS  # the dense tests' layers: the converter cache is shared

    rng = np.random.default_rng(2026)
    cases, expected = [], []
    layers = list(enumerate(CONV_SPECS)) + [(100 + i, s) for i, s in enumerate(POINTWISE_SPECS)]
    for seed, spec in layers:
        for fmt in FORMATS:
            case, want = _board_conv_case(kernels, converted, seed, spec, rng, fmt)
            cases.append(case)
            expected.append(want)
    for index in range(len(FC_SPECS)):
        for fmt in FORMATS:
            case, want = _board_fc_case(kernels, converted, index, rng, fmt)
            cases.append(case)
            expected.append(want)
    rows = run(cases)
    assert len(rows) == len(cases) * len(VARIANTS)
    for row in rows:
        case = cases[row["case"]]
        assert not row["failed"], f"{case.label}: {row['variant']} returned an error"
        if not np.array_equal(row["output"], expected[row["case"]]):
            diff = np.argwhere(row["output"] != expected[row["case"]])
            raise AssertionError(f"{case.label} ({row['variant']}): {len(diff)} of {row['output'].size} bytes differ "
                                 f"from TFLite Micro, first at {tuple(diff[0])}")
    kept = [1 - (c.dense == 0).mean() for c in cases]
    assert min(kept) < 0.1 and max(kept) > 0.45  # the draw spans sparse and barely pruned layers


@pytest.mark.firmware
def test_pruned_channels_keep_dense_and_sparse_kernels_fast_and_exact_on_the_board():
    """Output channels pruned to all-zero weights carry the converter's tiny scale (a right shift past
    23). On the emulated M7 every kernel must still give the reference kernel's bytes, and take about
    as many instructions as when those channels have ordinary scales (no generic requantisation)."""
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "make"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/bootstrap.sh installs it)")
    from nas.firmware.bench.sparse_runner import Case, quantize_multiplier, run

    rng = np.random.default_rng(7)
    oc, taps = 32, 32
    dense = prune(nonzero_int8(rng, (oc, taps)), "block", 0.5)
    zero_rows = rng.permutation(oc)[:12]
    dense[zero_rows] = 0
    x = rng.integers(-128, 128, size=(1, 25, 5, taps)).astype(np.int8)
    cases = []
    for tiny in (False, True):
        scales = rng.uniform(2e-4, 1e-3, size=oc)
        if tiny:
            scales[zero_rows] = 3.937e-9
        quant = [quantize_multiplier(s) for s in scales]
        cases.append(Case("conv", x, dense.reshape(oc, 1, 1, taps), pack(dense, "block"),
                          np.array([q[0] for q in quant]), np.array([q[1] for q in quant]), (1, 25, 5, oc),
                          bias=rng.integers(-5000, 5000, size=oc), input_offset=3, output_offset=-7))
    assert min(quantize_multiplier(3.937e-9)[1], 0) < -23  # the shift kws_rq_init() refuses
    rows = {(r["case"], r["variant"]): r for r in run(cases)}
    for (case, variant), r in rows.items():
        assert not r["failed"] and np.array_equal(r["output"], rows[case, "dense_ref"]["output"]), (case, variant)
    for variant in ("dense_opt", "sparse_is", "sparse_wp"):
        assert rows[1, variant]["instructions"] <= 1.02 * rows[0, variant]["instructions"], variant
