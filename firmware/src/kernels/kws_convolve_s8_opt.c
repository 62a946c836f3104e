/*
 * int8 convolution with the DSP extension. Each output pixel's receptive field is gathered once
 * (im2col) into int16 with the input offset added, padding becoming 0; then a 2 x 2 block (two
 * output channels x two pixels) is accumulated with SMLAD, two MACs per instruction, each weight
 * word sign-extended once (SXTB16) and used for both pixels.
 *
 * im2col column layout, per group of 4 taps: the word (x0, x2) then (x1, x3), matching
 * SXTB16(w) = (w0, w2) and SXTB16(ROR(w, 8)) = (w1, w3); the two pixels' groups are interleaved
 * [p0 even, p0 odd, p1 even, p1 odd] so one pointer walks both. Taps beyond the last full group are
 * stored plainly after the groups, first pixel 0's then pixel 1's.
 */
#include "kws_dsp.h"
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"

#if KWS_HAVE_DSP

static int32_t taps_of(const kws_nn_dims *filter_dims)
{
    return filter_dims->h * filter_dims->w * filter_dims->c;
}

/* Bytes of the im2col area (two columns) and of the byte staging row. */
static int32_t im2col_bytes(int32_t taps)
{
    return 2 * taps * (int32_t)sizeof(int16_t) + 8;
}

int32_t kws_convolve_s8_opt_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims)
{
    (void)input_dims;
    const int32_t taps = taps_of(filter_dims);
    const int32_t requant = filter_dims->n * (int32_t)sizeof(kws_requant_fast_params);
    return requant + im2col_bytes(taps) + ((taps + 3) & ~3);
}

/* Gathers one pixel's receptive field as bytes; padding gets the input zero point (x + offset = 0). */
static void gather_patch(const int8_t *input, const kws_nn_dims *in, const kws_nn_dims *f,
                         const kws_nn_conv_params *p, int32_t b, int32_t oy, int32_t ox, int8_t *patch)
{
    const int32_t y0 = oy * p->stride.h - p->padding.h, x0 = ox * p->stride.w - p->padding.w;
    const int8_t fill = (int8_t)(-p->input_offset);
    for (int32_t ky = 0; ky < f->h; ++ky) {
        const int32_t y = y0 + ky * p->dilation.h;
        if (p->dilation.w == 1 && y >= 0 && y < in->h && x0 >= 0 && x0 + f->w <= in->w) {
            /* The whole kernel row is inside: one contiguous copy. */
            memcpy(patch, input + ((b * in->h + y) * in->w + x0) * in->c, (size_t)(f->w * in->c));
            patch += f->w * in->c;
            continue;
        }
        for (int32_t kx = 0; kx < f->w; ++kx) {
            const int32_t x = x0 + kx * p->dilation.w;
            if (y < 0 || y >= in->h || x < 0 || x >= in->w) {
                memset(patch, fill, (size_t)in->c);
            } else {
                memcpy(patch, input + ((b * in->h + y) * in->w + x) * in->c, (size_t)in->c);
            }
            patch += in->c;
        }
    }
}

/* Widens one column of int8 taps into column `slot` (0 or 1) of the interleaved int16 layout. */
static void widen_column(const int8_t *taps, int32_t count, int32_t input_offset, int16_t *col, int32_t slot)
{
    const uint32_t offset2 = ((uint32_t)input_offset & 0xFFFFu) * 0x10001u;
    uint32_t *groups = (uint32_t *)col + 2 * slot;
    const int32_t full = count >> 2;
    for (int32_t g = 0; g < full; ++g) {
        const uint32_t x = kws_read_u32(taps + 4 * g);
        groups[4 * g] = __sxtab16(offset2, x);
        groups[4 * g + 1] = kws_sxtab16_ror8(offset2, x);
    }
    const int32_t rest = count & 3;
    int16_t *tail = col + 8 * full + slot * rest;
    for (int32_t i = 0; i < rest; ++i) {
        tail[i] = (int16_t)(taps[4 * full + i] + input_offset);
    }
}

