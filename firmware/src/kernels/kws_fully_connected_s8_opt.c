/*
 * int8 fully connected with the DSP extension. The input row is widened once to int16 with the
 * input offset added (words (x0, x2), (x1, x3) per group of 4, matching SXTB16 of a weight word and
 * of the word rotated by 8); four weight rows are then accumulated together with SMLAD so each
 * widened input word is loaded once per four units.
 */
#include "kws_dsp.h"
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"
#include "kws_requant_opt.h"

#if KWS_HAVE_DSP

int32_t kws_fully_connected_s8_opt_get_buffer_size(const kws_nn_dims *filter_dims)
{
    return filter_dims->c * (int32_t)sizeof(int16_t) + 4;
}

static void widen_row(const int8_t *x, int32_t depth, int32_t input_offset, int16_t *row)
{
    const uint32_t offset2 = ((uint32_t)input_offset & 0xFFFFu) * 0x10001u;
    uint32_t *words = (uint32_t *)row;
    const int32_t full = depth >> 2;
    for (int32_t g = 0; g < full; ++g) {
        const uint32_t v = kws_read_u32(x + 4 * g);
        words[2 * g] = __sxtab16(offset2, v);
        words[2 * g + 1] = kws_sxtab16_ror8(offset2, v);
    }
    for (int32_t i = 4 * full; i < depth; ++i) {
        row[i] = (int16_t)(x[i] + input_offset);
    }
}

#if defined(KWS_DSP_EMULATE)
/* a_r += dot(weight row r, input) over `groups` groups of 4 taps for rows r = 0..3 (`depth` bytes
 * apart); advances *w and *x past them. The portable twin of the Arm assembly below. */
static inline __attribute__((always_inline)) void dot_4_groups(const int8_t **w, int32_t depth,
                                                               const uint32_t **x, int32_t groups,
                                                               int32_t *a0, int32_t *a1, int32_t *a2,
                                                               int32_t *a3)
{
    int32_t *acc[4] = {a0, a1, a2, a3};
    const int8_t *w0 = *w;
    const uint32_t *xw = *x;
    for (int32_t g = 0; g < groups; ++g) {
        const uint32_t xe = xw[0], xo = xw[1];
        xw += 2;
        for (int32_t r = 0; r < 4; ++r) {
            const uint32_t v = kws_read_u32(w0 + r * depth);
            *acc[r] = __smlad(__sxtb16(v), xe, *acc[r]);
            *acc[r] = __smlad(kws_sxtb16_ror8(v), xo, *acc[r]);
        }
        w0 += 4;
    }
    *w = w0;
    *x = xw;
}
#else
/* One group: 4 taps of rows 1, 0, 3, 2 (rows 0/2 pointers post-increment, rows 1/3 at +depth):
 * 21 instructions for 16 MACs. Written out because GCC spills in this 13-register loop. */
#define KWS_FC_ROW(acc, addr)                        \
    "ldr    %[v], " addr "\n\t"                      \
    "sxtb16 %[t], %[v]\n\t"                          \
    "sxtb16 %[v], %[v], ror #8\n\t"                  \
    "smlad  %[" acc "], %[t], %[xe], %[" acc "]\n\t" \
    "smlad  %[" acc "], %[v], %[xo], %[" acc "]\n\t"
#define KWS_FC_GROUP                       \
    "ldrd   %[xe], %[xo], [%[xp]], #8\n\t" \
    KWS_FC_ROW("a1", "[%[w0], %[d]]")      \
    KWS_FC_ROW("a0", "[%[w0]], #4")        \
    KWS_FC_ROW("a3", "[%[w2], %[d]]")      \
    KWS_FC_ROW("a2", "[%[w2]], #4")
#define KWS_FC_LOOP(body, count)                                                                        \
    __asm__ volatile("1:\n\t" body "subs   %[n], %[n], #1\n\t"                                          \
                     "bne    1b\n\t"                                                                    \
                     : [a0] "+r"(*a0), [a1] "+r"(*a1), [a2] "+r"(*a2), [a3] "+r"(*a3), [w0] "+r"(w0),   \
                       [w2] "+r"(w2), [xp] "+r"(xp), [n] "+r"(count), [xe] "=&r"(xe), [xo] "=&r"(xo), \
                       [v] "=&r"(v), [t] "=&r"(t)                                                       \
                     : [d] "r"(depth)                                                                   \
                     : "cc", "memory")

