/* Reference int8 depthwise convolution: TFLite's DepthwiseConvPerChannel semantics. */
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"

int32_t kws_depthwise_conv_s8_get_buffer_size(const kws_nn_dims *input_dims,
                                              const kws_nn_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

kws_nn_status kws_depthwise_conv_s8(const kws_nn_context *ctx, const kws_nn_dw_conv_params *dw_params,
                                    const kws_nn_per_channel_quant_params *quant_params,
                                    const kws_nn_dims *input_dims, const int8_t *input,
                                    const kws_nn_dims *filter_dims, const int8_t *filter,
                                    const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const int32_t batches = input_dims->n, in_h = input_dims->h, in_w = input_dims->w;
    const int32_t in_ch = input_dims->c, ch_mult = dw_params->ch_mult;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_ch = output_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t input_offset = dw_params->input_offset;
    const int32_t output_offset = dw_params->output_offset;
    const int32_t stride_w = dw_params->stride.w, stride_h = dw_params->stride.h;
    const int32_t pad_w = dw_params->padding.w, pad_h = dw_params->padding.h;
    const int32_t dil_w = dw_params->dilation.w, dil_h = dw_params->dilation.h;
    const int32_t act_min = dw_params->activation.min, act_max = dw_params->activation.max;
    if (out_ch != in_ch * ch_mult || filter_dims->c != out_ch || output_dims->n != batches) {
        return KWS_NN_ARG_ERROR;
    }

    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t in_y0 = oy * stride_h - pad_h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t in_x0 = ox * stride_w - pad_w;
                for (int32_t ic = 0; ic < in_ch; ++ic) {
                    for (int32_t m = 0; m < ch_mult; ++m) {
                        const int32_t oc = ic * ch_mult + m;
                        int32_t acc = 0;
                        for (int32_t ky = 0; ky < k_h; ++ky) {
                            const int32_t in_y = in_y0 + dil_h * ky;
                            if (in_y < 0 || in_y >= in_h) {
                                continue;
                            }
                            for (int32_t kx = 0; kx < k_w; ++kx) {
                                const int32_t in_x = in_x0 + dil_w * kx;
                                if (in_x < 0 || in_x >= in_w) {
                                    continue;
                                }
                                const int32_t x = input[((b * in_h + in_y) * in_w + in_x) * in_ch + ic];
                                acc += filter[(ky * k_w + kx) * out_ch + oc] * (x + input_offset);
                            }
                        }
                        if (bias) {
                            acc += bias[oc];
                        }
                        acc = kws_requantize(acc, quant_params->multiplier[oc], quant_params->shift[oc]);
                        acc += output_offset;
                        output[((b * out_h + oy) * out_w + ox) * out_ch + oc] =
                            (int8_t)KWS_CLAMP(acc, act_min, act_max);
                    }
                }
            }
        }
    }
    return KWS_NN_SUCCESS;
}
