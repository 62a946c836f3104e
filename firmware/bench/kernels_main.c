/*
 * Kernel benchmark for the emulated boards: runs Hello-Edge-sized layers through the reference and
 * the DSP-optimised kernels and prints one line per run,
 *   bench,<layer>,<variant>,<macs>,<instructions>,<checksum>
 * then "bench-done". Under QEMU -icount shift=0 the port's timer counts instructions (40 per tick).
 * benchmarks/bench_kernels.py builds this with the runtime's port files and parses the lines.
 */
#include <stdint.h>
#include <string.h>

#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"
#include "port.h"
#include "bench_print.h"

#define MAX_INPUT (49 * 10 * 64)
#define MAX_WEIGHTS (40 * 1024)
#define MAX_CHANNELS 512
#define MAX_OUTPUT (25 * 5 * 64)
#define SCRATCH_BYTES (64 * 1024)

static int8_t input[MAX_INPUT];
static int8_t weights[MAX_WEIGHTS];
static int32_t bias[MAX_CHANNELS];
static int32_t multiplier[MAX_CHANNELS];
static int32_t shift[MAX_CHANNELS];
static int8_t output[MAX_OUTPUT];
static uint32_t scratch[SCRATCH_BYTES / 4];

static uint32_t lcg_state = 12345u;
static int8_t random_s8(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (int8_t)(lcg_state >> 24);
}

static void fill(int32_t in_size, int32_t weight_size, int32_t channels)
{
    for (int32_t i = 0; i < in_size; ++i) {
        input[i] = random_s8();
    }
    for (int32_t i = 0; i < weight_size; ++i) {
        weights[i] = random_s8();
    }
    for (int32_t c = 0; c < channels; ++c) {
        bias[c] = random_s8() * 64;
        kws_quantize_multiplier(0.0005 + 0.0001 * (c % 7), &multiplier[c], &shift[c]);
    }
}

static void report(const char *layer, const char *variant, uint32_t macs, uint64_t ticks, int32_t out_size)
{
    uint32_t checksum = 0;
    for (int32_t i = 0; i < out_size; ++i) {
        checksum = checksum * 31u + (uint8_t)output[i];
    }
    print("bench,");
    print(layer);
    print(",");
    print(variant);
    print(",");
    print_u32(macs);
    print(",");
    print_u32((uint32_t)port_ticks_to_stage_units(ticks));
    print(",");
    print_u32(checksum);
    print("\r\n");
}

typedef struct {
    const char *name;
    kws_nn_dims in, filter, out;
    int32_t stride_h, stride_w, pad_h, pad_w;
} conv_layer;

static void bench_conv(const conv_layer *l, int depthwise)
{
    const int32_t in_size = l->in.h * l->in.w * l->in.c;
    const int32_t out_size = l->out.h * l->out.w * l->out.c;
    const int32_t weight_size = l->filter.n * l->filter.h * l->filter.w * l->filter.c;
    const uint32_t macs = (uint32_t)(l->out.h * l->out.w * l->out.c * l->filter.h * l->filter.w *
                                     (depthwise ? 1 : l->filter.c));
    fill(in_size, weight_size, l->out.c);
    kws_nn_per_channel_quant_params quant = {multiplier, shift};
    kws_nn_context ctx = {scratch, SCRATCH_BYTES};
    for (int opt = 0; opt < 2; ++opt) {
        memset(output, 0, sizeof output);
        const uint64_t start = port_ticks();
        if (depthwise) {
            kws_nn_dw_conv_params p = {7, -128, 1, {l->stride_w, l->stride_h}, {l->pad_w, l->pad_h}, {1, 1}, {-128, 127}};
            (opt ? kws_depthwise_conv_s8_opt : kws_depthwise_conv_s8)(&ctx, &p, &quant, &l->in, input, &l->filter,
                                                                      weights, bias, &l->out, output);
        } else {
            kws_nn_conv_params p = {7, -128, {l->stride_w, l->stride_h}, {l->pad_w, l->pad_h}, {1, 1}, {-128, 127}};
            (opt ? kws_convolve_s8_opt : kws_convolve_s8)(&ctx, &p, &quant, &l->in, input, &l->filter, weights, bias,
                                                          &l->out, output);
        }
        report(l->name, opt ? "opt" : "ref", macs, port_ticks() - start, out_size);
    }
}

static void bench_fc(const char *name, int32_t depth, int32_t units)
{
    fill(depth, depth * units, units);
    kws_nn_dims in = {1, 1, 1, depth}, filter = {units, 1, 1, depth}, out = {1, 1, 1, units};
    kws_nn_fc_params p = {7, 0, -128, {-128, 127}};
    kws_nn_per_tensor_quant_params quant = {multiplier[0], shift[0]};
    kws_nn_context ctx = {scratch, SCRATCH_BYTES};
    for (int opt = 0; opt < 2; ++opt) {
        memset(output, 0, sizeof output);
        const uint64_t start = port_ticks();
        (opt ? kws_fully_connected_s8_opt : kws_fully_connected_s8)(&ctx, &p, &quant, &in, input, &filter, weights,
                                                                    bias, &out, output);
        report(name, opt ? "opt" : "ref", (uint32_t)(depth * units), port_ticks() - start, units);
    }
}

int main(void)
{
    port_init();
    /* Hello Edge DS-CNN (S): first conv 10x4 stride 2 on 49x10 MFCC, 64 channels, SAME. */
    static const conv_layer ds_cnn_conv = {"ds_cnn_conv1_10x4", {1, 49, 10, 1}, {64, 10, 4, 1}, {1, 25, 5, 64}, 2, 2, 4, 1};
    /* DS-CNN (S) separable block: depthwise 3x3 and pointwise 1x1 on 25x5x64. */
    static const conv_layer ds_cnn_dw = {"ds_cnn_dw_3x3", {1, 25, 5, 64}, {1, 3, 3, 64}, {1, 25, 5, 64}, 1, 1, 1, 1};
    static const conv_layer ds_cnn_pw = {"ds_cnn_pw_1x1", {1, 25, 5, 64}, {64, 1, 1, 64}, {1, 25, 5, 64}, 1, 1, 0, 0};
    /* Hello Edge CNN (S) second conv: 10x4 over 28 channels, 30 filters, stride 2x1, VALID. */
    static const conv_layer cnn_conv2 = {"cnn_conv2_10x4", {1, 20, 7, 28}, {30, 10, 4, 28}, {1, 6, 4, 30}, 2, 1, 0, 0};
    bench_conv(&ds_cnn_conv, 0);
    bench_conv(&ds_cnn_dw, 1);
    bench_conv(&ds_cnn_pw, 0);
    bench_conv(&cnn_conv2, 0);
    /* Hello Edge DNN (S): 490 features -> 144 units, 144 -> 144. */
    bench_fc("dnn_fc_490x144", 490, 144);
    bench_fc("dnn_fc_144x144", 144, 144);
    /* Basic LSTM (S) gate matrix: [x_t, h_{t-1}] = 10 + 118 -> 4 x 118 gates. */
    bench_fc("lstm_gates_128x472", 128, 472);
    print("bench-done\r\n");
    for (;;) {
        port_getc();
    }
}