/* acc[c][p] += dot(row c, column p) for two weight rows and the two im2col columns. */
static void mat_mult_2x2(const int8_t *row0, const int8_t *row1, const int16_t *col, int32_t taps,
                         int32_t acc[4])
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    const uint32_t *cw = (const uint32_t *)col;
    int32_t groups = taps >> 2;
    while (groups-- > 0) {
        const uint32_t w0 = kws_read_u32(row0), w1 = kws_read_u32(row1);
        row0 += 4;
        row1 += 4;
        const uint32_t w0e = __sxtb16(w0), w0o = kws_sxtb16_ror8(w0);
        const uint32_t w1e = __sxtb16(w1), w1o = kws_sxtb16_ror8(w1);
        uint32_t x = cw[0];
        a00 = __smlad(w0e, x, a00);
        a10 = __smlad(w1e, x, a10);
        x = cw[1];
        a00 = __smlad(w0o, x, a00);
        a10 = __smlad(w1o, x, a10);
        x = cw[2];
        a01 = __smlad(w0e, x, a01);
        a11 = __smlad(w1e, x, a11);
        x = cw[3];
        a01 = __smlad(w0o, x, a01);
        a11 = __smlad(w1o, x, a11);
        cw += 4;
    }
    const int32_t rest = taps & 3;
    const int16_t *t0 = (const int16_t *)cw, *t1 = t0 + rest;
    for (int32_t i = 0; i < rest; ++i) {
        a00 += row0[i] * t0[i];
        a01 += row0[i] * t1[i];
        a10 += row1[i] * t0[i];
        a11 += row1[i] * t1[i];
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

static int8_t finish(int32_t acc, const kws_requant_fast_params *rq, int32_t out_offset, int32_t act_min,
                     int32_t act_max)
{
    acc = kws_requant_fast(acc, rq) + out_offset;
    return (int8_t)KWS_CLAMP(acc, act_min, act_max);
}

kws_nn_status kws_convolve_s8_opt(const kws_nn_context *ctx, const kws_nn_conv_params *conv_params,
                                  const kws_nn_per_channel_quant_params *quant_params,
                                  const kws_nn_dims *input_dims, const int8_t *input,
                                  const kws_nn_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output)
{
    const int32_t out_ch = output_dims->c, taps = taps_of(filter_dims);
    if (filter_dims->c != input_dims->c || filter_dims->n != out_ch || output_dims->n != input_dims->n) {
        return KWS_NN_ARG_ERROR;
    }
    if (!ctx || !ctx->buf || ctx->size < kws_convolve_s8_opt_get_buffer_size(input_dims, filter_dims)) {
        return KWS_NN_ARG_ERROR;
    }
    kws_requant_fast_params *requant = (kws_requant_fast_params *)ctx->buf;
    for (int32_t c = 0; c < out_ch; ++c) {
        if (!kws_requant_fast_init(quant_params->multiplier[c], quant_params->shift[c], &requant[c])) {
            /* A multiplier outside [2^30, 2^31) (zero scale): the reference handles it. */
            return kws_convolve_s8(ctx, conv_params, quant_params, input_dims, input, filter_dims, filter,
                                   bias, output_dims, output);
        }
    }
    int16_t *columns = (int16_t *)(requant + out_ch);
    int8_t *patch = (int8_t *)columns + im2col_bytes(taps);
    const int32_t out_offset = conv_params->output_offset;
    const int32_t act_min = conv_params->activation.min, act_max = conv_params->activation.max;
    /* A 1x1 unpadded convolution reads each pixel's channels in place. */
    const int pointwise = filter_dims->h == 1 && filter_dims->w == 1 && conv_params->padding.h == 0 &&
                          conv_params->padding.w == 0;
    const int32_t pixels = output_dims->n * output_dims->h * output_dims->w;
    const int32_t per_image = output_dims->h * output_dims->w;

    for (int32_t p = 0; p < pixels; p += 2) {
        const int32_t count = KWS_MIN(2, pixels - p);
        for (int32_t slot = 0; slot < 2; ++slot) {
            /* An odd last pixel computes its column twice and stores it once. */
            const int32_t pix = p + KWS_MIN(slot, count - 1);
            const int32_t b = pix / per_image, oy = (pix % per_image) / output_dims->w, ox = pix % output_dims->w;
            const int8_t *taps_src = patch;
            if (pointwise) {
                const int32_t y = oy * conv_params->stride.h, x = ox * conv_params->stride.w;
                taps_src = input + ((b * input_dims->h + y) * input_dims->w + x) * input_dims->c;
            } else {
                gather_patch(input, input_dims, filter_dims, conv_params, b, oy, ox, patch);
            }
            widen_column(taps_src, taps, conv_params->input_offset, columns, slot);
        }
        int8_t *out0 = output + p * out_ch, *out1 = out0 + out_ch;
        for (int32_t c = 0; c < out_ch; c += 2) {
            const int32_t c1 = KWS_MIN(c + 1, out_ch - 1); /* an odd last channel pairs with itself */
            const int32_t b0 = bias ? bias[c] : 0, b1 = bias ? bias[c1] : 0;
            int32_t acc[4] = {b0, b0, b1, b1};
            mat_mult_2x2(filter + c * taps, filter + c1 * taps, columns, taps, acc);
            out0[c] = finish(acc[0], &requant[c], out_offset, act_min, act_max);
            out0[c1] = finish(acc[2], &requant[c1], out_offset, act_min, act_max);
            if (count == 2) {
                out1[c] = finish(acc[1], &requant[c], out_offset, act_min, act_max);
                out1[c1] = finish(acc[3], &requant[c1], out_offset, act_min, act_max);
            }
        }
    }
    return KWS_NN_SUCCESS;
}

#else /* no DSP extension: the reference is the optimised kernel */

int32_t kws_convolve_s8_opt_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims)
{
    return kws_convolve_s8_get_buffer_size(input_dims, filter_dims);
}

kws_nn_status kws_convolve_s8_opt(const kws_nn_context *ctx, const kws_nn_conv_params *conv_params,
                                  const kws_nn_per_channel_quant_params *quant_params,
                                  const kws_nn_dims *input_dims, const int8_t *input,
                                  const kws_nn_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output)
{
    return kws_convolve_s8(ctx, conv_params, quant_params, input_dims, input, filter_dims, filter, bias,
                           output_dims, output);
}

#endif
