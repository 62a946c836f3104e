/*
 * Selects the Cortex-M DSP-extension intrinsics the *_opt kernels use (SXTB16, SXTAB16, SMLAD):
 * the compiler's arm_acle.h on cores with __ARM_FEATURE_DSP (M4, M7, M33, ...), the portable C
 * emulation in kws_dsp_emul.h when KWS_DSP_EMULATE is defined (host tests), otherwise none, and
 * then KWS_HAVE_DSP is 0 and the *_opt kernels call the reference kernels.
 */
#ifndef KWS_DSP_H
#define KWS_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(KWS_DSP_EMULATE)
#include "kws_dsp_emul.h"
#define KWS_HAVE_DSP 1
#elif defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define KWS_HAVE_DSP 1
#else
#define KWS_HAVE_DSP 0
#endif

/** Rotate right by n in 1..31 (compilers emit ROR, which SXTB16 can fold in as its ROR #8). */
static inline uint32_t kws_ror(uint32_t x, uint32_t n)
{
    return (x >> n) | (x << (32 - n));
}

#if KWS_HAVE_DSP
/** SXTB16 of x rotated right by 8: bytes 1 and 3 sign-extended to the halfwords. GCC does not fold
 * the rotation into SXTB16 by itself, so on Arm this is the single instruction written out. */
static inline uint32_t kws_sxtb16_ror8(uint32_t x)
{
#if defined(KWS_DSP_EMULATE)
    return __sxtb16(kws_ror(x, 8));
#else
    uint32_t r;
    __asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
#endif
}

/** SXTAB16 of x rotated right by 8 added to the halfwords of a (one instruction on Arm). */
static inline uint32_t kws_sxtab16_ror8(uint32_t a, uint32_t x)
{
#if defined(KWS_DSP_EMULATE)
    return __sxtab16(a, kws_ror(x, 8));
#else
    uint32_t r;
    __asm("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
#endif
}

#endif /* KWS_HAVE_DSP */

/** Reads 4 bytes from any address (one LDR on Armv7E-M, which allows unaligned word loads). */
static inline uint32_t kws_read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

#endif /* KWS_DSP_H */
