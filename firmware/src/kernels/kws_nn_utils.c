/* Quantisation helpers: TFLite's QuantizeMultiplier and the requantisation constants. */
#include "kws_nn_utils.h"

#include <math.h>

void kws_quantize_multiplier(double scale, int32_t *multiplier, int32_t *shift)
{
    if (scale == 0.0) {
        *multiplier = 0;
        *shift = 0;
        return;
    }
    int exponent = 0;
    const double fraction = frexp(scale, &exponent); /* scale = fraction * 2^exponent, fraction in [0.5, 1) */
    int64_t q_fixed = (int64_t)round(fraction * (double)(1LL << 31));
    if (q_fixed == (1LL << 31)) { /* rounding reached 1.0: renormalise */
        q_fixed /= 2;
        ++exponent;
    }
    if (exponent < -31) { /* below what a Q31 multiplier with a 31-bit right shift can express */
        exponent = 0;
        q_fixed = 0;
    }
    *multiplier = (int32_t)q_fixed;
    *shift = exponent;
}

int32_t kws_requantize_s64(int64_t x, int32_t multiplier, int32_t shift)
{
    /* TFLite's int64 overload: a 16-bit reduced multiplier and one rounding step. */
    const int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int32_t total_shift = 15 - shift;
    const int64_t result = x * (int64_t)reduced + ((int64_t)1 << (total_shift - 1));
    return (int32_t)(result >> total_shift);
}

int kws_requant_fast_init(int32_t multiplier, int32_t shift, kws_requant_fast_params *out)
{
    const int32_t right_shift = shift > 0 ? 0 : -shift;
    if (multiplier < (1 << 30) || right_shift > 31) {
        return 0;
    }
    out->multiplier = multiplier;
    out->left_shift = shift > 0 ? shift : 0;
    out->total_shift = 31 + right_shift;
    if (right_shift == 0) {
        out->round_pos = (int64_t)1 << 30;
        out->round_neg = (int64_t)1 << 30;
    } else {
        out->round_pos = ((int64_t)1 << 30) + ((int64_t)1 << (30 + right_shift));
        out->round_neg = out->round_pos - ((int64_t)1 << 31);
    }
    return 1;
}
