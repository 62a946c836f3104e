/* Reference int8 convolution: TFLite's ConvPerChannel (reference_integer_ops/conv.h) semantics. */
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"

int32_t kws_convolve_s8_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

kws_nn_status kws_convolve_s8(const kws_nn_context *ctx, const kws_nn_conv_params *conv_params,
                              const kws_nn_per_channel_quant_params *quant_params,
                              const kws_nn_dims *input_dims, const int8_t *input,
                              const kws_nn_dims *filter_dims, const int8_t *filter,
                              const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const int32_t batches = input_dims->n, in_h = input_dims->h, in_w = input_dims->w;
    const int32_t in_ch = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_ch = output_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t input_offset = conv_params->input_offset;
    const int32_t output_offset = conv_params->output_offset;
    const int32_t stride_w = conv_params->stride.w, stride_h = conv_params->stride.h;
    const int32_t pad_w = conv_params->padding.w, pad_h = conv_params->padding.h;
    const int32_t dil_w = conv_params->dilation.w, dil_h = conv_params->dilation.h;
    const int32_t act_min = conv_params->activation.min, act_max = conv_params->activation.max;
    if (filter_dims->c != in_ch || filter_dims->n != out_ch || output_dims->n != batches) {
        return KWS_NN_ARG_ERROR;
    }

    /* |input + offset| <= 255 and |filter| <= 128, so a window of up to 2^16 taps cannot overflow
     * the int32 accumulator before the bias is added. */
    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t in_y0 = oy * stride_h - pad_h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * stride_w - pad_w;
                for (int32_t oc = 0; oc < out_ch; ++oc) {
                    const int8_t *kernel = filter + oc * k_h * k_w * in_ch;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < k_h; ++ky) {
                        const int32_t in_y = in_y0 + dil_h * ky;
                        if (in_y < 0 || in_y >= in_h) {
                            continue; /* padding contributes zero */
                        }
                        for (int32_t kx = 0; kx < k_w; ++kx) {
                            const int32_t in_x = in_x0 + dil_w * kx;
                            if (in_x < 0 || in_x >= in_w) {
                                continue;
                            }
                            const int8_t *px = input + ((b * in_h + in_y) * in_w + in_x) * in_ch;
                            const int8_t *kp = kernel + (ky * k_w + kx) * in_ch;
                            for (int32_t ic = 0; ic < in_ch; ++ic) {
                                acc += kp[ic] * (px[ic] + input_offset);
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    acc = kws_requantize(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
                    acc += output_offset;
                    *output++ = (int8_t)KWS_CLAMP(acc, act_min, act_max);
                }
            }
        }
    }
    return KWS_NN_SUCCESS;
}
