/* Reference int8 TANH: TFLite's reference_integer_ops::Tanh semantics. */
#include "kws_fixedpoint.h"
#include "kws_nnfunctions.h"
#include "kws_sigmoid_s8.h"

void kws_tanh_s8_params(double input_scale, int32_t input_zero_point, kws_nn_sigmoid_params *params)
{
    kws_sigmoid_params(input_scale, input_zero_point, params);
}

static int32_t tanh_q4_to_s8(int32_t x_q4)
{
    const int32_t y_q0 = kws_fp_tanh(x_q4, KWS_SIGMOID_INPUT_INTEGER_BITS);
    return kws_rounding_divide_by_pot(y_q0, 31 - 7); /* scale 1/128, zero point 0 */
}

void kws_tanh_s8(const int8_t *input, const kws_nn_sigmoid_params *params, int32_t size, int8_t *output)
{
    kws_sigmoid_like_s8(input, params, size, output, tanh_q4_to_s8);
}
