/*
 * The convolution's whole channel loop for two pixels in one assembly block (full-range fast
 * requantisation, taps a multiple of 8): per pair of channels 16 instructions per 4 taps x 2
 * channels x 2 pixels, then 30 for the four requantised outputs and 9 of bookkeeping, against
 * about 40 when the loop was C around smaller asm blocks (the compiler spilled the pointers).
 *
 * Per channel pair the asm walks one 40-byte record (bias and both channels' kws_rq), so a single
 * pointer and one LDRD per block carry everything a channel needs. Only kws_convolve_s8_opt.c
 * includes this file.
 */
#ifndef KWS_CONV_PAIRS_OPT_H
#define KWS_CONV_PAIRS_OPT_H

#include <stdint.h>

#include "kws_dsp.h"
#include "kws_requant_opt.h"

#if KWS_HAVE_DSP

/** Channels c, c + 1 of the fast path: biases then both channels' requantisation constants. */
typedef struct {
    int32_t bias[2];
    kws_rq rq[2];
} kws_conv_pair_rec;

/** Arguments of conv_pairs_asm(); the order is the assembly's (it copies the first words by LDM). */
typedef struct {
    const kws_conv_pair_rec *rec; /* first record; one readable record must follow the last */
    int8_t *out0, *out1;          /* channel 0 of the two pixels */
    int32_t pairs;                /* channel pairs, >= 1 */
    int32_t group_pairs;          /* taps / 8, >= 1 */
    const uint32_t *columns;      /* the two pixels' interleaved int16 columns */
    const int8_t *filter;         /* weight row of channel 0 */
    int32_t taps;
} kws_conv_pairs_args;

/** Fills the records of `pairs` channel pairs from the bias (NULL: 0) and kws_rq constants. */
static inline void kws_conv_pair_recs_init(const int32_t *bias, const kws_rq *rq, int32_t pairs,
                                           kws_conv_pair_rec *rec)
{
    for (int32_t k = 0; k < pairs; ++k) {
        rec[k].bias[0] = bias ? bias[2 * k] : 0;
        rec[k].bias[1] = bias ? bias[2 * k + 1] : 0;
        rec[k].rq[0] = rq[2 * k];
        rec[k].rq[1] = rq[2 * k + 1];
    }
}

#if defined(KWS_DSP_EMULATE)
/* The portable twin of the assembly below: same records, same column layout, same order. */
static void conv_pairs_asm(const kws_conv_pairs_args *a)
{
    const kws_conv_pair_rec *rec = a->rec;
    const int8_t *row0 = a->filter;
    int8_t *out0 = a->out0, *out1 = a->out1;
    for (int32_t k = 0; k < a->pairs; ++k, ++rec, row0 += 2 * a->taps) {
        int32_t a00 = rec->bias[0], a01 = a00, a10 = rec->bias[1], a11 = a10;
        const uint32_t *cw = a->columns;
        const int8_t *r0 = row0;
        for (int32_t g = 0; g < 2 * a->group_pairs; ++g, r0 += 4, cw += 4) {
            const uint32_t w0 = kws_read_u32(r0), w1 = kws_read_u32(r0 + a->taps);
            const uint32_t w0e = __sxtb16(w0), w0o = kws_sxtb16_ror8(w0);
            const uint32_t w1e = __sxtb16(w1), w1o = kws_sxtb16_ror8(w1);
            a00 = __smlad(w0o, cw[1], __smlad(w0e, cw[0], a00));
            a10 = __smlad(w1o, cw[1], __smlad(w1e, cw[0], a10));
            a01 = __smlad(w0o, cw[3], __smlad(w0e, cw[2], a01));
            a11 = __smlad(w1o, cw[3], __smlad(w1e, cw[2], a11));
        }
        *out0++ = (int8_t)__ssat(kws_rq_apply(a00, &rec->rq[0]), 8);
        *out1++ = (int8_t)__ssat(kws_rq_apply(a01, &rec->rq[0]), 8);
        *out0++ = (int8_t)__ssat(kws_rq_apply(a10, &rec->rq[1]), 8);
        *out1++ = (int8_t)__ssat(kws_rq_apply(a11, &rec->rq[1]), 8);
    }
}
#else
/* One group of 4 taps for 2 weight rows x 2 columns: 16 instructions for 16 MACs.
 * r12 weight row c (row c + 1 is lr bytes on), r7 the columns, r8..r11 the accumulators a00, a01,
 * a10, a11 (row, column), r0..r5 scratch. */
