"""The latency model's features: per layer kind, the work the firmware's kernels do by the layer's
shape (`nas.cost.latency` fits one coefficient per feature)."""
from __future__ import annotations

from typing import Callable

from nas.cost.layers import Layer


def _pad_before(size_in: int, size_out: int, kernel: int, stride: int) -> int:
    """Padding before the first window: TensorFlow's SAME when the output has SAME's size, else 0."""
    from nas.cost.layers import conv_output_size, same_padding

    if size_out != conv_output_size(size_in, kernel, stride, "same"):
        return 0
    return same_padding(size_in, kernel, stride)[0]


def _border_rows(layer: Layer) -> int:
    """Kernel rows (output position × kernel row) not wholly inside the input: the gather walks them
    tap by tap, checking each against the border."""
    t_in, f_in, _ = layer.input_shape
    t, f, _ = layer.output_shape
    (k_t, k_f), (s_t, s_f) = layer.kernel, layer.stride
    pad_t, pad_f = _pad_before(t_in, t, k_t, s_t), _pad_before(f_in, f, k_f, s_f)
    inside_cols = sum(0 <= x * s_f - pad_f and x * s_f - pad_f + k_f <= f_in for x in range(f))
    inside_rows = sum(0 <= y * s_t - pad_t + ky < t_in for y in range(t) for ky in range(k_t))
    return t * f * k_t - inside_rows * inside_cols


