/*
 * Selects the Cortex-M DSP-extension intrinsics the *_opt kernels use (SXTB16, SXTAB16, SMLAD, ROR):
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

/** Reads 4 bytes from any address (one LDR on Armv7E-M, which allows unaligned word loads). */
static inline uint32_t kws_read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

#endif /* KWS_DSP_H */
