/*
 * Fixed-point helpers shared by the kernels: TFLite's integer requantisation, written from its
 * documented semantics (tensorflow/lite/kernels/internal/common.h and gemmlowp's fixedpoint.h):
 * a Q31 multiplier applied with SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT
 * ("double rounding", TFLite's default build).
 */
#ifndef KWS_NN_UTILS_H
#define KWS_NN_UTILS_H

#include <stdint.h>

#include "kws_nn_types.h"

#define KWS_INT8_MIN (-128)
#define KWS_INT8_MAX 127
#define KWS_INT16_MIN (-32768)
#define KWS_INT16_MAX 32767

#define KWS_MAX(a, b) ((a) > (b) ? (a) : (b))
#define KWS_MIN(a, b) ((a) < (b) ? (a) : (b))
#define KWS_CLAMP(x, lo, hi) KWS_MIN(KWS_MAX((x), (lo)), (hi))

/**
 * Splits a positive real multiplier into a Q31 fixed-point multiplier and a power-of-two shift,
 * exactly as TFLite's QuantizeMultiplier: scale = multiplier * 2^(shift - 31).
 * @param[in]  scale       Real multiplier (>= 0).
 * @param[out] multiplier  Q31 multiplier in [2^30, 2^31), or 0 when scale is 0 or below 2^-32.
 * @param[out] shift       Left shift (> 0) or right shift (< 0).
 */
void kws_quantize_multiplier(double scale, int32_t *multiplier, int32_t *shift);

/** gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating INT32_MIN^2. */
static inline int32_t kws_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * b;
    const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    /* C division truncates toward zero, as the reference does. */
    return (int32_t)((ab + nudge) / (1LL << 31));
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero, exponent in [0, 31]. */
static inline int32_t kws_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((1LL << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** Saturating x * 2^exponent for exponent in [1, 31] (gemmlowp SaturatingRoundingMultiplyByPOT). */
static inline int32_t kws_saturating_left_shift(int32_t x, int32_t exponent)
{
    const int32_t threshold = (int32_t)((1LL << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/** TFLite MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31) with double rounding. */
static inline int32_t kws_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left_shift = shift > 0 ? shift : 0;
    const int32_t right_shift = shift > 0 ? 0 : -shift;
    /* The reference multiplies in int32 and relies on two's-complement wrap-around. */
    const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
    return kws_rounding_divide_by_pot(kws_srdhm(shifted, multiplier), right_shift);
}

/** TFLite MultiplyByQuantizedMultiplier for an int64 accumulator (16x8 kernels, int64 bias). */
int32_t kws_requantize_s64(int64_t x, int32_t multiplier, int32_t shift);

/**
 * Requantisation constants for the optimised kernels: kws_requantize() for multipliers in
 * [2^30, 2^31) as ONE 64-bit multiply-add and shift (see kws_requant_fast()).
 */
typedef struct {
    int64_t round_pos; /**< Rounding constant added when the accumulator is >= 0. */
    int64_t round_neg; /**< Rounding constant added when the accumulator is < 0. */
    int32_t multiplier;
    int32_t left_shift;  /**< Applied to the accumulator first (wrapping, like the reference). */
    int32_t total_shift; /**< 31 + right shift. */
} kws_requant_fast_params;

/**
 * Prepares kws_requant_fast(); returns 0 when the multiplier is outside [2^30, 2^31) or the right
 * shift above 31, where the caller must use kws_requantize().
 */
int kws_requant_fast_init(int32_t multiplier, int32_t shift, kws_requant_fast_params *out);

/**
 * Equals kws_requantize(x, multiplier, shift). Why it is exact: with P = x * M,
 * SRDHM = floor((P + 2^30) / 2^31) (the truncating division plus the sign-dependent nudge is a
 * floor), and the following round-half-away division by 2^e nests into one floor:
 * floor((P + 2^30 + 2^(30+e) - [x < 0] 2^31) / 2^(31+e)) for e >= 1. For M >= 2^30 the sign of the
 * SRDHM result is the sign of x (x = -1, M = 2^30 gives 0 either way).
 */
static inline int32_t kws_requant_fast(int32_t x, const kws_requant_fast_params *p)
{
    x = (int32_t)((uint32_t)x << p->left_shift);
    const int64_t acc = (int64_t)x * p->multiplier + (x < 0 ? p->round_neg : p->round_pos);
    return (int32_t)(acc >> p->total_shift);
}

#endif /* KWS_NN_UTILS_H */
