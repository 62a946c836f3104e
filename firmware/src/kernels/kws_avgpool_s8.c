/* Reference int8 average pooling: TFLite's integer AveragePool semantics (same in/out quantisation). */
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"

int32_t kws_avgpool_s8_get_buffer_size(const kws_nn_dims *output_dims)
{
    (void)output_dims;
    return 0;
}

kws_nn_status kws_avgpool_s8(const kws_nn_context *ctx, const kws_nn_pool_params *pool_params,
                             const kws_nn_dims *input_dims, const int8_t *input,
                             const kws_nn_dims *filter_dims, const kws_nn_dims *output_dims,
                             int8_t *output)
{
    (void)ctx;
    const int32_t batches = input_dims->n, in_h = input_dims->h, in_w = input_dims->w;
    const int32_t ch = input_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t act_min = pool_params->activation.min, act_max = pool_params->activation.max;
    if (output_dims->c != ch || output_dims->n != batches) {
        return KWS_NN_ARG_ERROR;
    }
    for (int32_t b = 0; b < batches; ++b) {
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * pool_params->stride.h - pool_params->padding.h;
            /* Only the part of the window inside the input is averaged. */
            const int32_t ky_lo = KWS_MAX(0, -y0), ky_hi = KWS_MIN(k_h, in_h - y0);
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * pool_params->stride.w - pool_params->padding.w;
                const int32_t kx_lo = KWS_MAX(0, -x0), kx_hi = KWS_MIN(k_w, in_w - x0);
                const int32_t count = (ky_hi - ky_lo) * (kx_hi - kx_lo);
                if (ky_hi <= ky_lo || kx_hi <= kx_lo) {
                    return KWS_NN_ARG_ERROR; /* an empty window: TFLite rejects it too */
                }
                for (int32_t c = 0; c < ch; ++c) {
                    int32_t acc = 0;
                    for (int32_t ky = ky_lo; ky < ky_hi; ++ky) {
                        for (int32_t kx = kx_lo; kx < kx_hi; ++kx) {
                            acc += input[((b * in_h + y0 + ky) * in_w + x0 + kx) * ch + c];
                        }
                    }
                    /* Round half away from zero. */
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    output[((b * out_h + oy) * out_w + ox) * ch + c] =
                        (int8_t)KWS_CLAMP(acc, act_min, act_max);
                }
            }
        }
    }
    return KWS_NN_SUCCESS;
}
