/*
 * A group of channels of the 3x3 stride-1 depthwise convolution (full-range fast requantisation)
 * as one assembly loop: two adjacent outputs per pass along a plane row, 31 instructions for 18
 * MACs and two requantised stores, two passes per loop iteration (the C loop took about 45 and
 * spilled); each channel's weight pairs, K and bias are set up in the assembly too.
 *
 * Per window row one LDRD reads A = (x0, x1) and C = (x2, x3) (word-aligned: planes are word
 * aligned, the stride is even and the pair starts at an even column); with W01 = (a, b) and
 * W12 = (b, c) that row's weights, out0 += A.W01 (SMLAD) + x2 c (SMLABT C, W12) and
 * out1 += C.W12 (SMLAD) + x1 a (SMLATB A, W01): 1 load + 4 MACs per row, the nine weights in six
 * registers. The plane stride is a compile-time immediate (16, 32, 64 or 128 halfwords, the
 * kernel rounds the plane width up to one), so the three rows need no extra pointers. The loop
 * count lives in bits 8 and up of the register holding e - 1: ASR by a register uses its low byte
 * only. Only kws_depthwise_conv_s8_opt.c includes this file.
 */
#ifndef KWS_DW3X3_PAIRS_OPT_H
#define KWS_DW3X3_PAIRS_OPT_H

#include <stdint.h>

#include "kws_dsp.h"
#include "kws_requant_opt.h"

#if KWS_HAVE_DSP