def _conv_features(layer: Layer) -> dict[str, float]:
    """The firmware's convolution (kws_convolve_s8_opt), loop by loop. Output positions run in
    pairs (an odd last one builds its column twice and computes a whole pair); each position's
    column of ``taps`` inputs is read in place for 1×1, widened row by row when a kernel row is
    whole words (from a zero-framed copy for a 1-channel input), gathered byte by byte otherwise
    (border rows tap by tap), then widened four taps at a time (the rest one by one). Each pair of
    positions × pair of output channels is one block: in assembly when taps are a multiple of 8,
    else in C around the same four-tap loop (groups in twos, an odd group and the last taps % 4
    apart; an odd last position then goes block by block through the generic path); an odd last
    channel runs alone in C."""
    t, f, c_out = layer.output_shape
    t_in, f_in, c_in = layer.input_shape
    k_t, k_f = layer.kernel
    positions = t * f
    pairs = (positions + 1) // 2
    built = 2 * pairs  # columns built: an odd last position's twice
    taps = k_t * k_f * c_in
    pointwise, by_rows = k_t == k_f == 1, (k_f * c_in) % 4 == 0
    gathered = not by_rows and not pointwise
    framed = by_rows and c_in == 1 and not pointwise
    rows_path = by_rows and not pointwise and not framed
    in_c = not taps % 8 == 0  # the channel pairs in C, not assembly
    blocks = pairs * (c_out // 2)
    border_rows = _border_rows(layer) if not pointwise else 0
    return {"calls": 1, "channels": c_out, "inputs": layer.input_elems,
            "frame": (t_in + 2 * (k_t - 1)) * (f_in + 2 * (k_f - 1)) if framed else 0,
            # building the columns
            "columns": built,
            "columns_in_place": built * taps if pointwise else 0,
            "columns_framed": built * taps if framed else 0,
            "columns_by_rows": built * taps if rows_path else 0,
            "columns_gathered": built * taps if gathered else 0,
            "kernel_rows_by_rows": built * k_t if rows_path else 0,
            "kernel_rows_gathered": built * k_t if gathered else 0,
            "border_taps": border_rows * k_f if gathered else 0,
            "border_bytes": border_rows * k_f * c_in if gathered and c_in % 4 else 0,
            "columns_tail": built * (taps % 4) if gathered or pointwise else 0,
            # the blocks of 2 positions x 2 channels, and an odd last channel
            "macs": built * (c_out // 2 * 2) * taps, "blocks": blocks,
            "blocks_c": blocks if in_c else 0,
            "odd_group": blocks * ((taps >> 2) & 1) if in_c else 0,
            "taps_tail": blocks * (taps % 4),
            "odd_position_blocks": (positions % 2) * (c_out // 2) if in_c else 0,
            "macs_odd_channel": built * taps * (c_out % 2), "odd_channel": pairs * (c_out % 2)}


def _plane_width(width: int, k_f: int) -> int:
    """A depthwise plane's row: the window's overhang on both sides, rounded up to even."""
    return (width + k_f + 1) & ~1


def _pairs_stride(width: int) -> int:
    """The 3×3 path's plane stride: the next of 16, 32, 64, 128 (kws_depthwise_conv_s8_opt.c)."""
    return next((stride for stride in (16, 32, 64, 128) if width <= stride), width)


def _depthwise_features(layer: Layer) -> dict[str, float]:
    """kws_depthwise_conv_s8_opt, loop by loop: per channel its requantisation constants; zeroed
    int16 planes, filled four channels at a time two input columns a pass, row by row (a last group
    of < 4 channels element by element); then per group either the 3×3 stride-1 assembly (output
    pairs two a loop pass along each plane row, an odd last column apart; its per-channel and
    per-row set-up fold into those) or per channel in C: its weights in pairs along a row (an odd row width gets a zero
    weight), per output and kernel row a loop over the weight pairs."""
    t_in, f_in, _ = layer.input_shape
    t, f, c = layer.output_shape
    k_t, k_f = layer.kernel
    fast = (k_t, k_f) == (3, 3) and tuple(layer.stride) == (1, 1)
    transposed = fast and t_in > f_in
    out_rows, out_cols = (f, t) if transposed else (t, f)
    plane_rows, plane_cols = (f_in, t_in) if transposed else (t_in, f_in)  # the planes' view of the input
    if fast:
        plane = (plane_rows + 2) * _pairs_stride(_plane_width(plane_cols, 3))
    else:
        plane = (t_in + k_t - 1) * _plane_width(f_in, k_f)
    row = k_f + k_f % 2
    groups, tail = c // 4, c % 4
    pairs = out_cols // 2
    features = {"calls": 1, "channels": c, "planes": plane, "groups": groups + (tail > 0),
                "group_rows": groups * plane_rows, "group_pixel_pairs": groups * plane_rows * (plane_cols // 2),
                "group_odd_cols": groups * plane_rows * (plane_cols % 2),
                "tail_rows": plane_rows if tail else 0}
    if fast:
        return {**features, "pair_passes_3x3": out_rows * c * ((pairs + 1) // 2),
                "odd_columns_3x3": out_rows * c * (out_cols % 2)}
    outputs = t * f * c
    return {**features, "channel_weights": c * k_t * row, "rows": out_rows * c, "outputs": outputs,
            "kernel_rows": outputs * k_t, "weight_pairs": outputs * k_t * row // 2}


def _fc_work(rows: int, depth: int, units: int) -> dict[str, float]:
    """kws_fully_connected_s8_opt on ``rows`` input rows: units in blocks of four (the rest one by
    one), depth in fours (the rest one by one), each row widened to int16 once."""
    return {"macs_blocked": rows * (units // 4 * 4) * depth, "macs_single": rows * (units % 4) * depth,
            "depth_tail": rows * units * (depth % 4), "outputs": rows * units, "single_units": rows * (units % 4),
            "inputs": rows * depth, "rows": rows, "inputs_tail": rows * (depth % 4)}


def _add_up(*parts: dict[str, float]) -> dict[str, float]:
    total: dict[str, float] = {}
    for part in parts:
        for name, value in part.items():
            total[name] = total.get(name, 0.0) + value
    return total


def _dense_features(layer: Layer) -> dict[str, float]:
    return {"calls": 1, **_fc_work(1, layer.input_elems, layer.output_elems)}


def _recurrent_features(layer: Layer) -> dict[str, float]:
    """An unrolled cell (nas.export.tf_graph): per gate one input projection over all steps and one
    recurrent FULLY_CONNECTED per step (``cells`` units), an LSTM's projection per step, then
    LOGISTIC / TANH / MUL / ADD per step."""
    from nas.cost.layers import GATE_BYTES

    steps, n_in = layer.input_shape
    n_out = layer.output_shape[-1]
    gates = 4 if layer.kind == "lstm" else 3
    cells = layer.scratch_bytes // (GATE_BYTES * gates)
    projected = layer.kind == "lstm" and layer.quant_channels > gates * cells
    peepholes = layer.weights - gates * cells * (n_in + n_out) - (cells * n_out if projected else 0) > 0
    fc = [_fc_work(steps, n_in, cells)] * gates + [_fc_work(steps - 1, n_out, cells)] * gates
    if projected:
        fc.append(_fc_work(steps, cells, n_out))
    features = {"calls": 1, "steps": steps, "step_cells": steps * cells, **_add_up(*fc)}
    if layer.kind == "lstm":
        features["step_peepholes"] = steps * cells if peepholes else 0
    return features


def _elementwise_features(layer: Layer) -> dict[str, float]:
    return {"calls": 1, "inputs": layer.input_elems, "outputs": layer.output_elems}


def _pool_features(layer: Layer) -> dict[str, float]:
    """kws_avgpool_s8 over the whole map: per output channel, one inner loop per input row."""
    return {**_elementwise_features(layer), "window_rows": layer.output_elems * layer.input_shape[0]}


# one term per layer kind of nas.cost.layers; "network" is the per-inference rest (softmax, reshapes)
FEATURES: dict[str, Callable[[Layer], dict[str, float]]] = {
    "conv2d": _conv_features,
    "depthwise_conv2d": _depthwise_features,
    "dense": _dense_features,
    "lstm": _recurrent_features,
    "gru": _recurrent_features,
    "avg_pool": _pool_features,
    "add": _elementwise_features,
}
