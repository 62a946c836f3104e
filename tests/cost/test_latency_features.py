"""The latency model's features follow the firmware kernels' loops (firmware/src/kernels): which path
a layer takes by its shape, and how often each loop runs."""
from __future__ import annotations

from nas.cost import layers as L
from nas.cost.latency_features import FEATURES


def conv(input_shape, filters, kernel, stride=(1, 1), padding="same"):
    return FEATURES["conv2d"](L.conv2d("c", input_shape, filters, kernel, stride, padding, batch_norm=True))


def depthwise(input_shape, kernel, stride=(1, 1)):
    return FEATURES["depthwise_conv2d"](L.depthwise_conv2d("d", input_shape, kernel, stride, batch_norm=True))


def test_a_convolution_takes_the_column_path_its_kernel_row_allows():
    assert conv((25, 5, 8), 16, (1, 1))["columns_in_place"] == (25 * 5 + 1) * 8  # 1x1: 126 columns read in place
    assert conv((25, 5, 8), 16, (3, 2))["columns_by_rows"] > 0  # rows of 2 x 8 bytes: whole words
    assert conv((49, 10, 1), 16, (10, 4))["columns_framed"] > 0  # 1 channel, rows of 4: from the frame
    gathered = conv((49, 10, 1), 16, (10, 3))  # rows of 3 bytes: gathered byte by byte
    assert gathered["columns_gathered"] > 0 and gathered["border_taps"] > 0
    assert gathered["columns_framed"] == gathered["columns_by_rows"] == gathered["columns_in_place"] == 0


def test_an_odd_last_position_builds_its_column_twice_and_computes_a_whole_pair():
    odd, even = conv((5, 1, 12), 4, (1, 1), padding="valid"), conv((6, 1, 12), 4, (1, 1), padding="valid")
    assert odd["columns"] == even["columns"] == 6
    assert odd["macs"] == even["macs"] == 6 * 4 * 12
    assert odd["odd_position_blocks"] == 2 and even["odd_position_blocks"] == 0


def test_channel_pairs_run_in_assembly_only_when_taps_are_a_multiple_of_8():
    assert conv((25, 5, 16), 8, (1, 1))["blocks_c"] == 0
    in_c = conv((25, 5, 12), 8, (1, 1))  # 12 taps: groups of 4 in C, one odd group
    assert in_c["blocks_c"] == in_c["blocks"] > 0 and in_c["odd_group"] == in_c["blocks"]
    assert conv((25, 5, 10), 8, (1, 1))["taps_tail"] == 2 * in_c["blocks"]  # 10 taps: 2 one by one


def test_an_odd_last_output_channel_runs_alone():
    odd = conv((4, 1, 8), 5, (1, 1))
    assert odd["blocks"] == 2 * 2 and odd["odd_channel"] == 2 and odd["macs_odd_channel"] == 4 * 8


def test_the_3x3_stride_1_depthwise_walks_output_pairs_along_the_long_side():
    tall = depthwise((25, 5, 64), (3, 3))
    assert "weight_pairs" not in tall  # the assembly, not the C loop
    # transposed: 5 plane rows of 25 outputs = 12 pairs, two a pass, and an odd column
    assert tall["pair_passes_3x3"] == 5 * 64 * 6 and tall["odd_columns_3x3"] == 5 * 64


def test_other_depthwise_kernels_pair_their_weights_along_a_row():
    odd_width = depthwise((25, 5, 8), (2, 3))  # rows of 3 weights padded to 4
    assert odd_width["weight_pairs"] == 25 * 5 * 8 * 2 * 2 and odd_width["kernel_rows"] == 25 * 5 * 8 * 2
    assert depthwise((25, 5, 8), (2, 4))["weight_pairs"] == odd_width["weight_pairs"]


def test_a_last_group_of_fewer_than_four_channels_is_widened_apart():
    assert depthwise((10, 4, 8), (2, 2))["tail_rows"] == 0
    ragged = depthwise((10, 4, 9), (2, 2))
    assert ragged["tail_rows"] == 10 and ragged["groups"] == 3 and ragged["group_rows"] == 2 * 10
