/*
 * gemmlowp fixed-point transcendental functions as TFLite's quantised softmax, logistic and tanh
 * use them (gemmlowp/fixedpoint/fixedpoint.h semantics). A Qm value has m integer bits and 31 - m
 * fractional bits in an int32; products are SaturatingRoundingDoublingHighMul (kws_srdhm).
 */
#ifndef KWS_FIXEDPOINT_H
#define KWS_FIXEDPOINT_H

#include "kws_nn_utils.h"

/* exp(a) for a in [-1/4, 0) in Q0: Taylor expansion around -1/8. */
static inline int32_t kws_fp_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668;    /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    const int32_t x = a + (1 << 28);             /* a + 1/8 */
    const int32_t x2 = kws_srdhm(x, x);
    const int32_t x3 = kws_srdhm(x2, x);
    const int32_t x4 = kws_srdhm(x2, x2);
    const int32_t x4_over_4 = kws_rounding_divide_by_pot(x4, 2);
    const int32_t poly = kws_rounding_divide_by_pot(kws_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + kws_srdhm(constant_term, x + poly);
}

/* exp(a) for a <= 0 given in Q(integer_bits), integer_bits in [1, 5]; result in Q0. */
static inline int32_t kws_fp_exp_on_negative_values(int32_t a, int32_t integer_bits)
{
    const int32_t fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = 1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = kws_fp_exp_on_interval_between_negative_one_quarter_and_0_excl(
        kws_saturating_left_shift(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    /* Barrel shifter: multiply by exp(-2^k) for each set bit 2^k (k = -2 .. integer_bits - 1). */
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535,   720401,     242};
    for (int32_t k = 0; k < integer_bits + 2; ++k) {
        if (remainder & (1 << (fractional_bits - 2 + k))) {
            result = kws_srdhm(result, multipliers[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* Newton-Raphson reciprocal shared by 1/(1+x) and (1-x)/(1+x): returns 1/(1+a) in Q2. */
static inline int32_t kws_fp_reciprocal_one_plus_x_q2(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2); /* RoundingHalfSum */
    int32_t x = 1515870810 + kws_srdhm(half_denominator, -1010580540);         /* 48/17 - 32/17 d */
    for (int i = 0; i < 3; ++i) {
        const int32_t one_minus_half_denominator_times_x = (1 << 29) - kws_srdhm(half_denominator, x);
        x = x + kws_saturating_left_shift(kws_srdhm(x, one_minus_half_denominator_times_x), 2);
    }
    return x;
}

/* 1 / (1 + a) for a in [0, 1), Q0 in and out. */
static inline int32_t kws_fp_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    return kws_saturating_left_shift(kws_fp_reciprocal_one_plus_x_q2(a), 1);
}

/* (1 - a) / (1 + a) for a in (0, 1), Q0 in and out. */
static inline int32_t kws_fp_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    return kws_saturating_left_shift(kws_fp_reciprocal_one_plus_x_q2(a) - (1 << 29), 2);
}

/* Wrapping negation, as gemmlowp's unary minus on raw int32. */
static inline int32_t kws_fp_neg(int32_t a)
{
    return (int32_t)(0u - (uint32_t)a);
}

/* logistic(a) for a in Q(integer_bits); result in Q0. */
static inline int32_t kws_fp_logistic(int32_t a, int32_t integer_bits)
{
    if (a == 0) {
        return 1 << 30;
    }
    const int32_t abs_a = a > 0 ? a : kws_fp_neg(a);
    const int32_t positive = kws_fp_one_over_one_plus_x_for_x_in_0_1(
        kws_fp_exp_on_negative_values(kws_fp_neg(abs_a), integer_bits));
    return a > 0 ? positive : INT32_MAX - positive;
}

/* tanh(a) for a in Q(integer_bits); result in Q0. */
static inline int32_t kws_fp_tanh(int32_t a, int32_t integer_bits)
{
    if (a == 0) {
        return 0;
    }
    const int32_t n = a < 0 ? a : kws_fp_neg(a);
    /* exp(2n): the same raw value read with one more integer bit. */
    const int32_t t = kws_fp_one_minus_x_over_one_plus_x_for_x_in_0_1(kws_fp_exp_on_negative_values(n, integer_bits + 1));
    return a < 0 ? kws_fp_neg(t) : t;
}

#endif /* KWS_FIXEDPOINT_H */
