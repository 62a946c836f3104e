/* Reference int8 ADD: TFLite's quantised Add (reference_integer_ops/add.h) semantics. */
#include "kws_add_sub_s8.h"

void kws_add_s8_params(double input1_scale, int32_t input1_zero_point, double input2_scale,
                       int32_t input2_zero_point, double output_scale, int32_t output_zero_point,
                       kws_nn_activation activation, kws_nn_add_params *params)
{
    params->input1_offset = -input1_zero_point;
    params->input2_offset = -input2_zero_point;
    params->output_offset = output_zero_point;
    params->left_shift = 20; /* int8 headroom: 255 << 20 still fits an int32 */
    const double twice_max_input_scale = 2.0 * KWS_MAX(input1_scale, input2_scale);
    kws_quantize_multiplier(input1_scale / twice_max_input_scale, &params->input1_multiplier, &params->input1_shift);
    kws_quantize_multiplier(input2_scale / twice_max_input_scale, &params->input2_multiplier, &params->input2_shift);
    kws_quantize_multiplier(twice_max_input_scale / ((double)(1 << params->left_shift) * output_scale),
                            &params->output_multiplier, &params->output_shift);
    params->activation = activation;
}

kws_nn_status kws_add_s8(const int8_t *input1, int32_t input1_size, const int8_t *input2, int32_t input2_size,
                         const kws_nn_add_params *params, int32_t size, int8_t *output)
{
    return kws_add_sub_s8(input1, input1_size, input2, input2_size, params, size, 1, output);
}