static inline __attribute__((always_inline)) void dot_4_groups(const int8_t **w, int32_t depth,
                                                               const uint32_t **x, int32_t groups,
                                                               int32_t *a0, int32_t *a1, int32_t *a2,
                                                               int32_t *a3)
{
    const int8_t *w0 = *w, *w2 = *w + 2 * depth;
    const uint32_t *xp = *x;
    uint32_t xe, xo, v, t;
    int32_t quads = groups >> 2, rest = groups & 3;
    if (quads > 0) {
        KWS_FC_LOOP(KWS_FC_GROUP KWS_FC_GROUP KWS_FC_GROUP KWS_FC_GROUP, quads);
    }
    if (rest > 0) {
        KWS_FC_LOOP(KWS_FC_GROUP, rest);
    }
    *w = w0;
    *x = xp;
}
#endif

static int32_t dot_1(const int8_t *w, int32_t depth, const int16_t *row, int32_t acc)
{
    const uint32_t *xw = (const uint32_t *)row;
    int32_t groups = depth >> 2;
    while (groups-- > 0) {
        const uint32_t v = kws_read_u32(w);
        acc = __smlad(__sxtb16(v), xw[0], acc);
        acc = __smlad(kws_sxtb16_ror8(v), xw[1], acc);
        xw += 2;
        w += 4;
    }
    const int16_t *tail = (const int16_t *)xw;
    for (int32_t i = 0; i < (depth & 3); ++i) {
        acc += w[i] * tail[i];
    }
    return acc;
}

/* Output stage (OUT_* in kws_requant_opt.h), chosen once per layer. */
typedef struct {
    kws_rq fast;
    kws_requant_fast_params generic;
    int32_t out_offset, act_min, act_max;
} fc_output;

static inline int8_t fc_finish(int32_t acc, const fc_output *o, const kws_rq *rq, int mode)
{
    if (mode == OUT_GENERIC) {
        return (int8_t)KWS_CLAMP(kws_requant_fast(acc, &o->generic) + o->out_offset, o->act_min, o->act_max);
    }
    return kws_rq_clamp(kws_rq_apply(acc, rq), mode == OUT_FAST_FULL_RANGE, o->act_min, o->act_max);
}

/* Four units sharing each widened input word: a_r = init[r] + dot(weight row r, input). */
static inline __attribute__((always_inline)) void dot_4(const int8_t *w, int32_t depth, const int16_t *row,
                                                        const int32_t init[4], int32_t *a0, int32_t *a1,
                                                        int32_t *a2, int32_t *a3)
{
    *a0 = init[0];
    *a1 = init[1];
    *a2 = init[2];
    *a3 = init[3];
    const uint32_t *xw = (const uint32_t *)row;
    dot_4_groups(&w, depth, &xw, depth >> 2, a0, a1, a2, a3);
    const int16_t *tail = (const int16_t *)xw;
    for (int32_t i = 0; i < (depth & 3); ++i) {
        *a0 += w[i] * tail[i];
        *a1 += w[depth + i] * tail[i];
        *a2 += w[2 * depth + i] * tail[i];
        *a3 += w[3 * depth + i] * tail[i];
    }
}

/* The common case in one non-inlined block, so the assembly has every register: fast
 * requantisation, activation range [-128, 127]. */
static __attribute__((noinline)) void fc_block_4_full_range(const int8_t *w, int32_t depth, const int16_t *row,
                                                            const int32_t init[4], const kws_rq *rq, int8_t *out)
{
    int32_t a0, a1, a2, a3;
    dot_4(w, depth, row, init, &a0, &a1, &a2, &a3);
    const int32_t multiplier = rq->multiplier, shift_m1 = rq->shift_m1;
    kws_rq_store_full_range(a0, rq, multiplier, shift_m1, &out[0]);
    kws_rq_store_full_range(a1, rq, multiplier, shift_m1, &out[1]);
    kws_rq_store_full_range(a2, rq, multiplier, shift_m1, &out[2]);
    kws_rq_store_full_range(a3, rq, multiplier, shift_m1, &out[3]);
}

