"""The optimised kernels' fast paths equal the reference kernels bit for bit (host, emulated DSP).

The TFLite-oracle tests rarely hit these paths (3x3 stride-1 depthwise, conv rows of 4k bytes,
odd channel counts, channels whose multiplier the 7-instruction requantisation cannot take), so
this file draws them on purpose. The reference kernels are themselves checked against TFLite Micro.
"""
from __future__ import annotations

import numpy as np
import pytest

ACTIVATION_RANGES = [(-128, 127), (-20, 127), (-128, 50), (-3, 9)]


def draw_scales(rng, channels: int) -> np.ndarray:
    scales = rng.uniform(1e-4, 0.3, size=channels)
    roll = rng.random()
    if roll < 0.15:  # multiplier >= 0.5: the slow requantisation path
        scales[rng.integers(channels)] = rng.uniform(0.5, 3.0)
    elif roll < 0.2:  # tiny scale: a large right shift
        scales[rng.integers(channels)] = 1e-9
    return scales


def draw_bias(rng, channels: int):
    return rng.integers(-5000, 5000, size=channels).astype(np.int32) if rng.random() < 0.8 else None


def draw_int8(rng, shape) -> np.ndarray:
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def assert_opt_equals_ref(kernel, *args, err_msg: str, **kwargs) -> None:
    ref = kernel(*args, **kwargs, variant="ref")
    opt = kernel(*args, **kwargs, variant="opt")
    np.testing.assert_array_equal(opt, ref, err_msg=err_msg)


def check_depthwise_3x3(kernels, rng, h: int, w: int, c: int, pad: int, act) -> None:
    """One random 3x3 stride-1 depthwise layer of that shape: optimised == reference."""
    x = draw_int8(rng, (int(rng.integers(1, 3)), h, w, c))
    weights = rng.integers(-127, 128, size=(1, 3, 3, c)).astype(np.int8)
    mult, shift = kernels.quantize_multipliers(draw_scales(rng, c))
    kw = dict(ch_mult=1, input_offset=int(rng.integers(-127, 129)), output_offset=int(rng.integers(-128, 128)),
              stride=(1, 1), padding=(pad, pad), dilation=(1, 1), act=act,
              out_hw=(h + 2 * pad - 2, w + 2 * pad - 2))
    assert_opt_equals_ref(kernels.depthwise_conv, x, weights, draw_bias(rng, c), mult, shift, **kw,
                          err_msg=f"{h}x{w}x{c} pad {pad}")


@pytest.mark.parametrize("seed", range(6))
def test_depthwise_3x3_stride1_fast_path_equals_reference(kernels, seed):
    rng = np.random.default_rng(seed)
    for case in range(40):
        h, w, c = (int(v) for v in (rng.integers(3, 12), rng.integers(3, 11), rng.integers(1, 20)))
        pad = int(rng.integers(0, 2))
        check_depthwise_3x3(kernels, rng, h, w, c, pad, ACTIVATION_RANGES[case % 4])


