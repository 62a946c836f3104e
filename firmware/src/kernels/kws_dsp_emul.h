/*
 * Portable C versions of the Arm ACLE DSP intrinsics the optimised kernels use, so the host test
 * build runs the very same optimised code paths (selected by KWS_DSP_EMULATE in kws_dsp.h).
 * Semantics from the Armv7-M Architecture Reference Manual (SXTB16, SXTAB16, SMLAD, SMLAxy, SSAT).
 */
#ifndef KWS_DSP_EMUL_H
#define KWS_DSP_EMUL_H

#include <stdint.h>

static inline uint32_t kws_emul_halves(int32_t lo, int32_t hi)
{
    return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}

static inline int32_t kws_emul_lo(uint32_t x)
{
    return (int16_t)(x & 0xFFFFu);
}

static inline int32_t kws_emul_hi(uint32_t x)
{
    return (int16_t)(x >> 16);
}

/** SXTB16: sign-extend bytes 0 and 2 to the two halfwords. */
static inline uint32_t __sxtb16(uint32_t x)
{
    return kws_emul_halves((int8_t)(x & 0xFF), (int8_t)((x >> 16) & 0xFF));
}

/** SXTAB16: add bytes 0 and 2 of b, sign-extended, to the halfwords of a (each modulo 2^16). */
static inline uint32_t __sxtab16(uint32_t a, uint32_t b)
{
    return kws_emul_halves(kws_emul_lo(a) + (int8_t)(b & 0xFF), kws_emul_hi(a) + (int8_t)((b >> 16) & 0xFF));
}

/** SMLAD: acc + lo(a) * lo(b) + hi(a) * hi(b), wrapping like the 32-bit hardware sum. */
static inline int32_t __smlad(uint32_t a, uint32_t b, int32_t acc)
{
    const uint32_t sum = (uint32_t)acc + (uint32_t)(kws_emul_lo(a) * kws_emul_lo(b)) +
                         (uint32_t)(kws_emul_hi(a) * kws_emul_hi(b));
    return (int32_t)sum;
}

/** SSAT: saturate to a signed `bits`-bit range (1..32). */
static inline int32_t __ssat(int32_t x, uint32_t bits)
{
    const int32_t hi = (int32_t)((1LL << (bits - 1)) - 1), lo = -hi - 1;
    return x > hi ? hi : (x < lo ? lo : x);
}

/** SMLABB / SMLABT / SMLATB / SMLATT: acc + one 16 x 16 product of the chosen halves (B = low). */
static inline int32_t __smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kws_emul_lo(a) * kws_emul_lo(b)));
}

static inline int32_t __smlabt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kws_emul_lo(a) * kws_emul_hi(b)));
}

static inline int32_t __smlatb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kws_emul_hi(a) * kws_emul_lo(b)));
}

static inline int32_t __smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(kws_emul_hi(a) * kws_emul_hi(b)));
}

#endif /* KWS_DSP_EMUL_H */
