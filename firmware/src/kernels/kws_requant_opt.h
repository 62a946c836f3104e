/*
 * Output stage of the optimised kernels: TFLite's per-channel requantisation plus the output zero
 * point in about six instructions per output (SMLAL, BIC, ADD, ASR, SSAT) instead of the
 * reference's fifteen or so.
 *
 * With P = x * M (M in [2^30, 2^31)) and a right shift e >= 1, the reference's
 * RoundingDivideByPOT(SRDHM(x, M), e) + offset equals
 *     floor((P + K - [x < 0] * 2^31) / 2^(31 + e)),   K = 2^30 + 2^(30 + e) + offset * 2^(31 + e)
 * (see kws_requant_fast() in kws_nn_utils.h for the first two terms; adding offset * 2^(31 + e)
 * inside the floor adds exactly `offset`). Since 31 + e >= 32, the sign term only borrows from the
 * high word: with hi:lo = P + K, floor((hi:lo - [x < 0] 2^31) / 2^32) = hi - [x < 0 and lo < 2^31],
 * which is hi + ((x & ~lo) >> 31) with an arithmetic shift; the result is that >> (e - 1).
 * Channels with a left shift, e = 0 or e > 23 (where K would not fit in 64 bits) are "slow" and the
 * kernels requantise them with kws_requantize() instead, unless their weights are all zero (a pruned
 * channel: its output is a constant, see kws_rq_init_channels()).
 */
#ifndef KWS_REQUANT_OPT_H
#define KWS_REQUANT_OPT_H

#include <stdint.h>

#include "kws_dsp.h"
#include "kws_nn_utils.h"

#if KWS_HAVE_DSP

/** Per-channel constants of kws_rq_apply(); 16 bytes so one LDM fetches them. */
typedef struct {
    uint32_t k_lo;  /**< Low word of K. */
    int32_t k_hi;   /**< High word of K. */
    int32_t multiplier;
    int32_t shift_m1; /**< e - 1, the final arithmetic right shift. */
} kws_rq;

/**
 * Fills `out` for one channel; returns 0 (leaving `out` unusable) for a slow channel.
 * @param[in] multiplier, shift  The channel's TFLite requantisation (kws_quantize_multiplier()).
 * @param[in] out_offset         The output zero point, folded into K.
 */
static inline int kws_rq_init(int32_t multiplier, int32_t shift, int32_t out_offset, kws_rq *out)
{
    const int32_t e = -shift;
    if (multiplier < (1 << 30) || e < 1 || e > 23) {
        return 0;
    }
    const int64_t k = ((int64_t)1 << 30) + ((int64_t)1 << (30 + e)) + (int64_t)out_offset * ((int64_t)1 << (31 + e));
    out->k_lo = (uint32_t)(uint64_t)k;
    out->k_hi = (int32_t)(k >> 32);
    out->multiplier = multiplier;
    out->shift_m1 = e - 1;
    return 1;
}

/** kws_requantize(x, multiplier, shift) + out_offset for a channel kws_rq_init() accepted. */
static inline int32_t kws_rq_apply(int32_t x, const kws_rq *p)
{
    const int64_t k = (int64_t)(((uint64_t)(uint32_t)p->k_hi << 32) | p->k_lo);
    const int64_t acc = k + (int64_t)x * p->multiplier; /* one SMLAL */
    const uint32_t lo = (uint32_t)acc;
    /* The borrow of subtracting 2^31 from lo when x < 0 (arithmetic shift: -1 or 0). */
    const int32_t hi = (int32_t)(acc >> 32) + ((int32_t)((uint32_t)x & ~lo) >> 31);
    return hi >> p->shift_m1;
}

/** Clamp to the activation range; `full_range` (range is [-128, 127]) makes it one SSAT. */
static inline int8_t kws_rq_clamp(int32_t y, int full_range, int32_t act_min, int32_t act_max)
{
    if (full_range) {
        return (int8_t)__ssat(y, 8);
    }
    return (int8_t)KWS_CLAMP(y, act_min, act_max);
}

/**
 * *out = SSAT8(kws_rq_apply(x, p)) with p->multiplier and p->shift_m1 passed in registers by the
 * caller (loop-invariant), p->k_lo/k_hi fetched by one LDRD: seven instructions on Arm.
 */
