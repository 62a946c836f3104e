/*
 * int8 depthwise convolution with the DSP extension (channel multiplier 1, dilation 1; other
 * layers use the reference). Four channels at a time are widened from [H, W, C] bytes into four
 * zero-padded int16 planes with the input offset added (padding becomes 0, so the inner loop has
 * no bounds checks); each window row is then accumulated two taps per SMLAD against int16 weight
 * pairs (a row of odd width gets a zero weight, reading one padding column beyond the window).
 */
#include "kws_dsp.h"
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"

#define PLANES 4

#if KWS_HAVE_DSP

static int32_t plane_w(const kws_nn_dims *in, const kws_nn_dims *f)
{
    return ((in->w + f->w) + 1) & ~1; /* window overhang on both sides + the odd-width column */
}

static int32_t plane_h(const kws_nn_dims *in, const kws_nn_dims *f)
{
    return in->h + f->h - 1;
}

static int32_t weight_row(const kws_nn_dims *f)
{
    return (f->w + 1) & ~1;
}

int32_t kws_depthwise_conv_s8_opt_get_buffer_size(const kws_nn_dims *input_dims,
                                                  const kws_nn_dims *filter_dims)
{
    const int32_t planes = PLANES * plane_h(input_dims, filter_dims) * plane_w(input_dims, filter_dims);
    const int32_t weights = filter_dims->h * weight_row(filter_dims);
    return filter_dims->c * (int32_t)sizeof(kws_requant_fast_params) + (planes + weights) * (int32_t)sizeof(int16_t);
}

/* Widens channels c..c+count-1 of one image into `count` planes (count <= 4). */
static void fill_planes(const int8_t *image, const kws_nn_dims *in, int32_t c, int32_t count,
                        int32_t input_offset, int32_t pad_h, int32_t pad_w, int32_t ph, int32_t pw,
                        int16_t *planes)
{
    const int32_t plane = ph * pw;
    memset(planes, 0, (size_t)(PLANES * plane) * sizeof(int16_t));
    const uint32_t offset2 = ((uint32_t)input_offset & 0xFFFFu) * 0x10001u;
    for (int32_t y = 0; y < in->h; ++y) {
        const int8_t *src = image + (y * in->w) * in->c + c;
        int16_t *dst = planes + (y + pad_h) * pw + pad_w;
        if (count == PLANES) {
            for (int32_t x = 0; x < in->w; ++x) {
                const uint32_t v = kws_read_u32(src);
                const uint32_t even = __sxtab16(offset2, v), odd = kws_sxtab16_ror8(offset2, v);
                dst[x] = (int16_t)even;
                dst[x + 2 * plane] = (int16_t)(even >> 16);
                dst[x + plane] = (int16_t)odd;
                dst[x + 3 * plane] = (int16_t)(odd >> 16);
                src += in->c;
            }
        } else {
            for (int32_t x = 0; x < in->w; ++x) {
                for (int32_t k = 0; k < count; ++k) {
                    dst[x + k * plane] = (int16_t)(src[k] + input_offset);
                }
                src += in->c;
            }
        }
    }
}

