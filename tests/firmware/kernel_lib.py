"""Host build of the firmware's int8 kernels as a shared library, called through ctypes.

The C sources in ``firmware/src/kernels`` are compiled with the host ``gcc -shared -fPIC`` into a
temporary directory keyed by a hash of the sources and flags (so a second test session reuses it),
once plainly and once with ``-DKWS_DSP_EMULATE``, where the ``*_opt`` kernels run their DSP code
paths on portable C emulations of the Cortex-M intrinsics (``kws_dsp_emul.h``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

KERNEL_DIR = Path(__file__).resolve().parents[2] / "firmware" / "src" / "kernels"
CFLAGS = ("-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC")


class KwsDims(ctypes.Structure):
    _fields_ = [("n", ctypes.c_int32), ("h", ctypes.c_int32), ("w", ctypes.c_int32), ("c", ctypes.c_int32)]


class KwsTile(ctypes.Structure):
    _fields_ = [("w", ctypes.c_int32), ("h", ctypes.c_int32)]


class KwsActivation(ctypes.Structure):
    _fields_ = [("min", ctypes.c_int32), ("max", ctypes.c_int32)]


class KwsContext(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_void_p), ("size", ctypes.c_int32)]


class KwsConvParams(ctypes.Structure):
    _fields_ = [
        ("input_offset", ctypes.c_int32),
        ("output_offset", ctypes.c_int32),
        ("stride", KwsTile),
        ("padding", KwsTile),
        ("dilation", KwsTile),
        ("activation", KwsActivation),
    ]


class KwsDwConvParams(ctypes.Structure):
    _fields_ = [
        ("input_offset", ctypes.c_int32),
        ("output_offset", ctypes.c_int32),
        ("ch_mult", ctypes.c_int32),
        ("stride", KwsTile),
        ("padding", KwsTile),
        ("dilation", KwsTile),
        ("activation", KwsActivation),
    ]


class KwsFcParams(ctypes.Structure):
    _fields_ = [
        ("input_offset", ctypes.c_int32),
        ("filter_offset", ctypes.c_int32),
        ("output_offset", ctypes.c_int32),
        ("activation", KwsActivation),
    ]


class KwsPoolParams(ctypes.Structure):
    _fields_ = [("stride", KwsTile), ("padding", KwsTile), ("activation", KwsActivation)]


class KwsPerChannelQuant(ctypes.Structure):
    _fields_ = [("multiplier", ctypes.POINTER(ctypes.c_int32)), ("shift", ctypes.POINTER(ctypes.c_int32))]


class KwsPerTensorQuant(ctypes.Structure):
    _fields_ = [("multiplier", ctypes.c_int32), ("shift", ctypes.c_int32)]


class KwsSoftmaxParams(ctypes.Structure):
    _fields_ = [("input_multiplier", ctypes.c_int32), ("input_left_shift", ctypes.c_int32), ("diff_min", ctypes.c_int32)]


class KwsAddParams(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in (
        "input1_offset", "input2_offset", "output_offset", "left_shift", "input1_multiplier", "input1_shift",
        "input2_multiplier", "input2_shift", "output_multiplier", "output_shift")] + [("activation", KwsActivation)]


class KwsMulParams(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in (
        "input1_offset", "input2_offset", "output_offset", "output_multiplier", "output_shift")] + [("activation", KwsActivation)]


class KwsSigmoidParams(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in ("input_zero_point", "input_range_radius", "input_multiplier", "input_left_shift")]


def build_shared_library(defines: tuple[str, ...] = ()) -> Path:
    """Compiles every kernel source into one shared library and returns its path (cached)."""
    if shutil.which("gcc") is None:
        raise RuntimeError("gcc is needed to build the kernels for the host")
    sources = sorted(KERNEL_DIR.glob("*.c"))
    digest = hashlib.sha256(" ".join(CFLAGS + defines).encode())
    for path in sorted(KERNEL_DIR.glob("*.[ch]")):
        digest.update(path.name.encode() + path.read_bytes())
    out = Path(tempfile.gettempdir()) / f"kws_kernels_{digest.hexdigest()[:16]}" / "libkws_kernels.so"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f"{out.name}.{os.getpid()}.tmp")
        result = subprocess.run(
            ["gcc", *CFLAGS, *[f"-D{d}" for d in defines], f"-I{KERNEL_DIR}", *map(str, sources), "-o", str(partial), "-lm"],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"building the kernels with {defines or 'no defines'} failed:\n{result.stderr}")
        os.replace(partial, out)  # atomic: a concurrent session never loads half a library
    return out


def _i32(array: np.ndarray) -> ctypes.Array:
    array = np.ascontiguousarray(array, dtype=np.int32)
    return (ctypes.c_int32 * max(array.size, 1))(*array.ravel().tolist())


def _ptr(array: np.ndarray, ctype) -> ctypes.POINTER:
    return array.ctypes.data_as(ctypes.POINTER(ctype))


def _dims(shape) -> KwsDims:
    shape = list(shape)
    return KwsDims(*([1] * (4 - len(shape)) + shape))


class KernelLib:
    """numpy-facing wrappers around the kernels; ``variant`` picks ``ref`` or ``opt`` kernels."""

    def __init__(self, path: Path):
        self.path = path
        self.lib = ctypes.CDLL(str(path))
        self.lib.kws_quantize_multiplier.argtypes = [ctypes.c_double, ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_int32)]
        self.lib.kws_softmax_s8_params.argtypes = [ctypes.c_double, ctypes.c_double, ctypes.POINTER(KwsSoftmaxParams)]
        self.lib.kws_requantize_s64.argtypes = [ctypes.c_int64, ctypes.c_int32, ctypes.c_int32]
        self.lib.kws_requantize_s64.restype = ctypes.c_int32
        for name in ("kws_add_s8_params", "kws_mul_s8_params"):
            getattr(self.lib, name).argtypes = [ctypes.c_double, ctypes.c_int32, ctypes.c_double, ctypes.c_int32,
                                                ctypes.c_double, ctypes.c_int32, KwsActivation, ctypes.c_void_p]
        for name in ("kws_logistic_s8_params", "kws_tanh_s8_params"):
            getattr(self.lib, name).argtypes = [ctypes.c_double, ctypes.c_int32, ctypes.c_void_p]

    # ------------------------------------------------------------------ helpers
    def quantize_multiplier(self, scale: float) -> tuple[int, int]:
        multiplier, shift = ctypes.c_int32(), ctypes.c_int32()
        self.lib.kws_quantize_multiplier(float(scale), ctypes.byref(multiplier), ctypes.byref(shift))
        return multiplier.value, shift.value

    def quantize_multipliers(self, scales) -> tuple[np.ndarray, np.ndarray]:
        pairs = [self.quantize_multiplier(s) for s in np.atleast_1d(scales)]
        return np.array([p[0] for p in pairs], np.int32), np.array([p[1] for p in pairs], np.int32)

    def _context(self, size: int) -> tuple[KwsContext, object]:
        if size <= 0:
            return KwsContext(None, 0), None
        buf = (ctypes.c_int32 * ((size + 3) // 4))()
        return KwsContext(ctypes.cast(buf, ctypes.c_void_p), size), buf

    def _call(self, name: str, *args) -> None:
        status = getattr(self.lib, name)(*args)
        if status != 0:
            raise ValueError(f"{name} returned status {status}")

    # ------------------------------------------------------------------ kernels
    def conv(self, x, w, bias, mult, shift, *, input_offset, output_offset, stride, padding, dilation, act, out_hw, variant="ref"):
        """x [N,H,W,C] int8, w [OC,KH,KW,C] int8 -> [N, out_h, out_w, OC] int8."""
        x = np.ascontiguousarray(x, np.int8)
        w = np.ascontiguousarray(w, np.int8)
        out = np.zeros((x.shape[0], out_hw[0], out_hw[1], w.shape[0]), np.int8)
        in_dims, f_dims, o_dims = _dims(x.shape), _dims(w.shape), _dims(out.shape)
        suffix = "_opt" if variant == "opt" else ""
        size_fn = getattr(self.lib, f"kws_convolve_s8{suffix}_get_buffer_size")
        ctx, _keep = self._context(size_fn(ctypes.byref(in_dims), ctypes.byref(f_dims)))
        params = KwsConvParams(input_offset, output_offset, KwsTile(stride[1], stride[0]), KwsTile(padding[1], padding[0]),
                               KwsTile(dilation[1], dilation[0]), KwsActivation(*act))
        m, s = _i32(mult), _i32(shift)
        quant = KwsPerChannelQuant(m, s)
        b = None if bias is None else _i32(bias)
        self._call(f"kws_convolve_s8{suffix}", ctypes.byref(ctx), ctypes.byref(params), ctypes.byref(quant), ctypes.byref(in_dims),
                   _ptr(x, ctypes.c_int8), ctypes.byref(f_dims), _ptr(w, ctypes.c_int8), b, ctypes.byref(o_dims), _ptr(out, ctypes.c_int8))
        return out

    def depthwise_conv(self, x, w, bias, mult, shift, *, ch_mult, input_offset, output_offset, stride, padding, dilation, act, out_hw, variant="ref"):
        """x [N,H,W,C] int8, w [1,KH,KW,C*ch_mult] int8 -> [N, out_h, out_w, C*ch_mult] int8."""
        x = np.ascontiguousarray(x, np.int8)
        w = np.ascontiguousarray(w, np.int8)
        out = np.zeros((x.shape[0], out_hw[0], out_hw[1], w.shape[-1]), np.int8)
        in_dims, f_dims, o_dims = _dims(x.shape), _dims(w.shape), _dims(out.shape)
        suffix = "_opt" if variant == "opt" else ""
        size_fn = getattr(self.lib, f"kws_depthwise_conv_s8{suffix}_get_buffer_size")
        ctx, _keep = self._context(size_fn(ctypes.byref(in_dims), ctypes.byref(f_dims)))
        params = KwsDwConvParams(input_offset, output_offset, ch_mult, KwsTile(stride[1], stride[0]), KwsTile(padding[1], padding[0]),
                                 KwsTile(dilation[1], dilation[0]), KwsActivation(*act))
        m, s = _i32(mult), _i32(shift)
        quant = KwsPerChannelQuant(m, s)
        b = None if bias is None else _i32(bias)
        self._call(f"kws_depthwise_conv_s8{suffix}", ctypes.byref(ctx), ctypes.byref(params), ctypes.byref(quant), ctypes.byref(in_dims),
                   _ptr(x, ctypes.c_int8), ctypes.byref(f_dims), _ptr(w, ctypes.c_int8), b, ctypes.byref(o_dims), _ptr(out, ctypes.c_int8))
        return out

    def fully_connected(self, x, w, bias, mult, shift, *, input_offset, output_offset, act, variant="ref"):
        """x [N, DEPTH] int8, w [UNITS, DEPTH] int8; scalar mult/shift = per tensor, arrays = per channel."""
        x = np.ascontiguousarray(x, np.int8)
        w = np.ascontiguousarray(w, np.int8)
        out = np.zeros((x.shape[0], w.shape[0]), np.int8)
        in_dims = KwsDims(x.shape[0], 1, 1, x.shape[1])
        f_dims = KwsDims(w.shape[0], 1, 1, w.shape[1])
        o_dims = KwsDims(x.shape[0], 1, 1, w.shape[0])
        params = KwsFcParams(input_offset, 0, output_offset, KwsActivation(*act))
        b = None if bias is None else _i32(bias)
        if np.ndim(mult) == 0:
            suffix = "_opt" if variant == "opt" else ""
            ctx, _keep = self._context(getattr(self.lib, f"kws_fully_connected_s8{suffix}_get_buffer_size")(ctypes.byref(f_dims)))
            quant = KwsPerTensorQuant(int(mult), int(shift))
            name = f"kws_fully_connected_s8{suffix}"
        else:
            ctx, _keep = self._context(self.lib.kws_fully_connected_s8_get_buffer_size(ctypes.byref(f_dims)))
            m, s = _i32(mult), _i32(shift)
            quant = KwsPerChannelQuant(m, s)
            name = "kws_fully_connected_per_channel_s8"
        self._call(name, ctypes.byref(ctx), ctypes.byref(params), ctypes.byref(quant), ctypes.byref(in_dims), _ptr(x, ctypes.c_int8),
                   ctypes.byref(f_dims), _ptr(w, ctypes.c_int8), b, ctypes.byref(o_dims), _ptr(out, ctypes.c_int8))
        return out

    def avgpool(self, x, *, window, stride, padding, act, out_hw):
        """x [N,H,W,C] int8 -> [N, out_h, out_w, C] int8."""
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros((x.shape[0], out_hw[0], out_hw[1], x.shape[3]), np.int8)
        in_dims, o_dims = _dims(x.shape), _dims(out.shape)
        f_dims = KwsDims(1, window[0], window[1], 1)
        params = KwsPoolParams(KwsTile(stride[1], stride[0]), KwsTile(padding[1], padding[0]), KwsActivation(*act))
        ctx, _keep = self._context(self.lib.kws_avgpool_s8_get_buffer_size(ctypes.byref(o_dims)))
        self._call("kws_avgpool_s8", ctypes.byref(ctx), ctypes.byref(params), ctypes.byref(in_dims), _ptr(x, ctypes.c_int8),
                   ctypes.byref(f_dims), ctypes.byref(o_dims), _ptr(out, ctypes.c_int8))
        return out

    def softmax_params(self, beta: float, input_scale: float) -> KwsSoftmaxParams:
        params = KwsSoftmaxParams()
        self.lib.kws_softmax_s8_params(float(beta), float(input_scale), ctypes.byref(params))
        return params

    def softmax(self, x, params: KwsSoftmaxParams):
        """Softmax over the last axis of an int8 array."""
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros_like(x)
        rows = x.size // x.shape[-1]
        self.lib.kws_softmax_s8(_ptr(x, ctypes.c_int8), rows, x.shape[-1], ctypes.byref(params), _ptr(out, ctypes.c_int8))
        return out

    def reshape(self, x, shape):
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros(shape, np.int8)
        self.lib.kws_reshape_s8(_ptr(x, ctypes.c_int8), _ptr(out, ctypes.c_int8), x.size)
        return out

    def elementwise(self, op: str, x1, x2, *, scales, zero_points, act):
        """op in {add, sub, mul}; scales/zero_points = (input1, input2, output); suffix broadcasting."""
        x1 = np.ascontiguousarray(x1, np.int8)
        x2 = np.ascontiguousarray(x2, np.int8)
        size = max(x1.size, x2.size)
        out = np.zeros(size, np.int8)
        params = KwsMulParams() if op == "mul" else KwsAddParams()
        (s1, s2, so), (z1, z2, zo) = scales, zero_points
        getattr(self.lib, "kws_mul_s8_params" if op == "mul" else "kws_add_s8_params")(
            float(s1), int(z1), float(s2), int(z2), float(so), int(zo), KwsActivation(*act), ctypes.byref(params))
        self._call(f"kws_{op}_s8", _ptr(x1, ctypes.c_int8), x1.size, _ptr(x2, ctypes.c_int8), x2.size, ctypes.byref(params),
                   size, _ptr(out, ctypes.c_int8))
        return out

    def sigmoid_like(self, op: str, x, *, input_scale, input_zero_point):
        """op in {logistic, tanh}."""
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros_like(x)
        params = KwsSigmoidParams()
        getattr(self.lib, f"kws_{op}_s8_params")(float(input_scale), int(input_zero_point), ctypes.byref(params))
        getattr(self.lib, f"kws_{op}_s8")(_ptr(x, ctypes.c_int8), ctypes.byref(params), x.size, _ptr(out, ctypes.c_int8))
        return out

    def pad(self, x, before, after, value):
        """x [N,H,W,C]; before/after: 4 pads each."""
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros([d + b + a for d, b, a in zip(x.shape, before, after)], np.int8)
        self.lib.kws_pad_s8(_ptr(x, ctypes.c_int8), ctypes.byref(_dims(x.shape)), ctypes.byref(KwsDims(*before)),
                            ctypes.byref(KwsDims(*after)), ctypes.c_int8(int(value)), _ptr(out, ctypes.c_int8))
        return out

    def unpack(self, x, axis: int) -> list[np.ndarray]:
        x = np.ascontiguousarray(x, np.int8)
        outer, count = int(np.prod(x.shape[:axis])), x.shape[axis]
        inner = int(np.prod(x.shape[axis + 1:]))
        outs = [np.zeros(x.shape[:axis] + x.shape[axis + 1:], np.int8) for _ in range(count)]
        pointers = (ctypes.POINTER(ctypes.c_int8) * count)(*[_ptr(o, ctypes.c_int8) for o in outs])
        self.lib.kws_unpack_s8(_ptr(x, ctypes.c_int8), outer, count, inner, pointers)
        return outs

    def pack(self, xs: list[np.ndarray], axis: int) -> np.ndarray:
        xs = [np.ascontiguousarray(x, np.int8) for x in xs]
        shape = xs[0].shape
        outer, inner = int(np.prod(shape[:axis])), int(np.prod(shape[axis:]))
        out = np.zeros(shape[:axis] + (len(xs),) + shape[axis:], np.int8)
        pointers = (ctypes.POINTER(ctypes.c_int8) * len(xs))(*[_ptr(x, ctypes.c_int8) for x in xs])
        self.lib.kws_pack_s8(pointers, outer, len(xs), inner, _ptr(out, ctypes.c_int8))
        return out