/** PKHBT a, b, LSL #16: (low half of a, low half of b). */
static inline uint32_t kws_pkhbt16(uint32_t a, uint32_t b)
{
#if defined(KWS_DSP_EMULATE)
    return (a & 0xFFFFu) | (b << 16);
#else
    uint32_t r;
    __asm("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
#endif
}

/** PKHTB b, a, ASR #16: (high half of a, high half of b). */
static inline uint32_t kws_pkhtb16(uint32_t a, uint32_t b)
{
#if defined(KWS_DSP_EMULATE)
    return (a >> 16) | (b & 0xFFFF0000u);
#else
    uint32_t r;
    __asm("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
#endif
}

/** Writes 4 bytes to any address (one STR on Armv7E-M, which allows unaligned word stores). */
static inline void kws_write_u32(void *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
}

/** Arguments of a group of channels; the layout is the assembly's stack frame (it copies all 21
 * words), the fields marked "per channel" are filled by the assembly itself. */
typedef struct {
    uint32_t k_lo;            /* per channel: kws_rq K */
    int32_t k_hi;
    int32_t bias;             /* per channel */
    int32_t out_col;          /* bytes from one output to the next along a plane row */
    int32_t in_adv;           /* bytes from a row's last output pair to the next row's first */
    int32_t out_adv;          /* bytes from a row's last out0 of a pair to the next row's first output */
    int32_t rows_left;        /* per channel */
    int32_t rows;             /* output rows, >= 1 */
    int32_t count_shift;      /* per channel: count_base | (e - 1) */
    int32_t odd;              /* 1 when a row ends with a single output */
    int32_t pairs_odd;        /* 1 when a row has an odd number of output pairs (>= 1 pairs) */
    int32_t channels;         /* >= 1 */
    const int16_t *plane;     /* channel 0's plane row 0, word aligned */
    int8_t *out;              /* channel 0's output (0, 0) */
    const int8_t *w;          /* channel 0's weight (0, 0) of the plane orientation */
    int32_t w_col, w_row;     /* weight steps along a plane row and from one to the next */
    const kws_rq *rq;         /* channel 0's requantisation */
    const int32_t *bias_p;    /* channel 0's bias */
    int32_t plane_bytes;      /* from one channel's plane to the next */
    int32_t count_base;       /* (loop iterations per row - 1) << 8, two pairs an iteration */
} kws_dw3_args;

#if defined(KWS_DSP_EMULATE)
/* The portable twin of the assembly below: same operands, same order. */
static void kws_dw3_pairs(const kws_dw3_args *a, int32_t stride)
{
    (void)stride;
    const int32_t pairs = 2 * ((a->count_base >> 8) + 1) - a->pairs_odd;
    for (int32_t k = 0; k < a->channels; ++k) {
        const kws_rq *rq = &a->rq[k];
        uint32_t w[6];
        for (int32_t r = 0; r < 3; ++r) {
            const int8_t *wr = a->w + k + r * a->w_row;
            w[2 * r] = kws_pkhbt16((uint32_t)(int32_t)wr[0], (uint32_t)(int32_t)wr[a->w_col]);
            w[2 * r + 1] = kws_pkhbt16((uint32_t)(int32_t)wr[a->w_col], (uint32_t)(int32_t)wr[2 * a->w_col]);
        }
        const int16_t *in = (const int16_t *)(const void *)((const uint8_t *)a->plane + k * a->plane_bytes);
        int8_t *out = a->out + k;
        for (int32_t y = 0; y < a->rows; ++y) {
            for (int32_t p = 0; p < pairs + a->odd; ++p) {
                int32_t acc0 = a->bias_p[k], acc1 = a->bias_p[k];
                for (int32_t r = 0; r < 3; ++r) {
                    const uint32_t x01 = kws_read_u32(in + r * stride), x23 = kws_read_u32(in + r * stride + 2);
                    acc1 = __smlatb(x01, w[2 * r], __smlad(x23, w[2 * r + 1], acc1));
                    acc0 = __smlabt(x23, w[2 * r + 1], __smlad(x01, w[2 * r], acc0));
                }
                out[0] = (int8_t)__ssat(kws_rq_apply(acc0, rq), 8);
                if (p < pairs) { /* the single last output does not step */
                    out[a->out_col] = (int8_t)__ssat(kws_rq_apply(acc1, rq), 8);
                    in += 2;
                    out += 2 * a->out_col;
                }
            }
            in = (const int16_t *)(const void *)((const uint8_t *)in + a->in_adv);
            out += a->out_adv;
        }
    }
}
#else
#define KWS_DW3_STR_(x) #x
#define KWS_DW3_STR(x) KWS_DW3_STR_(x)

/* Adds the window row at ADDR (an LDRD address) to out0 (r2) and out1 (r3) with the weight pair
 * registers W01, W12: r0 = (x0, x1), r1 = (x2, x3). */
#define KWS_DW3_ROW(ADDR, W01, W12)         \
    "ldrd   r0, r1, " ADDR "\n\t"           \
    "smlad  r3, r1, " W12 ", r3\n\t"        \
    "smlad  r2, r0, " W01 ", r2\n\t"        \
    "smlabt r2, r1, " W12 ", r2\n\t"        \
    "smlatb r3, r0, " W01 ", r3\n\t"

/* Requantises ACC with K at [sp], m in r12, e - 1 in the low byte of lr; the result is in r1. */
#define KWS_DW3_RQ(ACC)                     \
    "ldrd   r0, r1, [sp]\n\t"               \
    "smlal  r0, r1, " ACC ", r12\n\t"       \
    "bic    " ACC ", " ACC ", r0\n\t"       \
    "add    r1, r1, " ACC ", asr #31\n\t"   \
    "asr    r1, r1, lr\n\t"                 \
    "ssat   r1, #8, r1\n\t"

/* Packs window row (w0, w1, w2) at r0, r0 + r10, r0 + 2 r10 into W01 = (w0, w1), W12 = (w1, w2);
 * T is scratch (or W12's register of the next row). */
#define KWS_DW3_WEIGHTS(W01, W12, T)        \
    "ldrsb  " W01 ", [r0]\n\t"              \
    "ldrsb  " W12 ", [r0, r10]\n\t"         \
    "ldrsb  " T ", [r0, r10, lsl #1]\n\t"   \
    "pkhbt  " W01 ", " W01 ", " W12 ", lsl #16\n\t" \
    "pkhbt  " W12 ", " W12 ", " T ", lsl #16\n\t"

/* One pass: out0 (r2, starting at the bias) and out1 (r3) of the pair at r10, stored at r11 and
 * r11 + out_col; steps r10 and r11 to the next pair and reloads the bias into r2. */
#define KWS_DW3_PASS(S)                                                                           \
    "ldrd   r0, r1, [r10, #" KWS_DW3_STR(2 * S) "]\n\t"                                           \
    "smlad  r3, r1, r7, r2\n\t"                                                                   \
    "smlad  r2, r0, r6, r2\n\t"                                                                   \
    "smlabt r2, r1, r7, r2\n\t"                                                                   \
    "smlatb r3, r0, r6, r3\n\t"                                                                   \
    KWS_DW3_ROW("[r10, #" KWS_DW3_STR(4 * S) "]", "r8", "r9")                                    \
    KWS_DW3_ROW("[r10], #4", "r4", "r5")                                                          \
    KWS_DW3_RQ("r2")                                                                              \
    "strb   r1, [r11]\n\t"                                                                        \
    KWS_DW3_RQ("r3")                                                                              \
    "ldrd   r2, r3, [sp, #8]\n\t" /* bias for the next pass, out_col */                           \
    "strb   r1, [r11, r3]\n\t"                                                                    \
    "add    r11, r11, r3, lsl #1\n\t"

/*
 * Registers: r0, r1 data / requantisation, r2, r3 out0, out1, r4..r9 the weight pairs, r10 the
 * pair's plane row 0, r11 its out0, r12 m, lr count and e - 1. Stack: the kws_dw3_args copy. The
 * first pass of a row starts out1 from out0 = bias (r3 = bias + ... before r2 changes).
 */
#define KWS_DW3_DEFINE(S)                                                                         \
    __attribute__((naked, noinline)) static void kws_dw3_pairs_##S(const kws_dw3_args *a)         \
    {                                                                                             \
        (void)a;                                                                                  \
        __asm__ volatile(                                                                         \
            "push   {r4-r11, lr}\n\t"                                                             \
            "sub    sp, sp, #88\n\t"                                                              \
            "ldmia  r0!, {r1-r8}\n\t"                                                             \
            "stmia  sp, {r1-r8}\n\t"                                                              \
            "ldmia  r0!, {r1-r8}\n\t"                                                             \
            "add    r9, sp, #32\n\t"                                                              \
            "stmia  r9, {r1-r8}\n\t"                                                              \
            "ldmia  r0, {r1-r5}\n\t"                                                              \
            "add    r9, sp, #64\n\t"                                                              \
            "stmia  r9, {r1-r5}\n\t"                                                              \
            "5:\n\t" /* a channel: K, e, bias, the weight pairs */                                 \
            "ldr    r0, [sp, #68]\n\t"                                                            \
            "ldmia  r0!, {r1, r2, r12, lr}\n\t"                                                   \
            "str    r0, [sp, #68]\n\t"                                                            \
            "strd   r1, r2, [sp]\n\t"                                                             \
            "ldr    r1, [sp, #80]\n\t"                                                            \
            "orr    r1, r1, lr\n\t"                                                               \
            "str    r1, [sp, #32]\n\t"                                                            \
            "ldr    r0, [sp, #72]\n\t"                                                            \
            "ldr    r2, [r0], #4\n\t"                                                             \
            "str    r0, [sp, #72]\n\t"                                                            \
            "str    r2, [sp, #8]\n\t"                                                             \
            "ldr    r0, [sp, #56]\n\t"                                                            \
            "ldrd   r10, r11, [sp, #60]\n\t"                                                      \
            "adds   r1, r0, #1\n\t"                                                               \
            "str    r1, [sp, #56]\n\t"                                                            \
            KWS_DW3_WEIGHTS("r4", "r5", "r6")                                                     \
            "add    r0, r0, r11\n\t"                                                              \
            KWS_DW3_WEIGHTS("r6", "r7", "r8")                                                     \
            "add    r0, r0, r11\n\t"                                                              \
            KWS_DW3_WEIGHTS("r8", "r9", "r1")                                                     \
            "ldrd   r10, r11, [sp, #48]\n\t"                                                      \
            "ldr    r0, [sp, #28]\n\t"                                                            \
            "str    r0, [sp, #24]\n\t"                                                            \
            "0:\n\t"                                                                              \
            "ldr    lr, [sp, #32]\n\t"                                                            \
            "ldr    r0, [sp, #40]\n\t"                                                            \
            "cbnz   r0, 3f\n\t" /* an odd pair count enters at the second pair */                 \
            "1:\n\t"                                                                              \
            KWS_DW3_PASS(S)                                                                       \
            "3:\n\t"                                                                              \
            KWS_DW3_PASS(S)                                                                       \
            "subs   lr, lr, #256\n\t"                                                             \
            "bpl    1b\n\t"                                                                       \
            "ldr    r0, [sp, #36]\n\t"                                                            \
            "cbz    r0, 2f\n\t"                                                                   \
            /* A single last output: out0 only. */                                                \
            "ldrd   r0, r1, [r10, #" KWS_DW3_STR(2 * S) "]\n\t"                                   \
            "smlad  r2, r0, r6, r2\n\t"                                                           \
            "smlabt r2, r1, r7, r2\n\t"                                                           \
            "ldrd   r0, r1, [r10, #" KWS_DW3_STR(4 * S) "]\n\t"                                   \
            "smlad  r2, r0, r8, r2\n\t"                                                           \
            "smlabt r2, r1, r9, r2\n\t"                                                           \
            "ldrd   r0, r1, [r10]\n\t"                                                            \
            "smlad  r2, r0, r4, r2\n\t"                                                           \
            "smlabt r2, r1, r5, r2\n\t"                                                           \
            KWS_DW3_RQ("r2")                                                                      \
            "strb   r1, [r11]\n\t"                                                                \
            "ldr    r2, [sp, #8]\n\t"                                                             \
            "2:\n\t"                                                                              \
            "ldrd   r0, r1, [sp, #16]\n\t"                                                        \
            "add    r10, r10, r0\n\t"                                                             \
            "add    r11, r11, r1\n\t"                                                             \
            "ldr    r0, [sp, #24]\n\t"                                                            \
            "subs   r0, r0, #1\n\t"                                                               \
            "str    r0, [sp, #24]\n\t"                                                            \
            "bne    0b\n\t"                                                                       \
            "ldrd   r10, r11, [sp, #48]\n\t" /* the next channel's plane and output */             \
            "ldr    r0, [sp, #76]\n\t"                                                            \
            "add    r10, r10, r0\n\t"                                                             \
            "add    r11, r11, #1\n\t"                                                             \
            "strd   r10, r11, [sp, #48]\n\t"                                                      \
            "ldr    r0, [sp, #44]\n\t"                                                            \
            "subs   r0, r0, #1\n\t"                                                               \
            "str    r0, [sp, #44]\n\t"                                                            \
            "bne    5b\n\t"                                                                       \
            "add    sp, sp, #88\n\t"                                                              \
            "pop    {r4-r11, pc}\n\t");                                                           \
    }

KWS_DW3_DEFINE(16)
KWS_DW3_DEFINE(32)
KWS_DW3_DEFINE(64)
KWS_DW3_DEFINE(128)

/** Runs the variant for plane stride `stride` (16, 32, 64 or 128 halfwords). */
static void kws_dw3_pairs(const kws_dw3_args *a, int32_t stride)
{
    switch (stride) {
    case 16:
        kws_dw3_pairs_16(a);
        break;
    case 32:
        kws_dw3_pairs_32(a);
        break;
    case 64:
        kws_dw3_pairs_64(a);
        break;
    default:
        kws_dw3_pairs_128(a);
        break;
    }
}
#undef KWS_DW3_DEFINE
#undef KWS_DW3_PASS
#undef KWS_DW3_WEIGHTS
#undef KWS_DW3_ROW
#undef KWS_DW3_RQ
#undef KWS_DW3_STR
#undef KWS_DW3_STR_
#endif

#endif /* KWS_HAVE_DSP */

#endif /* KWS_DW3X3_PAIRS_OPT_H */