static __attribute__((noinline)) void fc_block_4(const int8_t *w, int32_t depth, const int16_t *row,
                                                 const int32_t init[4], const fc_output *o, int8_t *out,
                                                 int mode)
{
    int32_t a0, a1, a2, a3;
    dot_4(w, depth, row, init, &a0, &a1, &a2, &a3);
    out[0] = fc_finish(a0, o, &o->fast, mode);
    out[1] = fc_finish(a1, o, &o->fast, mode);
    out[2] = fc_finish(a2, o, &o->fast, mode);
    out[3] = fc_finish(a3, o, &o->fast, mode);
}

static void fc_units(const int8_t *filter, const int32_t *bias, int32_t depth, int32_t units,
                     const int16_t *row, const fc_output *o, int8_t *out, int mode)
{
    static const int32_t no_bias[4] = {0, 0, 0, 0};
    int32_t u = 0;
    for (; u + 4 <= units; u += 4) {
        const int32_t *init = bias ? bias + u : no_bias;
        if (mode == OUT_FAST_FULL_RANGE) {
            fc_block_4_full_range(filter + u * depth, depth, row, init, &o->fast, out + u);
        } else {
            fc_block_4(filter + u * depth, depth, row, init, o, out + u, mode);
        }
    }
    for (; u < units; ++u) {
        out[u] = fc_finish(dot_1(filter + u * depth, depth, row, bias ? bias[u] : 0), o, &o->fast, mode);
    }
}

kws_nn_status kws_fully_connected_s8_opt(const kws_nn_context *ctx, const kws_nn_fc_params *fc_params,
                                         const kws_nn_per_tensor_quant_params *quant_params,
                                         const kws_nn_dims *input_dims, const int8_t *input,
                                         const kws_nn_dims *filter_dims, const int8_t *filter,
                                         const int32_t *bias, const kws_nn_dims *output_dims,
                                         int8_t *output)
{
    const int32_t depth = filter_dims->c, units = filter_dims->n;
    fc_output o;
    o.out_offset = fc_params->output_offset;
    o.act_min = fc_params->activation.min;
    o.act_max = fc_params->activation.max;
    int mode = OUT_GENERIC;
    if (kws_rq_init(quant_params->multiplier, quant_params->shift, o.out_offset, &o.fast)) {
        mode = o.act_min == KWS_INT8_MIN && o.act_max == KWS_INT8_MAX ? OUT_FAST_FULL_RANGE : OUT_FAST_CLAMP;
    }
    if (fc_params->filter_offset != 0 ||
        (mode == OUT_GENERIC && !kws_requant_fast_init(quant_params->multiplier, quant_params->shift, &o.generic))) {
        /* Asymmetric weights or a multiplier outside [2^30, 2^31): the reference handles them. */
        return kws_fully_connected_s8(ctx, fc_params, quant_params, input_dims, input, filter_dims, filter,
                                      bias, output_dims, output);
    }
    if (input_dims->h * input_dims->w * input_dims->c != depth || output_dims->c != units) {
        return KWS_NN_ARG_ERROR;
    }
    if (!ctx || !ctx->buf || ctx->size < kws_fully_connected_s8_opt_get_buffer_size(filter_dims)) {
        return KWS_NN_ARG_ERROR;
    }
    int16_t *row = (int16_t *)ctx->buf;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        widen_row(input + b * depth, depth, fc_params->input_offset, row);
        int8_t *out = output + b * units;
        fc_units(filter, bias, depth, units, row, &o, out, mode);
    }
    return KWS_NN_SUCCESS;
}

#else /* no DSP extension: the reference is the optimised kernel */

int32_t kws_fully_connected_s8_opt_get_buffer_size(const kws_nn_dims *filter_dims)
{
    return kws_fully_connected_s8_get_buffer_size(filter_dims);
}

kws_nn_status kws_fully_connected_s8_opt(const kws_nn_context *ctx, const kws_nn_fc_params *fc_params,
                                         const kws_nn_per_tensor_quant_params *quant_params,
                                         const kws_nn_dims *input_dims, const int8_t *input,
                                         const kws_nn_dims *filter_dims, const int8_t *filter,
                                         const int32_t *bias, const kws_nn_dims *output_dims,
                                         int8_t *output)
{
    return kws_fully_connected_s8(ctx, fc_params, quant_params, input_dims, input, filter_dims, filter, bias,
                                  output_dims, output);
}

#endif
