/*
 * Sparse kernel runner for the emulated boards. The host writes a blob of cases (layer, dense pruned
 * weights, the same weights packed, input, quantisation; firmware/bench/sparse_runner.py) and QEMU's
 * loader places it in `kws_sparse_cases` before boot. Each case runs the dense reference, the dense
 * DSP kernel and the sparse kernel in both loop orders, and prints per run
 *   sparse,<case>,<variant>,<instructions>,<checksum>[,<output hex>]
 * then "sparse-done". Under QEMU -icount shift=0 the port's timer counts instructions (40 per tick);
 * a case's `repeat` runs are timed together.
 */
#include <stdint.h>
#include <string.h>

#include "kws_nnfunctions.h"
#include "kws_sparse_s8.h"
#include "port.h"
#include "bench_print.h"

#define CASE_BYTES (3 * 1024 * 1024 / 2)
#define SCRATCH_BYTES (512 * 1024)
#define OUTPUT_BYTES (64 * 1024)
#define MAGIC 0x4350534Bu /* "KSPC" */

/* Field order of one case header: int32 words, offsets in bytes from the blob's start (-1: none). */
enum {
    F_OP, /* 0 convolution, 1 fully connected */
    F_PRINT_OUTPUT,
    F_REPEAT,
    F_IN_N, F_IN_H, F_IN_W, F_IN_C,
    F_FLT_N, F_FLT_H, F_FLT_W, F_FLT_C,
    F_OUT_N, F_OUT_H, F_OUT_W, F_OUT_C,
    F_STRIDE_H, F_STRIDE_W, F_PAD_H, F_PAD_W, F_DIL_H, F_DIL_W,
    F_INPUT_OFFSET, F_OUTPUT_OFFSET, F_ACT_MIN, F_ACT_MAX,
    F_FORMAT, F_N, F_M,
    F_INPUT, F_DENSE, F_BIAS, F_MULTIPLIER, F_SHIFT, F_ROW_UNITS, F_INDEX, F_OFFSETS, F_VALUES,
    F_NEXT, /* offset of the next case */
    F_COUNT
};

uint8_t kws_sparse_cases[CASE_BYTES] __attribute__((aligned(16), section(".noinit")));
static uint32_t scratch[SCRATCH_BYTES / 4];
static int8_t output[OUTPUT_BYTES];

static const void *at(const int32_t *h, int field)
{
    return h[field] < 0 ? NULL : kws_sparse_cases + h[field];
}

typedef enum { DENSE_REF, DENSE_OPT, SPARSE_IS, SPARSE_WP, VARIANTS } variant;
static const char *const VARIANT_NAMES[VARIANTS] = {"dense_ref", "dense_opt", "sparse_is", "sparse_wp"};

/* A case's kernel arguments, built before the timer starts so only the kernel call is timed. */
typedef struct {
    int fc;
    kws_nn_context ctx;
    kws_nn_dims in, flt, out;
    kws_nn_conv_params conv;
    kws_nn_fc_params fc_params;
    kws_nn_per_channel_quant_params channel_quant;
    kws_nn_per_tensor_quant_params tensor_quant;
    const int8_t *input, *dense;
    const int32_t *bias;
    kws_sparse_filter sparse;
} kernel_args;

static kernel_args prepare(const int32_t *h)
{
    const int32_t *mult = at(h, F_MULTIPLIER), *shift = at(h, F_SHIFT);
    const kws_nn_activation act = {h[F_ACT_MIN], h[F_ACT_MAX]};
    kernel_args a = {
        .fc = h[F_OP] == 1,
        .ctx = {scratch, SCRATCH_BYTES},
        .in = {h[F_IN_N], h[F_IN_H], h[F_IN_W], h[F_IN_C]},
        .flt = {h[F_FLT_N], h[F_FLT_H], h[F_FLT_W], h[F_FLT_C]},
        .out = {h[F_OUT_N], h[F_OUT_H], h[F_OUT_W], h[F_OUT_C]},
        .conv = {h[F_INPUT_OFFSET], h[F_OUTPUT_OFFSET], {h[F_STRIDE_W], h[F_STRIDE_H]}, {h[F_PAD_W], h[F_PAD_H]},
                 {h[F_DIL_W], h[F_DIL_H]}, act},
        .fc_params = {h[F_INPUT_OFFSET], 0, h[F_OUTPUT_OFFSET], act},
        .channel_quant = {mult, shift},
        .tensor_quant = {mult[0], shift[0]},
        .input = at(h, F_INPUT),
        .dense = at(h, F_DENSE),
        .bias = at(h, F_BIAS),
        .sparse = {h[F_FORMAT], h[F_N], h[F_M], at(h, F_ROW_UNITS), at(h, F_INDEX), at(h, F_OFFSETS), at(h, F_VALUES)},
    };
    return a;
}

