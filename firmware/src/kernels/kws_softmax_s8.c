/*
 * Reference int8 softmax: TFLite's quantised Softmax (reference_ops/softmax.h), which evaluates
 * exp() and 1/x in gemmlowp fixed point. Input differences from the row maximum are rescaled to
 * Q5.26; exps are summed in Q12.19; the output is Q0.8 shifted to int8 (scale 1/256, zero point -128).
 */
#include "kws_nnfunctions.h"
#include "kws_fixedpoint.h"
#include "kws_nn_utils.h"

#include <math.h>

#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUMULATION_INTEGER_BITS 12

void kws_softmax_s8_params(double beta, double input_scale, kws_nn_softmax_params *params)
{
    /* TFLite's PreprocessSoftmaxScaling, then CalculateInputRadius. */
    double real = beta * input_scale * (double)(1 << (31 - SCALED_DIFF_INTEGER_BITS));
    const double max_real = (double)((1LL << 31) - 1);
    if (real > max_real) {
        real = max_real;
    }
    kws_quantize_multiplier(real, &params->input_multiplier, &params->input_left_shift);
    const double radius = 1.0 * ((1 << SCALED_DIFF_INTEGER_BITS) - 1) *
                          (double)(1LL << (31 - SCALED_DIFF_INTEGER_BITS)) /
                          (double)(1LL << params->input_left_shift);
    params->diff_min = -(int32_t)floor(radius);
}

static int32_t count_leading_zeros(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

int32_t kws_softmax_s8_get_buffer_size(int32_t row_size)
{
    (void)row_size;
    return 0;
}

void kws_softmax_s8(const int8_t *input, int32_t num_rows, int32_t row_size,
                    const kws_nn_softmax_params *params, int8_t *output)
{
    const int32_t mult = params->input_multiplier, left_shift = params->input_left_shift;
    for (int32_t r = 0; r < num_rows; ++r) {
        const int8_t *in = input + r * row_size;
        int8_t *out = output + r * row_size;
        int32_t max_in_row = KWS_INT8_MIN;
        for (int32_t c = 0; c < row_size; ++c) {
            max_in_row = KWS_MAX(max_in_row, in[c]);
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < row_size; ++c) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= params->diff_min) {
                const int32_t scaled = kws_srdhm(diff * (1 << left_shift), mult);
                sum_of_exps += kws_rounding_divide_by_pot(kws_fp_exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS),
                                                          ACCUMULATION_INTEGER_BITS);
            }
        }
        /* 1 / sum as a Q0.31 mantissa and a power of two (TFLite's GetReciprocal). */
        const int32_t headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
        const int32_t num_bits_over_unit = ACCUMULATION_INTEGER_BITS - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31));
        const int32_t shifted_scale = kws_fp_one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);

        for (int32_t c = 0; c < row_size; ++c) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= params->diff_min) {
                const int32_t scaled = kws_srdhm(diff * (1 << left_shift), mult);
                const int32_t exp_in_0 = kws_fp_exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS);
                const int32_t unsat = kws_rounding_divide_by_pot(kws_srdhm(shifted_scale, exp_in_0),
                                                                 num_bits_over_unit + 31 - 8);
                out[c] = (int8_t)KWS_CLAMP(unsat + KWS_INT8_MIN, KWS_INT8_MIN, KWS_INT8_MAX);
            } else {
                out[c] = KWS_INT8_MIN;
            }
        }
    }
}
