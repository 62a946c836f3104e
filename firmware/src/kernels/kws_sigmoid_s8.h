/* Input rescaling and saturation shared by LOGISTIC and TANH (internal to the kernels). */
#ifndef KWS_SIGMOID_S8_H
#define KWS_SIGMOID_S8_H

#include <math.h>

#include "kws_nn_types.h"
#include "kws_nn_utils.h"

#define KWS_SIGMOID_INPUT_INTEGER_BITS 4

/* TFLite Micro's Prepare for int8 logistic / tanh: frexp of scale * 2^27 (no renormalisation), and
 * the radius beyond which the Q4.27 input saturates (CalculateInputRadius). */
static inline void kws_sigmoid_params(double input_scale, int32_t input_zero_point, kws_nn_sigmoid_params *p)
{
    int exponent = 0;
    const double q = frexp(input_scale * (double)(1 << (31 - KWS_SIGMOID_INPUT_INTEGER_BITS)), &exponent);
    p->input_zero_point = input_zero_point;
    p->input_multiplier = (int32_t)round(q * (double)(1LL << 31));
    p->input_left_shift = exponent;
    const double max_input_rescaled = 1.0 * ((1 << KWS_SIGMOID_INPUT_INTEGER_BITS) - 1) *
                                      (double)(1LL << (31 - KWS_SIGMOID_INPUT_INTEGER_BITS)) /
                                      ldexp(1.0, exponent);
    p->input_range_radius = (int32_t)floor(max_input_rescaled);
}

/* TFLite's integer Logistic / Tanh loop: inputs at or beyond the radius saturate, the others are
 * rescaled to Q4.27 and mapped by `q4_to_output` (the op's gemmlowp function and output scaling),
 * then clamped to int8. Inlined into each kernel, where the pointer becomes a direct call. */
static inline void kws_sigmoid_like_s8(const int8_t *input, const kws_nn_sigmoid_params *params, int32_t size,
                                       int8_t *output, int32_t (*q4_to_output)(int32_t x_q4))
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t x = input[i] - params->input_zero_point;
        if (x <= -params->input_range_radius) {
            output[i] = KWS_INT8_MIN;
        } else if (x >= params->input_range_radius) {
            output[i] = KWS_INT8_MAX;
        } else {
            const int32_t y = q4_to_output(kws_requantize(x, params->input_multiplier, params->input_left_shift));
            output[i] = (int8_t)KWS_CLAMP(y, KWS_INT8_MIN, KWS_INT8_MAX);
        }
    }
}

#endif /* KWS_SIGMOID_S8_H */