static int call(const kernel_args *a, variant v)
{
    const kws_sparse_order order = v == SPARSE_WP ? KWS_SPARSE_WEIGHT_PRIORITISED : KWS_SPARSE_INPUT_STATIONARY;
    if (!a->fc) {
        switch (v) {
        case DENSE_REF:
            return kws_convolve_s8(&a->ctx, &a->conv, &a->channel_quant, &a->in, a->input, &a->flt, a->dense, a->bias,
                                   &a->out, output);
        case DENSE_OPT:
            return kws_convolve_s8_opt(&a->ctx, &a->conv, &a->channel_quant, &a->in, a->input, &a->flt, a->dense,
                                       a->bias, &a->out, output);
        default:
            return kws_convolve_sparse_s8(&a->ctx, &a->conv, &a->channel_quant, &a->in, a->input, &a->flt, &a->sparse,
                                          a->bias, &a->out, output, order);
        }
    }
    switch (v) {
    case DENSE_REF:
        return kws_fully_connected_s8(&a->ctx, &a->fc_params, &a->tensor_quant, &a->in, a->input, &a->flt, a->dense,
                                      a->bias, &a->out, output);
    case DENSE_OPT:
        return kws_fully_connected_s8_opt(&a->ctx, &a->fc_params, &a->tensor_quant, &a->in, a->input, &a->flt,
                                          a->dense, a->bias, &a->out, output);
    default:
        return kws_fully_connected_sparse_s8(&a->ctx, &a->fc_params, &a->tensor_quant, &a->in, a->input, &a->flt,
                                             &a->sparse, a->bias, &a->out, output, order);
    }
}

static void run_case(uint32_t index, const int32_t *h)
{
    static const char hex[] = "0123456789abcdef";
    const int32_t out_size = h[F_OUT_N] * h[F_OUT_H] * h[F_OUT_W] * h[F_OUT_C];
    const kernel_args args = prepare(h);
    for (int v = 0; v < VARIANTS; ++v) {
        memset(output, 0, (size_t)out_size);
        int status = 0;
        const uint64_t start = port_ticks();
        for (int32_t r = 0; r < h[F_REPEAT]; ++r) {
            status |= call(&args, (variant)v);
        }
        const uint64_t instructions = port_ticks_to_stage_units(port_ticks() - start) / (uint64_t)h[F_REPEAT];
        uint32_t checksum = 0;
        for (int32_t i = 0; i < out_size; ++i) {
            checksum = checksum * 31u + (uint8_t)output[i];
        }
        print("sparse,");
        print_u32(index);
        print(",");
        print(VARIANT_NAMES[v]);
        print(",");
        print_u32(status ? 0xFFFFFFFFu : (uint32_t)instructions);
        print(",");
        print_u32(checksum);
        if (h[F_PRINT_OUTPUT]) {
            print(",");
            for (int32_t i = 0; i < out_size; ++i) {
                const char pair[2] = {hex[(uint8_t)output[i] >> 4], hex[output[i] & 15]};
                port_write(pair, 2);
            }
        }
        print("\r\n");
    }
}

int main(void)
{
    port_init();
    const uint32_t *blob = (const uint32_t *)kws_sparse_cases;
    if (blob[0] != MAGIC) {
        print("sparse-error,no cases loaded\r\n");
    } else {
        const int32_t *h = (const int32_t *)(kws_sparse_cases + 8);
        for (uint32_t i = 0; i < blob[1]; ++i) {
            if (h[F_OUT_N] * h[F_OUT_H] * h[F_OUT_W] * h[F_OUT_C] > OUTPUT_BYTES) {
                print("sparse-error,output too large\r\n");
                break;
            }
            run_case(i, h);
            h = (const int32_t *)(kws_sparse_cases + h[F_NEXT]);
        }
    }
    print("sparse-done\r\n");
    for (;;) {
        port_getc();
    }
}
