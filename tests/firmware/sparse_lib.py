"""ctypes wrappers of the sparse kernels (firmware/src/kernels/kws_sparse_s8.h) in the host kernel library."""

from __future__ import annotations

import ctypes

import numpy as np

from nas.firmware.sparse_format import FORMAT_CODE, SparseFilter

from .kernel_lib import (
    KernelLib,
    KwsActivation,
    KwsConvParams,
    KwsDims,
    KwsFcParams,
    KwsPerChannelQuant,
    KwsPerTensorQuant,
    KwsTile,
    _dims,
    _i32,
    _ptr,
)

ORDERS = {"input_stationary": 0, "weight_prioritised": 1}


class KwsSparseFilter(ctypes.Structure):
    _fields_ = [
        ("format", ctypes.c_int32),
        ("n", ctypes.c_int32),
        ("m", ctypes.c_int32),
        ("row_units", ctypes.c_void_p),
        ("index", ctypes.c_void_p),
        ("offsets", ctypes.c_void_p),
        ("values", ctypes.c_void_p),
    ]


def sparse_struct(f: SparseFilter, format_code: int | None = None, n: int | None = None) -> tuple[KwsSparseFilter, list]:
    """The C struct of a packed filter and the arrays it points into (keep them alive while it is used)."""
    arrays = [np.ascontiguousarray(a) for a in (f.row_units, f.index, f.offsets, f.values)]
    pointers = [a.ctypes.data if a.size else None for a in arrays]
    code = FORMAT_CODE[f.format] if format_code is None else format_code
    return KwsSparseFilter(code, f.n if n is None else n, f.m, *pointers), arrays


class SparseKernels:
    """conv / fully_connected on sparse filters, with the arguments of KernelLib's dense wrappers."""

    def __init__(self, kernels: KernelLib):
        self.kernels = kernels
        self.lib = kernels.lib

    def conv(self, x, f: SparseFilter, filter_shape, bias, mult, shift, *, input_offset, output_offset, stride,
             padding, dilation, act, out_hw, order="input_stationary", scratch_bytes=None, format_code=None, n=None):
        """x [N,H,W,C]; filter_shape [OC,KH,KW,C] of the dense filter; raises ValueError on a kernel error."""
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros((x.shape[0], out_hw[0], out_hw[1], filter_shape[0]), np.int8)
        in_dims, f_dims, o_dims = _dims(x.shape), _dims(filter_shape), _dims(out.shape)
        sf, _keep = sparse_struct(f, format_code, n)
        size = self.lib.kws_convolve_sparse_s8_get_buffer_size(ctypes.byref(in_dims), ctypes.byref(f_dims),
                                                               ctypes.byref(o_dims), ctypes.byref(sf), ORDERS[order])
        ctx, _buf = self.kernels._context(size if scratch_bytes is None else scratch_bytes)
        params = KwsConvParams(input_offset, output_offset, KwsTile(stride[1], stride[0]), KwsTile(padding[1], padding[0]),
                               KwsTile(dilation[1], dilation[0]), KwsActivation(*act))
        m, s = _i32(mult), _i32(shift)
        quant = KwsPerChannelQuant(m, s)
        b = None if bias is None else _i32(bias)
        self.kernels._call("kws_convolve_sparse_s8", ctypes.byref(ctx), ctypes.byref(params), ctypes.byref(quant),
                           ctypes.byref(in_dims), _ptr(x, ctypes.c_int8), ctypes.byref(f_dims), ctypes.byref(sf), b,
                           ctypes.byref(o_dims), _ptr(out, ctypes.c_int8), ORDERS[order])
        return out

    def fully_connected(self, x, f: SparseFilter, bias, mult: int, shift: int, *, input_offset, output_offset, act,
                        order="input_stationary", filter_offset=0):
        """x [N, DEPTH]; one multiplier and shift (per tensor)."""
        x = np.ascontiguousarray(x, np.int8)
        out = np.zeros((x.shape[0], f.rows), np.int8)
        in_dims = KwsDims(x.shape[0], 1, 1, x.shape[1])
        f_dims = KwsDims(f.rows, 1, 1, f.taps)
        o_dims = KwsDims(x.shape[0], 1, 1, f.rows)
        sf, _keep = sparse_struct(f)
        size = self.lib.kws_fully_connected_sparse_s8_get_buffer_size(ctypes.byref(in_dims), ctypes.byref(f_dims),
                                                                      ctypes.byref(sf), ORDERS[order])
        ctx, _buf = self.kernels._context(size)
        params = KwsFcParams(input_offset, filter_offset, output_offset, KwsActivation(*act))
        quant = KwsPerTensorQuant(int(mult), int(shift))
        b = None if bias is None else _i32(bias)
        self.kernels._call("kws_fully_connected_sparse_s8", ctypes.byref(ctx), ctypes.byref(params), ctypes.byref(quant),
                           ctypes.byref(in_dims), _ptr(x, ctypes.c_int8), ctypes.byref(f_dims), ctypes.byref(sf), b,
                           ctypes.byref(o_dims), _ptr(out, ctypes.c_int8), ORDERS[order])
        return out

