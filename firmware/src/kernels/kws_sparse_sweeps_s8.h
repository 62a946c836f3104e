/*
 * Weight-prioritised sweeps of the sparse kernels (kws_sparse_s8.c): kept weights, decoded once,
 * applied to every pixel pair of the layer. The scratch holds one record per pixel pair, `record`
 * bytes apart: the pair's two sums (int32) then its per-tap or per-group pair column
 * (kws_sparse_rows_s8.h), so one pointer walks sums and columns together. On cores with the DSP
 * extension the sweeps are Arm assembly; their C twins run in the host builds.
 */
#ifndef KWS_SPARSE_SWEEPS_S8_H
#define KWS_SPARSE_SWEEPS_S8_H

#include <stdint.h>

#include "kws_sparse_rows_s8.h"

/* Bytes from a record's start to its column. */
#define KWS_SP_RECORD_HEAD 8

/* A quad of kept weights (pairs w01, w23) at column bytes o0..o3 of each record (head included). */
static inline void kws_sp_sweep_quad(uint8_t *rec, int32_t record, int32_t pairs, uint32_t w01, uint32_t w23,
                                     int32_t o0, int32_t o1, int32_t o2, int32_t o3)
{
#if KWS_HAVE_DSP && !defined(KWS_DSP_EMULATE)
    uint32_t x, y, t;
    int32_t s0, s1;
    /* 17 instructions for 8 MACs; all 14 registers. */
    __asm__ volatile("1:\n\t"
                     "ldr    %[x], [%[r], %[o0]]\n\t"
                     "ldr    %[y], [%[r], %[o1]]\n\t"
                     "ldrd   %[s0], %[s1], [%[r]]\n\t"
                     "pkhbt  %[t], %[x], %[y], lsl #16\n\t"
                     "smlad  %[s0], %[w01], %[t], %[s0]\n\t"
                     "pkhtb  %[t], %[y], %[x], asr #16\n\t"
                     "smlad  %[s1], %[w01], %[t], %[s1]\n\t"
                     "ldr    %[x], [%[r], %[o2]]\n\t"
                     "ldr    %[y], [%[r], %[o3]]\n\t"
                     "pkhbt  %[t], %[x], %[y], lsl #16\n\t"
                     "smlad  %[s0], %[w23], %[t], %[s0]\n\t"
                     "pkhtb  %[t], %[y], %[x], asr #16\n\t"
                     "smlad  %[s1], %[w23], %[t], %[s1]\n\t"
                     "strd   %[s0], %[s1], [%[r]]\n\t"
                     "add    %[r], %[r], %[record]\n\t"
                     "subs   %[n], %[n], #1\n\t"
                     "bne    1b\n\t"
                     : [r] "+r"(rec), [n] "+r"(pairs), [x] "=&r"(x), [y] "=&r"(y), [t] "=&r"(t), [s0] "=&r"(s0),
                       [s1] "=&r"(s1)
                     : [record] "r"(record), [w01] "r"(w01), [w23] "r"(w23), [o0] "r"(o0), [o1] "r"(o1),
                       [o2] "r"(o2), [o3] "r"(o3)
                     : "cc", "memory");
#else
    for (; pairs > 0; --pairs, rec += record) {
        int32_t *s = (int32_t *)rec;
        const uint32_t x0 = kws_read_u32(rec + o0), x1 = kws_read_u32(rec + o1);
        const uint32_t x2 = kws_read_u32(rec + o2), x3 = kws_read_u32(rec + o3);
        s[0] = __smlad(w23, kws_sp_pack_lo(x2, x3), __smlad(w01, kws_sp_pack_lo(x0, x1), s[0]));
        s[1] = __smlad(w23, kws_sp_pack_hi(x2, x3), __smlad(w01, kws_sp_pack_hi(x0, x1), s[1]));
    }
#endif
}

/* One block (we, wo) at column bytes g of each record, over per-group pair columns. */
static inline void kws_sp_sweep_block(uint8_t *rec, int32_t record, int32_t pairs, uint32_t we, uint32_t wo,
                                      int32_t g)
{
    for (; pairs > 0; --pairs, rec += record) {
        int32_t *s = (int32_t *)rec;
        const uint32_t *c = (const uint32_t *)(rec + g);
        s[0] = __smlad(wo, c[1], __smlad(we, c[0], s[0]));
        s[1] = __smlad(wo, c[3], __smlad(we, c[2], s[1]));
    }
}

/* Two blocks ((we0, wo0) at column bytes g0, (we1, wo1) at g1) over every record. */
static inline void kws_sp_sweep_two_blocks(uint8_t *rec, int32_t record, int32_t pairs, uint32_t we0, uint32_t wo0,
                                           int32_t g0, uint32_t we1, uint32_t wo1, int32_t g1)
{
#if KWS_HAVE_DSP && !defined(KWS_DSP_EMULATE)
    const uint8_t *c0 = rec + g0, *c1 = rec + g1;
    uint32_t x, y;
    int32_t s0, s1;
    /* 19 instructions for 16 MACs. */
    __asm__ volatile("1:\n\t"
                     "ldrd   %[s0], %[s1], [%[r]]\n\t"
                     "ldrd   %[x], %[y], [%[c0]]\n\t"
                     "smlad  %[s0], %[we0], %[x], %[s0]\n\t"
                     "smlad  %[s0], %[wo0], %[y], %[s0]\n\t"
                     "ldrd   %[x], %[y], [%[c0], #8]\n\t"
                     "smlad  %[s1], %[we0], %[x], %[s1]\n\t"
                     "smlad  %[s1], %[wo0], %[y], %[s1]\n\t"
                     "ldrd   %[x], %[y], [%[c1]]\n\t"
                     "smlad  %[s0], %[we1], %[x], %[s0]\n\t"
                     "smlad  %[s0], %[wo1], %[y], %[s0]\n\t"
                     "ldrd   %[x], %[y], [%[c1], #8]\n\t"
                     "smlad  %[s1], %[we1], %[x], %[s1]\n\t"
                     "smlad  %[s1], %[wo1], %[y], %[s1]\n\t"
                     "strd   %[s0], %[s1], [%[r]]\n\t"
                     "add    %[r], %[r], %[record]\n\t"
                     "add    %[c0], %[c0], %[record]\n\t"
                     "add    %[c1], %[c1], %[record]\n\t"
                     "subs   %[n], %[n], #1\n\t"
                     "bne    1b\n\t"
                     : [r] "+r"(rec), [c0] "+r"(c0), [c1] "+r"(c1), [n] "+r"(pairs), [x] "=&r"(x), [y] "=&r"(y),
                       [s0] "=&r"(s0), [s1] "=&r"(s1)
                     : [record] "r"(record), [we0] "r"(we0), [wo0] "r"(wo0), [we1] "r"(we1), [wo1] "r"(wo1)
                     : "cc", "memory");
#else
    kws_sp_sweep_block(rec, record, pairs, we0, wo0, g0);
    kws_sp_sweep_block(rec, record, pairs, we1, wo1, g1);
#endif
}

#endif /* KWS_SPARSE_SWEEPS_S8_H */
