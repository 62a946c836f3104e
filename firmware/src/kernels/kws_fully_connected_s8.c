/* Reference int8 fully connected: TFLite's integer FullyConnected semantics. */
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"

int32_t kws_fully_connected_s8_get_buffer_size(const kws_nn_dims *filter_dims)
{
    (void)filter_dims;
    return 0;
}

/* Both entry points: unit u requantises with multiplier[u * quant_stride], shift[u * quant_stride]
 * (stride 0: one pair for the whole tensor). Inlined into each, so each keeps its own loop. */
static inline __attribute__((always_inline)) kws_nn_status
fully_connected(const kws_nn_fc_params *fc_params, const int32_t *multiplier, const int32_t *shift,
                int32_t quant_stride, const kws_nn_dims *input_dims, const int8_t *input,
                const kws_nn_dims *filter_dims, const int8_t *filter, const int32_t *bias,
                const kws_nn_dims *output_dims, int8_t *output)
{
    const int32_t batches = input_dims->n;
    const int32_t depth = filter_dims->c, units = filter_dims->n;
    const int32_t input_offset = fc_params->input_offset, filter_offset = fc_params->filter_offset;
    const int32_t output_offset = fc_params->output_offset;
    const int32_t act_min = fc_params->activation.min, act_max = fc_params->activation.max;
    if (input_dims->h * input_dims->w * input_dims->c != depth || output_dims->c != units) {
        return KWS_NN_ARG_ERROR;
    }
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *x = input + b * depth;
        for (int32_t u = 0; u < units; ++u) {
            const int8_t *w = filter + u * depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < depth; ++d) {
                acc += (w[d] + filter_offset) * (x[d] + input_offset);
            }
            if (bias) {
                acc += bias[u];
            }
            acc = kws_requantize(acc, multiplier[u * quant_stride], shift[u * quant_stride]);
            acc += output_offset;
            output[b * units + u] = (int8_t)KWS_CLAMP(acc, act_min, act_max);
        }
    }
    return KWS_NN_SUCCESS;
}

kws_nn_status kws_fully_connected_per_channel_s8(const kws_nn_context *ctx,
                                                 const kws_nn_fc_params *fc_params,
                                                 const kws_nn_per_channel_quant_params *quant_params,
                                                 const kws_nn_dims *input_dims, const int8_t *input,
                                                 const kws_nn_dims *filter_dims, const int8_t *filter,
                                                 const int32_t *bias, const kws_nn_dims *output_dims,
                                                 int8_t *output)
{
    (void)ctx;
    return fully_connected(fc_params, quant_params->multiplier, quant_params->shift, 1, input_dims, input,
                           filter_dims, filter, bias, output_dims, output);
}

kws_nn_status kws_fully_connected_s8(const kws_nn_context *ctx, const kws_nn_fc_params *fc_params,
                                     const kws_nn_per_tensor_quant_params *quant_params,
                                     const kws_nn_dims *input_dims, const int8_t *input,
                                     const kws_nn_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output)
{
    (void)ctx;
    return fully_connected(fc_params, &quant_params->multiplier, &quant_params->shift, 0, input_dims, input,
                           filter_dims, filter, bias, output_dims, output);
}
