/* Reference int8 LOGISTIC: TFLite's reference_integer_ops::Logistic semantics. */
#include "kws_fixedpoint.h"
#include "kws_nnfunctions.h"
#include "kws_sigmoid_params.h"

void kws_logistic_s8_params(double input_scale, int32_t input_zero_point, kws_nn_sigmoid_params *params)
{
    kws_sigmoid_params(input_scale, input_zero_point, params);
}

void kws_logistic_s8(const int8_t *input, const kws_nn_sigmoid_params *params, int32_t size, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t x = input[i] - params->input_zero_point;
        if (x <= -params->input_range_radius) {
            output[i] = KWS_INT8_MIN;
        } else if (x >= params->input_range_radius) {
            output[i] = KWS_INT8_MAX;
        } else {
            const int32_t x_q4 = kws_requantize(x, params->input_multiplier, params->input_left_shift);
            const int32_t y_q0 = kws_fp_logistic(x_q4, KWS_SIGMOID_INPUT_INTEGER_BITS);
            const int32_t y = kws_rounding_divide_by_pot(y_q0, 31 - 8) + KWS_INT8_MIN; /* scale 1/256 */
            output[i] = (int8_t)KWS_CLAMP(y, KWS_INT8_MIN, KWS_INT8_MAX);
        }
    }
}
