/*
 * int8 fully connected with the DSP extension. The input row is widened once to int16 with the
 * input offset added (words (x0, x2), (x1, x3) per group of 4, matching SXTB16 of a weight word and
 * of the word rotated by 8); four weight rows are then accumulated together with SMLAD so each
 * widened input word is loaded once per four units.
 */
#include "kws_dsp.h"
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"

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

/* Dot products of four weight rows with the widened input. */
static void dot_4(const int8_t *w, int32_t depth, const int16_t *row, int32_t acc[4])
{
    const int8_t *w0 = w, *w1 = w + depth, *w2 = w + 2 * depth, *w3 = w + 3 * depth;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const uint32_t *xw = (const uint32_t *)row;
    int32_t groups = depth >> 2;
    while (groups-- > 0) {
        const uint32_t xe = xw[0], xo = xw[1];
        xw += 2;
        uint32_t v = kws_read_u32(w0);
        a0 = __smlad(__sxtb16(v), xe, a0);
        a0 = __smlad(kws_sxtb16_ror8(v), xo, a0);
        v = kws_read_u32(w1);
        a1 = __smlad(__sxtb16(v), xe, a1);
        a1 = __smlad(kws_sxtb16_ror8(v), xo, a1);
        v = kws_read_u32(w2);
        a2 = __smlad(__sxtb16(v), xe, a2);
        a2 = __smlad(kws_sxtb16_ror8(v), xo, a2);
        v = kws_read_u32(w3);
        a3 = __smlad(__sxtb16(v), xe, a3);
        a3 = __smlad(kws_sxtb16_ror8(v), xo, a3);
        w0 += 4;
        w1 += 4;
        w2 += 4;
        w3 += 4;
    }
    const int16_t *tail = (const int16_t *)xw;
    for (int32_t i = 0; i < (depth & 3); ++i) {
        a0 += w0[i] * tail[i];
        a1 += w1[i] * tail[i];
        a2 += w2[i] * tail[i];
        a3 += w3[i] * tail[i];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

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

kws_nn_status kws_fully_connected_s8_opt(const kws_nn_context *ctx, const kws_nn_fc_params *fc_params,
                                         const kws_nn_per_tensor_quant_params *quant_params,
                                         const kws_nn_dims *input_dims, const int8_t *input,
                                         const kws_nn_dims *filter_dims, const int8_t *filter,
                                         const int32_t *bias, const kws_nn_dims *output_dims,
                                         int8_t *output)
{
    const int32_t depth = filter_dims->c, units = filter_dims->n;
    kws_requant_fast_params rq;
    if (fc_params->filter_offset != 0 ||
        !kws_requant_fast_init(quant_params->multiplier, quant_params->shift, &rq)) {
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
    const int32_t out_offset = fc_params->output_offset;
    const int32_t act_min = fc_params->activation.min, act_max = fc_params->activation.max;
    for (int32_t b = 0; b < input_dims->n; ++b) {
        widen_row(input + b * depth, depth, fc_params->input_offset, row);
        int8_t *out = output + b * units;
        int32_t u = 0;
        for (; u + 4 <= units; u += 4) {
            int32_t acc[4];
            for (int32_t i = 0; i < 4; ++i) {
                acc[i] = bias ? bias[u + i] : 0;
            }
            dot_4(filter + u * depth, depth, row, acc);
            for (int32_t i = 0; i < 4; ++i) {
                const int32_t y = kws_requant_fast(acc[i], &rq) + out_offset;
                out[u + i] = (int8_t)KWS_CLAMP(y, act_min, act_max);
            }
        }
        for (; u < units; ++u) {
            const int32_t acc = dot_1(filter + u * depth, depth, row, bias ? bias[u] : 0);
            const int32_t y = kws_requant_fast(acc, &rq) + out_offset;
            out[u] = (int8_t)KWS_CLAMP(y, act_min, act_max);
        }
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
