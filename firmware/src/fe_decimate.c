#include "fe_decimate.h"

#include <string.h>

#if KWS_FE_DECIMATION == 2
#define TAPS KWS_FE_DEC_TAPS
#define PAIRS KWS_FE_DEC_PAIRS

static inline int16_t sat16(int32_t v)
{
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

#if defined(__ARM_FEATURE_DSP) && !defined(KWS_FE_PORTABLE_C) && TAPS == 23 && KWS_FE_DEC_CENTRE_TAP == 16384
#define KWS_FE_DEC_ASM 1
/* Two outputs per step with SMLAD (two 16-bit products per instruction), 39 instructions. With
 * E[m] = x[2m], O[m] = x[2m + 1] and g_p = h[2p]: y[i] = sum_p g_p E[i - p] + 2^14 O[i - 6]. For outputs
 * 2k and 2k + 1 the words W_q = (E[2k - 2q], E[2k - 2q + 1]), q = 0..6, are packed from the interleaved
 * samples (pkhbt); y[2k + 1] = sum_{q<6} W_q . (g_2q+1, g_2q) and y[2k] = sum_{q<=6} W_q . (g_2q, g_2q-1)
 * (g_-1 = g_12 = 0). The taps are symmetric (g_p = g_11-p), so the words past the middle are the
 * first ones swapped (smladx): taps[] = t0 t1 t2 u0 u1 u2 u3 with t_q = (g_2q+1, g_2q), u_q = (g_2q, g_2q-1).
 * The centre tap 2^14 is also the rounding constant: acc = 2^14 + O · 2^14 in one smlatb.
 * x (word aligned) is the first output's newest input, readable from x[-KWS_FE_DEC_BACK]; the pair goes
 * to y and y + KWS_FE_N_FFT. */
void kws_decimate_pairs(const int16_t *x, uint32_t n_pairs, int16_t *y, const int32_t *taps);
#define STR_(v) #v
#define STR(v) STR_(v)
__asm__(
    ".syntax unified\n\t.thumb\n\t.text\n\t.align 2\n\t.global kws_decimate_pairs\n\t.thumb_func\n"
    "kws_decimate_pairs:\n\t"
    "push {r4-r11, lr}\n\t"
    "ldm r3, {r4-r10}\n\t"
    "push {r4-r10}\n\t"               /* the taps at sp: t0 t1 t2 u0 u1 u2 u3 */
    "add r1, r2, r1, lsl #2\n\t"      /* end of y */
    "sub r0, r0, #24\n\t"             /* r0: word (x[-12], x[-11]) */
    "mov r3, #16384\n\t"
    "cmp r2, r1\n\t"
    "beq 2f\n"
    "1:\n\t"
    "ldm r0, {r4-r11}\n\t"            /* x[-12] .. x[3] */
    "smlatb r12, r4, r3, r3\n\t"      /* even = 2^14 + x[-11] 2^14 */
    "smlatb lr, r5, r3, r3\n\t"       /* odd = 2^14 + x[-9] 2^14 */
    "pkhbt r10, r10, r11, lsl #16\n\t" /* W0 = (x[0], x[2]) */
    "pkhbt r8, r8, r9, lsl #16\n\t"   /* W1 = (x[-4], x[-2]) */
    "pkhbt r6, r6, r7, lsl #16\n\t"   /* W2 */
    "pkhbt r4, r4, r5, lsl #16\n\t"   /* W3 = (x[-12], x[-10]) */
    "ldrd r5, r7, [sp, #0]\n\t"       /* t0, t1 */
    "smlad lr, r10, r5, lr\n\t"
    "smlad lr, r8, r7, lr\n\t"
    "ldrd r9, r11, [sp, #8]\n\t"      /* t2, u0 */
    "smlad lr, r6, r9, lr\n\t"
    "smladx lr, r4, r9, lr\n\t"       /* W3 . t5 = W3 x t2 */
    "smlad r12, r10, r11, r12\n\t"
    "ldrd r5, r7, [sp, #16]\n\t"      /* u1, u2 */
    "smlad r12, r8, r5, r12\n\t"
    "smlad r12, r6, r7, r12\n\t"
    "ldr r9, [sp, #24]\n\t"           /* u3 */
    "smlad r12, r4, r9, r12\n\t"
    "ldmdb r0, {r4-r9}\n\t"           /* x[-24] .. x[-13] */
    "pkhbt r8, r8, r9, lsl #16\n\t"   /* W4 = (x[-16], x[-14]) */
    "pkhbt r6, r6, r7, lsl #16\n\t"   /* W5 */
    "pkhbt r4, r4, r5, lsl #16\n\t"   /* W6 = (x[-24], x[-22]) */
    "ldrd r10, r11, [sp, #0]\n\t"     /* t0, t1 */
    "smladx lr, r8, r11, lr\n\t"      /* W4 . t4 = W4 x t1 */
    "smladx lr, r6, r10, lr\n\t"      /* W5 . t5 = W5 x t0 */
    "ldrd r10, r11, [sp, #12]\n\t"    /* u0, u1 */
    "smladx r12, r6, r11, r12\n\t"    /* W5 . u5 = W5 x u1 */
    "smladx r12, r4, r10, r12\n\t"    /* W6 . u6 = W6 x u0 */
    "ldr r10, [sp, #20]\n\t"          /* u2 */
    "smladx r12, r8, r10, r12\n\t"    /* W4 . u4 = W4 x u2 */
    "ssat r12, #16, r12, asr #15\n\t"
    "ssat lr, #16, lr, asr #15\n\t"
    "pkhbt r12, r12, lr, lsl #16\n\t"
    "str r12, [r2, #" STR(KWS_FE_N_FFT) " * 2]\n\t" /* unaligned stores are allowed on ARMv7E-M */
    "str r12, [r2], #4\n\t"
    "add r0, r0, #8\n\t"
    "cmp r2, r1\n\t"
    "bne 1b\n"
    "2:\n\t"
    "add sp, sp, #28\n\t"
    "pop {r4-r11, pc}\n");

static int32_t tap_pair(int lo, int hi)
{
    return (int32_t)((uint32_t)(uint16_t)lo | (uint32_t)(uint16_t)hi << 16);
}
#endif

void kws_decimate(const int16_t *x, uint32_t n_out, int16_t *y, int16_t *y2)
{
#ifdef KWS_FE_DEC_ASM
    /* the asm writes each pair to y and y + KWS_FE_N_FFT: the ring's halves, or (y2 == y) a buffer
     * whose later outputs overwrite the copies, with KWS_FE_N_FFT samples to spare */
    if (((uintptr_t)x & 3u) == 0 && (y2 == y || y2 == y + KWS_FE_N_FFT)) {
        const int16_t *g = kws_fe_dec_pair_taps; /* g_0 .. g_5; g_6 .. g_11 mirror them */
        const int32_t taps[7] = {tap_pair(g[1], g[0]), tap_pair(g[3], g[2]), tap_pair(g[5], g[4]), tap_pair(g[0], 0),
                                 tap_pair(g[2], g[1]), tap_pair(g[4], g[3]), tap_pair(g[5], g[5])};
        kws_decimate_pairs(x, n_out / 2, y, taps);
        x += 2 * (n_out & ~1u);
        y += n_out & ~1u;
        y2 += n_out & ~1u;
        n_out &= 1u;
    }
#endif
    for (uint32_t i = 0; i < n_out; i++, x += 2) {
        /* symmetric taps: the pair's two int16 inputs are added first (exact in 32 bits) */
        int32_t acc = (1 << 14) + KWS_FE_DEC_CENTRE_TAP * x[-(TAPS / 2)];
#pragma GCC unroll 8
        for (unsigned p = 0; p < PAIRS; p++) acc += kws_fe_dec_pair_taps[p] * (x[-2 * (int)p] + x[2 * (int)p - (TAPS - 1)]);
        y[i] = y2[i] = sat16(acc >> 15); /* >> of a negative int32: arithmetic on GCC, as numpy's */
    }
}

void kws_decimate_from_start(const int16_t *x, uint32_t n, int16_t *y)
{
    /* The first outputs reach back before x: from a copy behind zeros. */
    int16_t head[2 * KWS_FE_DEC_BACK] __attribute__((aligned(4))) = {0};
    uint32_t head_in = n < KWS_FE_DEC_BACK ? n : KWS_FE_DEC_BACK;
    memcpy(head + KWS_FE_DEC_BACK, x, head_in * sizeof *x);
    uint32_t head_out = (head_in + 1) / 2;
    kws_decimate(head + KWS_FE_DEC_BACK, head_out, y, y);
    kws_decimate(x + 2 * head_out, (n + 1) / 2 - head_out, y + head_out, y + head_out);
}
#endif