#define KWS_CONV_PAIRS_GROUP         \
    "ldr    r1, [r12, lr]\n\t"       \
    "ldr    r0, [r12], #4\n\t"       \
    "ldrd   r4, r5, [r7], #8\n\t"    \
    "sxtb16 r2, r0\n\t"              \
    "sxtb16 r0, r0, ror #8\n\t"      \
    "sxtb16 r3, r1\n\t"              \
    "sxtb16 r1, r1, ror #8\n\t"      \
    "smlad  r8, r2, r4, r8\n\t"      \
    "smlad  r8, r0, r5, r8\n\t"      \
    "smlad  r10, r3, r4, r10\n\t"    \
    "smlad  r10, r1, r5, r10\n\t"    \
    "ldrd   r4, r5, [r7], #8\n\t"    \
    "smlad  r9, r2, r4, r9\n\t"      \
    "smlad  r9, r0, r5, r9\n\t"      \
    "smlad  r11, r3, r4, r11\n\t"    \
    "smlad  r11, r1, r5, r11\n\t"

/* Requantises accumulator ACC with the constants at [r4, #KOFF] (m, e - 1 in r0, r1), stores the
 * byte at [OUT] and steps OUT: kws_rq_store_full_range() with fixed registers. */
#define KWS_CONV_PAIRS_RQ(ACC, KOFF, OUT)           \
    "ldrd   r2, r3, [r4, #" KOFF "]\n\t"            \
    "smlal  r2, r3, " ACC ", r0\n\t"                \
    "bic    " ACC ", " ACC ", r2\n\t"               \
    "add    r3, r3, " ACC ", asr #31\n\t"           \
    "asr    r3, r3, r1\n\t"                         \
    "ssat   r3, #8, r3\n\t"                         \
    "strb   r3, [" OUT "], #1\n\t"

/* Stack frame: [sp] record, out0, out1, pairs left (reloaded by one LDM per block), [sp, #16]
 * group pairs, columns (one LDRD). */
__attribute__((naked, noinline)) static void conv_pairs_asm(const kws_conv_pairs_args *a)
{
    (void)a;
    __asm__ volatile(
        "push   {r4-r11, lr}\n\t"
        "sub    sp, sp, #24\n\t"
        "ldm    r0, {r4, r5, r6, r7}\n\t"
        "stm    sp, {r4, r5, r6, r7}\n\t"
        "ldrd   r6, r7, [r0, #16]\n\t"
        "strd   r6, r7, [sp, #16]\n\t"
        "ldr    r12, [r0, #24]\n\t"
        "ldr    lr, [r0, #28]\n\t"
        "ldrd   r8, r10, [r4]\n\t"
        "mov    r9, r8\n\t"
        "mov    r11, r10\n\t"
        "1:\n\t"
        "2:\n\t" KWS_CONV_PAIRS_GROUP KWS_CONV_PAIRS_GROUP
        "subs   r6, r6, #1\n\t"
        "bne    2b\n\t"
        "ldm    sp, {r4, r5, r6, r7}\n\t"
        "add    r12, r12, lr\n\t" /* skip weight row c + 1 */
        "ldrd   r0, r1, [r4, #16]\n\t" KWS_CONV_PAIRS_RQ("r8", "8", "r5") KWS_CONV_PAIRS_RQ("r9", "8", "r6")
        "ldrd   r0, r1, [r4, #32]\n\t" KWS_CONV_PAIRS_RQ("r10", "24", "r5") KWS_CONV_PAIRS_RQ("r11", "24", "r6")
        "ldrd   r8, r10, [r4, #40]!\n\t" /* next pair's biases */
        "mov    r9, r8\n\t"
        "mov    r11, r10\n\t"
        "subs   r7, r7, #1\n\t"
        "stm    sp, {r4, r5, r6, r7}\n\t"
        "ldrd   r6, r7, [sp, #16]\n\t"
        "bne    1b\n\t"
        "add    sp, sp, #24\n\t"
        "pop    {r4-r11, pc}\n\t");
}
#undef KWS_CONV_PAIRS_GROUP
#undef KWS_CONV_PAIRS_RQ
#endif

#endif /* KWS_HAVE_DSP */

#endif /* KWS_CONV_PAIRS_OPT_H */