@pytest.mark.parametrize("seed", range(6))
def test_conv_odd_channels_and_widened_rows_equal_reference(kernels, seed):
    rng = np.random.default_rng(100 + seed)
    for case in range(40):
        ic, kh, kw_ = int(rng.choice([1, 2, 3, 4])), int(rng.integers(1, 6)), int(rng.choice([1, 2, 3, 4]))
        h, w, oc = int(rng.integers(kh, 14)), int(rng.integers(kw_, 10)), int(rng.integers(1, 9))
        sh, sw, ph, pw = int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(0, kh)), int(rng.integers(0, kw_))
        x = draw_int8(rng, (int(rng.integers(1, 3)), h, w, ic))
        weights = rng.integers(-127, 128, size=(oc, kh, kw_, ic)).astype(np.int8)
        mult, shift = kernels.quantize_multipliers(draw_scales(rng, oc))
        kw = dict(input_offset=int(rng.integers(-127, 129)), output_offset=int(rng.integers(-128, 128)),
                  stride=(sh, sw), padding=(ph, pw), dilation=(1, 1), act=ACTIVATION_RANGES[case % 4],
                  out_hw=((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw_) // sw + 1))
        assert_opt_equals_ref(kernels.conv, x, weights, draw_bias(rng, oc), mult, shift, **kw,
                              err_msg=f"case {case}: in {h}x{w}x{ic} k {kh}x{kw_} out {oc}")


@pytest.mark.parametrize("seed", range(4))
def test_fully_connected_odd_depths_equal_reference(kernels, seed):
    rng = np.random.default_rng(200 + seed)
    for case in range(60):
        depth, units = int(rng.integers(1, 70)), int(rng.integers(1, 23))
        x = draw_int8(rng, (int(rng.integers(1, 3)), depth))
        weights = rng.integers(-127, 128, size=(units, depth)).astype(np.int8)
        mult, shift = kernels.quantize_multiplier(float(draw_scales(rng, 1)[0]))
        kw = dict(input_offset=int(rng.integers(-127, 129)), output_offset=int(rng.integers(-128, 128)),
                  act=ACTIVATION_RANGES[case % 4])
        assert_opt_equals_ref(kernels.fully_connected, x, weights, draw_bias(rng, units), mult, shift, **kw,
                              err_msg=f"case {case}: {depth} → {units}")


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TFLite SAME padding: (output size, padding before)."""
    out = -(-size // stride)
    return out, max((out - 1) * stride + kernel - size, 0) // 2


@pytest.mark.parametrize("seed", range(4))
def test_one_channel_same_conv_framed_asm_path_equals_reference(kernels, seed):
    # 1 input channel, kernel width 4k, taps 8k: the framed-input columns and the channel-pair
    # block (even channels, full range) with odd sizes, odd pixel counts and odd channel counts.
    rng = np.random.default_rng(300 + seed)
    for case in range(30):
        kh, kw_ = (10, 4) if case % 3 == 0 else (int(rng.choice([2, 4, 6])), int(rng.choice([4, 8])))
        sh, sw = (2, 2) if case % 2 == 0 else (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        h, w, oc = int(rng.integers(3, 52)), int(rng.integers(3, 13)), int(rng.choice([2, 3, 6, 9, 64]))
        (oh, ph), (ow, pw) = same_padding(h, kh, sh), same_padding(w, kw_, sw)
        x = draw_int8(rng, (int(rng.integers(1, 3)), h, w, 1))
        weights = rng.integers(-127, 128, size=(oc, kh, kw_, 1)).astype(np.int8)
        mult, shift = kernels.quantize_multipliers(draw_scales(rng, oc))
        kw = dict(input_offset=int(rng.integers(-127, 129)), output_offset=int(rng.integers(-128, 128)),
                  stride=(sh, sw), padding=(ph, pw), dilation=(1, 1),
                  act=ACTIVATION_RANGES[0] if case % 4 else ACTIVATION_RANGES[case % 8 // 4 + 1], out_hw=(oh, ow))
        assert_opt_equals_ref(kernels.conv, x, weights, draw_bias(rng, oc), mult, shift, **kw,
                              err_msg=f"case {case}: in {h}x{w}x1 k {kh}x{kw_} s {sh}x{sw} out {oc}")


@pytest.mark.parametrize("seed", range(3))
def test_depthwise_3x3_tall_maps_transposed_planes_equal_reference(kernels, seed):
    # Output taller than wide (DS-CNN's 25 x 5): the planes are stored transposed; odd heights,
    # widths and channel counts, with and without padding.
    rng = np.random.default_rng(400 + seed)
    for case in range(20):
        w = int(rng.integers(3, 8))
        h, c, pad = int(rng.integers(w + 2, 30)) | 1, int(rng.choice([1, 3, 5, 7, 13, 64])), int(rng.integers(0, 2))
        check_depthwise_3x3(kernels, rng, h, w, c, pad, ACTIVATION_RANGES[case % 4])


@pytest.mark.parametrize("seed", range(2))
def test_depthwise_3x3_long_maps_every_plane_stride_equal_reference(kernels, seed):
    # The 3x3 path rounds the plane width up to a stride of 16, 32, 64 or 128 elements and keeps
    # wider planes (over 128) as they are: long sides drawn for each, along either axis.
    rng = np.random.default_rng(500 + seed)
    for case, (lo, hi) in enumerate([(9, 14), (26, 30), (40, 62), (100, 126), (126, 140)] * 2):
        long_side, short_side = int(rng.integers(lo, hi)), int(rng.integers(3, 6))
        h, w = (long_side, short_side) if case % 2 == 0 else (short_side, long_side)
        c, pad = int(rng.choice([1, 4, 6])), int(rng.integers(0, 2))
        check_depthwise_3x3(kernels, rng, h, w, c, pad, ACTIVATION_RANGES[case % 4 if case % 3 else 0])


def prune_channels(rng, weights: np.ndarray, scales: np.ndarray, axis: int) -> None:
    """Zeroes the weights of about a third of the channels (along `axis`) and gives them the tiny scale
    the converter gives an all-zero channel (about 4e-9: a right shift past 23), in place."""
    pruned = rng.random(scales.size) < 0.35
    scales[pruned] = 3.937e-9
    index = [slice(None)] * weights.ndim
    index[axis] = pruned
    weights[tuple(index)] = 0


@pytest.mark.parametrize("seed", range(3))
def test_pruned_channels_keep_the_fast_requantisation_bit_exact(kernels, seed):
    # An all-zero channel outputs its requantised bias as a constant (kws_rq_init_channels).
    rng = np.random.default_rng(500 + seed)
    for case in range(30):
        act = ACTIVATION_RANGES[case % 4]
        c, h, w = int(rng.choice([2, 5, 16, 64])), int(rng.integers(3, 26)), int(rng.integers(3, 8))
        x = draw_int8(rng, (1, h, w, c))
        offsets = dict(input_offset=int(rng.integers(-127, 129)), output_offset=int(rng.integers(-128, 128)))
        weights, scales = draw_int8(rng, (1, 3, 3, c)), rng.uniform(1e-4, 0.3, size=c)
        prune_channels(rng, weights, scales, axis=3)
        mult, shift = kernels.quantize_multipliers(scales)
        assert_opt_equals_ref(kernels.depthwise_conv, x, weights, draw_bias(rng, c), mult, shift, ch_mult=1,
                              stride=(1, 1), padding=(1, 1), dilation=(1, 1), act=act, out_hw=(h, w), **offsets,
                              err_msg=f"depthwise {h}x{w}x{c}")
        oc, k = int(rng.choice([1, 2, 7, 16])), int(rng.choice([1, 3]))
        weights, scales = draw_int8(rng, (oc, k, k, c)), rng.uniform(1e-4, 0.3, size=oc)
        prune_channels(rng, weights, scales, axis=0)
        mult, shift = kernels.quantize_multipliers(scales)
        assert_opt_equals_ref(kernels.conv, x, weights, draw_bias(rng, oc), mult, shift, stride=(1, 1),
                              padding=(0, 0), dilation=(1, 1), act=act, out_hw=(h - k + 1, w - k + 1), **offsets,
                              err_msg=f"conv {h}x{w}x{c} k {k} out {oc}")
