/* Reference int8 MUL: TFLite's quantised Mul (reference_integer_ops/mul.h) semantics. */
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"

void kws_mul_s8_params(double input1_scale, int32_t input1_zero_point, double input2_scale,
                       int32_t input2_zero_point, double output_scale, int32_t output_zero_point,
                       kws_nn_activation activation, kws_nn_mul_params *params)
{
    params->input1_offset = -input1_zero_point;
    params->input2_offset = -input2_zero_point;
    params->output_offset = output_zero_point;
    kws_quantize_multiplier(input1_scale * input2_scale / output_scale, &params->output_multiplier,
                            &params->output_shift);
    params->activation = activation;
}

kws_nn_status kws_mul_s8(const int8_t *input1, int32_t input1_size, const int8_t *input2, int32_t input2_size,
                         const kws_nn_mul_params *p, int32_t size, int8_t *output)
{
    if (input1_size <= 0 || input2_size <= 0 || size % input1_size || size % input2_size) {
        return KWS_NN_ARG_ERROR;
    }
    int32_t i1 = 0, i2 = 0;
    for (int32_t i = 0; i < size; ++i) {
        const int32_t product = (input1[i1] + p->input1_offset) * (input2[i2] + p->input2_offset);
        const int32_t raw = kws_requantize(product, p->output_multiplier, p->output_shift) + p->output_offset;
        output[i] = (int8_t)KWS_CLAMP(raw, p->activation.min, p->activation.max);
        i1 = i1 + 1 == input1_size ? 0 : i1 + 1;
        i2 = i2 + 1 == input2_size ? 0 : i2 + 1;
    }
    return KWS_NN_SUCCESS;
}