static inline void kws_rq_store_full_range(int32_t x, const kws_rq *p, int32_t multiplier, int32_t shift_m1,
                                           int8_t *out)
{
#if defined(KWS_DSP_EMULATE)
    (void)multiplier;
    (void)shift_m1;
    *out = (int8_t)__ssat(kws_rq_apply(x, p), 8);
#else
    uint32_t lo;
    int32_t hi;
    __asm__("ldrd   %[lo], %[hi], [%[p]]\n\t"
            "smlal  %[lo], %[hi], %[x], %[m]\n\t"
            "bic    %[x], %[x], %[lo]\n\t"
            "add    %[hi], %[hi], %[x], asr #31\n\t"
            "asr    %[hi], %[hi], %[e]\n\t"
            "ssat   %[hi], #8, %[hi]\n\t"
            "strb   %[hi], %[out]\n\t"
            : [lo] "=&r"(lo), [hi] "=&r"(hi), [x] "+r"(x), [out] "=m"(*out)
            : [p] "r"(p), "m"(*p), [m] "r"(multiplier), [e] "r"(shift_m1));
#endif
}

/**
 * Constants that make kws_rq_apply() return `value` whatever x: multiplier 0 leaves K, whose low
 * word of ones makes the borrow term 0 and whose high word is `value`, shifted by 0.
 */
static inline void kws_rq_init_constant(int32_t value, kws_rq *out)
{
    out->k_lo = 0xFFFFFFFFu;
    out->k_hi = value;
    out->multiplier = 0;
    out->shift_m1 = 0;
}

/** Whether the `taps` weights of a channel, `step` bytes apart, are all zero. */
static inline int kws_rq_zero_channel(const int8_t *w, int32_t taps, int32_t step)
{
    for (int32_t t = 0; t < taps; ++t, w += step) {
        if (*w) {
            return 0;
        }
    }
    return 1;
}

/**
 * Prepares the constants of `channels` channels; returns 1 when every channel is fast, else 0 (then
 * the caller requantises with kws_requantize() for the whole layer).
 *
 * A pruned channel whose weights are all zero gets a tiny scale from the converter (about 4e-9),
 * so a right shift beyond 23 that kws_rq_init() refuses; its accumulator is its bias whatever the
 * input, so it becomes the constant kws_requantize(bias) + out_offset instead, and the layer stays
 * fast. Channel c's weight t is filter[c * channel_step + t * tap_step]; bias may be NULL.
 */
static inline int kws_rq_init_channels(const int32_t *multiplier, const int32_t *shift, int32_t channels,
                                       int32_t out_offset, const int8_t *filter, int32_t taps,
                                       int32_t channel_step, int32_t tap_step, const int32_t *bias, kws_rq *out)
{
    for (int32_t c = 0; c < channels; ++c) {
        if (kws_rq_init(multiplier[c], shift[c], out_offset, &out[c])) {
            continue;
        }
        if (!kws_rq_zero_channel(filter + c * channel_step, taps, tap_step)) {
            return 0;
        }
        kws_rq_init_constant(kws_requantize(bias ? bias[c] : 0, multiplier[c], shift[c]) + out_offset, &out[c]);
    }
    return 1;
}

/** Output stages of the optimised kernels, chosen once per layer. */
enum { OUT_GENERIC, OUT_FAST_CLAMP, OUT_FAST_FULL_RANGE };

/** Per-channel output stage of the convolutions. */
typedef struct {
    const kws_rq *rq;                             /* per channel, for the fast stages */
    const kws_nn_per_channel_quant_params *quant; /* for OUT_GENERIC */
    int32_t out_offset, act_min, act_max;
    int mode;
} kws_rq_output;

/** Channel c's int8 output for accumulator acc (bias included). */
static inline int8_t kws_rq_finish(int32_t acc, const kws_rq_output *o, int32_t c)
{
    if (o->mode == OUT_GENERIC) {
        acc = kws_requantize(acc, o->quant->multiplier[c], o->quant->shift[c]) + o->out_offset;
        return (int8_t)KWS_CLAMP(acc, o->act_min, o->act_max);
    }
    return kws_rq_clamp(kws_rq_apply(acc, &o->rq[c]), o->mode == OUT_FAST_FULL_RANGE, o->act_min, o->act_max);
}

#endif /* KWS_HAVE_DSP */

#endif /* KWS_REQUANT_OPT_H */