kws_nn_status kws_depthwise_conv_s8_opt(const kws_nn_context *ctx,
                                        const kws_nn_dw_conv_params *dw_params,
                                        const kws_nn_per_channel_quant_params *quant_params,
                                        const kws_nn_dims *input_dims, const int8_t *input,
                                        const kws_nn_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const kws_nn_dims *output_dims,
                                        int8_t *output)
{
    const int32_t ch = output_dims->c;
    if (dw_params->ch_mult != 1 || dw_params->dilation.h != 1 || dw_params->dilation.w != 1) {
        return kws_depthwise_conv_s8(ctx, dw_params, quant_params, input_dims, input, filter_dims, filter,
                                     bias, output_dims, output);
    }
    if (input_dims->c != ch || filter_dims->c != ch || output_dims->n != input_dims->n) {
        return KWS_NN_ARG_ERROR;
    }
    if (!ctx || !ctx->buf || ctx->size < kws_depthwise_conv_s8_opt_get_buffer_size(input_dims, filter_dims)) {
        return KWS_NN_ARG_ERROR;
    }
    kws_requant_fast_params *requant = (kws_requant_fast_params *)ctx->buf;
    for (int32_t c = 0; c < ch; ++c) {
        if (!kws_requant_fast_init(quant_params->multiplier[c], quant_params->shift[c], &requant[c])) {
            return kws_depthwise_conv_s8(ctx, dw_params, quant_params, input_dims, input, filter_dims, filter,
                                         bias, output_dims, output);
        }
    }
    const int32_t ph = plane_h(input_dims, filter_dims), pw = plane_w(input_dims, filter_dims);
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, wrow = weight_row(filter_dims);
    int16_t *planes = (int16_t *)(requant + ch);
    int16_t *weights = planes + PLANES * ph * pw;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t sh = dw_params->stride.h, sw = dw_params->stride.w;
    const int32_t out_offset = dw_params->output_offset;
    const int32_t act_min = dw_params->activation.min, act_max = dw_params->activation.max;
    /* Plane origin (0, 0) is input pixel (-pad_h, -pad_w); windows start at (oy * sh, ox * sw). */
    const int32_t pad_h = dw_params->padding.h, pad_w = dw_params->padding.w;
    if ((out_h - 1) * sh + k_h > ph || (out_w - 1) * sw + wrow > pw || pad_h >= k_h || pad_w >= k_w) {
        return KWS_NN_ARG_ERROR;
    }

    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *image = input + b * input_dims->h * input_dims->w * ch;
        int8_t *out_image = output + b * out_h * out_w * ch;
        for (int32_t c0 = 0; c0 < ch; c0 += PLANES) {
            const int32_t count = KWS_MIN(PLANES, ch - c0);
            fill_planes(image, input_dims, c0, count, dw_params->input_offset, pad_h, pad_w, ph, pw, planes);
            for (int32_t k = 0; k < count; ++k) {
                const int32_t c = c0 + k;
                const int16_t *plane = planes + k * ph * pw;
                for (int32_t ky = 0; ky < k_h; ++ky) {
                    for (int32_t kx = 0; kx < wrow; ++kx) {
                        weights[ky * wrow + kx] = (int16_t)(kx < k_w ? filter[(ky * k_w + kx) * ch + c] : 0);
                    }
                }
                const kws_requant_fast_params rq = requant[c];
                const int32_t bias_c = bias ? bias[c] : 0;
                int8_t *out = out_image + c;
                for (int32_t oy = 0; oy < out_h; ++oy) {
                    const int16_t *rows = plane + oy * sh * pw;
                    for (int32_t ox = 0; ox < out_w; ++ox) {
                        int32_t acc = bias_c;
                        const int16_t *xr = rows + ox * sw;
                        const int16_t *wr = weights;
                        for (int32_t ky = 0; ky < k_h; ++ky) {
                            for (int32_t kx = 0; kx < wrow; kx += 2) {
                                acc = __smlad(kws_read_u32(xr + kx), kws_read_u32(wr + kx), acc);
                            }
                            xr += pw;
                            wr += wrow;
                        }
                        acc = kws_requant_fast(acc, &rq) + out_offset;
                        *out = (int8_t)KWS_CLAMP(acc, act_min, act_max);
                        out += ch;
                    }
                }
            }
        }
    }
    return KWS_NN_SUCCESS;
}

#else /* no DSP extension: the reference is the optimised kernel */

int32_t kws_depthwise_conv_s8_opt_get_buffer_size(const kws_nn_dims *input_dims,
                                                  const kws_nn_dims *filter_dims)
{
    return kws_depthwise_conv_s8_get_buffer_size(input_dims, filter_dims);
}

kws_nn_status kws_depthwise_conv_s8_opt(const kws_nn_context *ctx,
                                        const kws_nn_dw_conv_params *dw_params,
                                        const kws_nn_per_channel_quant_params *quant_params,
                                        const kws_nn_dims *input_dims, const int8_t *input,
                                        const kws_nn_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const kws_nn_dims *output_dims,
                                        int8_t *output)
{
    return kws_depthwise_conv_s8(ctx, dw_params, quant_params, input_dims, input, filter_dims, filter, bias,
                                 output_dims, output);
}

#endif
