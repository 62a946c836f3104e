/* Input rescaling shared by LOGISTIC and TANH (internal to the kernels). */
#ifndef KWS_SIGMOID_PARAMS_H
#define KWS_SIGMOID_PARAMS_H

#include <math.h>

#include "kws_nn_types.h"

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

#endif /* KWS_SIGMOID_PARAMS_H */
