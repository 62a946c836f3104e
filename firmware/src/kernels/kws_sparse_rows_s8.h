/*
 * Inner loops of the sparse kernels (kws_sparse_s8.c): every row of a sparse filter over one column
 * of widened input, for a tile of 4 pixels (BLOCK), a pair or one pixel, per format. Each walks the
 * whole filter with its pointers in registers and writes each row's sums (bias included) to `sums`,
 * [rows][pixels of the tile]; the requantisation runs afterwards over all of them. On cores with the
 * DSP extension the hot loops are Arm assembly; their C twins run in the host builds.
 *
 * Column layouts (int16 values, input offset added):
 * - pair, per tap (ELEMENT, NM): word k = (x_p0[k], x_p1[k]);
 * - pair, per group of 4 taps (BLOCK): (p0[0], p0[2]), (p0[1], p0[3]), (p1[0], p1[2]), (p1[1], p1[3]);
 * - 4 pixels, per group (BLOCK): the pair layout of p0, p1 then of p2, p3 (8 words a group);
 * - single, per tap: halfword k = x[k];
 * - single, per group: (x[0], x[2]), (x[1], x[3]).
 * Two kept weights at taps i, j form the SMLAD operand (x[i], x[j]) by one PKHBT (PKHTB for the
 * second pixel) from two loads.
 */
#ifndef KWS_SPARSE_ROWS_S8_H
#define KWS_SPARSE_ROWS_S8_H

#include <stdint.h>

#include "kws_dsp.h"
#if !KWS_HAVE_DSP
#include "kws_dsp_emul.h"
#define KWS_SP_SXTB16_ROR8(x) __sxtb16(kws_ror((x), 8))
#else
#define KWS_SP_SXTB16_ROR8(x) kws_sxtb16_ror8(x)
#endif
#include "kws_sparse_s8.h"

/* (lo(a), lo(b)) and (hi(a), hi(b)): PKHBT and PKHTB on Arm. */
static inline uint32_t kws_sp_pack_lo(uint32_t a, uint32_t b)
{
    return (a & 0xFFFFu) | (b << 16);
}

static inline uint32_t kws_sp_pack_hi(uint32_t a, uint32_t b)
{
    return (a >> 16) | (b & 0xFFFF0000u);
}

/* One quad of kept weights (w = four bytes (z0, z2, z1, z3)) at taps i0..i3 of a pair column. */
#define KWS_SP_QUAD_PAIR(w, x0, x1, x2, x3, a0, a1)                 \
    do {                                                            \
        const uint32_t w01_ = __sxtb16(w), w23_ = KWS_SP_SXTB16_ROR8(w); \
        a0 = __smlad(w01_, kws_sp_pack_lo((x0), (x1)), a0);         \
        a1 = __smlad(w01_, kws_sp_pack_hi((x0), (x1)), a1);         \
        a0 = __smlad(w23_, kws_sp_pack_lo((x2), (x3)), a0);         \
        a1 = __smlad(w23_, kws_sp_pack_hi((x2), (x3)), a1);         \
    } while (0)

/* The same on a single column of int16 taps. */
#define KWS_SP_QUAD_SINGLE(w, x0, x1, x2, x3, a0)                          \
    do {                                                                   \
        const uint32_t w01_ = __sxtb16(w), w23_ = KWS_SP_SXTB16_ROR8(w);   \
        a0 = __smlad(w01_, kws_sp_pack_lo((uint16_t)(x0), (uint32_t)(x1)), a0); \
        a0 = __smlad(w23_, kws_sp_pack_lo((uint16_t)(x2), (uint32_t)(x3)), a0); \
    } while (0)

#if KWS_HAVE_DSP && !defined(KWS_DSP_EMULATE)
/* A pair of kept weights (`pair` a SXTB16 of the weight word) whose column words `load_x`, `load_y`
 * fetch: 5 instructions for 4 MACs after the loads. */
#define KWS_SP_KEPT_PAIR(load_x, load_y, pair)                  \
    load_x load_y pair                                          \
    "pkhbt  %[t], %[x], %[y], lsl #16\n\t"                      \
    "smlad  %[a0], %[p], %[t], %[a0]\n\t"                       \
    "pkhtb  %[t], %[y], %[x], asr #16\n\t"                      \
    "smlad  %[a1], %[p], %[t], %[a1]\n\t"
/* ELEMENT: the column pointer walks to each kept tap (uint8 steps); NM: offsets from the quad's
 * base, the column pointer moving on by a quad's span. */
#define KWS_SP_ELEMENT_LOAD(reg)                      \
    "ldrb   %[i], [%[ix]], #1\n\t"                    \
    "add    %[col], %[col], %[i], lsl #2\n\t"         \
    "ldr    %[" reg "], [%[col]]\n\t"
#define KWS_SP_NM_LOAD(reg)                           \
    "ldrb   %[i], [%[ix]], #1\n\t"                    \
    "ldr    %[" reg "], [%[col], %[i], lsl #2]\n\t"
#define KWS_SP_ELEMENT_QUAD                                                                                \
    "ldr    %[w], [%[v]], #4\n\t"                                                                          \
    KWS_SP_KEPT_PAIR(KWS_SP_ELEMENT_LOAD("x"), KWS_SP_ELEMENT_LOAD("y"), "sxtb16 %[p], %[w]\n\t")          \
    KWS_SP_KEPT_PAIR(KWS_SP_ELEMENT_LOAD("x"), KWS_SP_ELEMENT_LOAD("y"), "sxtb16 %[p], %[w], ror #8\n\t")
#define KWS_SP_NM_QUAD                                                                                     \
    "ldr    %[w], [%[v]], #4\n\t"                                                                          \
    KWS_SP_KEPT_PAIR(KWS_SP_NM_LOAD("x"), KWS_SP_NM_LOAD("y"), "sxtb16 %[p], %[w]\n\t")                    \
    KWS_SP_KEPT_PAIR(KWS_SP_NM_LOAD("x"), KWS_SP_NM_LOAD("y"), "sxtb16 %[p], %[w], ror #8\n\t")           \
    "add    %[col], %[col], %[span]\n\t"
#define KWS_SP_QUAD_LOOP(body, acc0, acc1, idx, vals, cols, step, count)                                      \
    do {                                                                                          \
        uint32_t w_, p_, i_, x_, y_, t_;                                                           \
        __asm__ volatile("1:\n\t" body "subs   %[n], %[n], #1\n\t"                                \
                         "bne    1b\n\t"                                                          \
                         : [a0] "+r"(acc0), [a1] "+r"(acc1), [ix] "+r"(idx), [v] "+r"(vals), [col] "+r"(cols), \
                           [n] "+r"(count), [w] "=&r"(w_), [p] "=&r"(p_), [i] "=&r"(i_),            \
                           [x] "=&r"(x_), [y] "=&r"(y_), [t] "=&r"(t_)                              \
                         : [span] "r"(step)                                                       \
                         : "cc", "memory");                                                       \
    } while (0)
#endif

static inline void kws_sp_element_pair(const kws_sparse_filter *f, int32_t rows, const uint32_t *col,
                                       const int32_t *bias, int32_t *sums)
{
    const uint8_t *ix = f->offsets;
    const uint16_t *units = f->row_units;
    const int8_t *v = f->values;
    for (int32_t row = 0; row < rows; ++row) {
        int32_t a0 = bias ? bias[row] : 0, a1 = a0;
        int32_t q = units[row];
        const uint32_t *c = col;
#if KWS_HAVE_DSP && !defined(KWS_DSP_EMULATE)
        if (q > 0) {
            KWS_SP_QUAD_LOOP(KWS_SP_ELEMENT_QUAD, a0, a1, ix, v, c, 0, q);
        }
#else
        for (; q > 0; --q, ix += 4, v += 4) {
            const uint32_t *c0 = c + ix[0], *c1 = c0 + ix[1], *c2 = c1 + ix[2];
            c = c2 + ix[3];
            KWS_SP_QUAD_PAIR(kws_read_u32(v), *c0, *c1, *c2, *c, a0, a1);
        }
#endif
        sums[2 * row] = a0;
        sums[2 * row + 1] = a1;
    }
}

static inline void kws_sp_element_single(const kws_sparse_filter *f, int32_t rows, const int16_t *col,
                                         const int32_t *bias, int32_t *sums)
{
    const uint8_t *ix = f->offsets;
    const uint16_t *units = f->row_units;
    const int8_t *v = f->values;
    for (int32_t row = 0; row < rows; ++row) {
        int32_t a0 = bias ? bias[row] : 0;
        const int16_t *c = col;
        for (int32_t q = units[row]; q > 0; --q, ix += 4, v += 4) {
            const int16_t *c0 = c + ix[0], *c1 = c0 + ix[1], *c2 = c1 + ix[2];
            c = c2 + ix[3];
            KWS_SP_QUAD_SINGLE(kws_read_u32(v), *c0, *c1, *c2, *c, a0);
        }
        sums[row] = a0;
    }
}

/* NM: quads = kept-weight quads per row, quad bases `span` = 4M / N taps apart. */
static inline void kws_sp_nm_pair(const kws_sparse_filter *f, int32_t rows, int32_t quads, int32_t span,
                                  const uint32_t *col, const int32_t *bias, int32_t *sums)
{
    const uint8_t *o = f->offsets;
    const int8_t *v = f->values;
    for (int32_t row = 0; row < rows; ++row) {
        int32_t a0 = bias ? bias[row] : 0, a1 = a0;
        const uint32_t *c = col;
#if KWS_HAVE_DSP && !defined(KWS_DSP_EMULATE)
        int32_t q = quads;
        KWS_SP_QUAD_LOOP(KWS_SP_NM_QUAD, a0, a1, o, v, c, span * 4, q);
#else
        for (int32_t q = quads; q > 0; --q, o += 4, v += 4, c += span) {
            KWS_SP_QUAD_PAIR(kws_read_u32(v), c[o[0]], c[o[1]], c[o[2]], c[o[3]], a0, a1);
        }
#endif
        sums[2 * row] = a0;
        sums[2 * row + 1] = a1;
    }
}

static inline void kws_sp_nm_single(const kws_sparse_filter *f, int32_t rows, int32_t quads, int32_t span,
                                    const int16_t *col, const int32_t *bias, int32_t *sums)
{
    const uint8_t *o = f->offsets;
    const int8_t *v = f->values;
    for (int32_t row = 0; row < rows; ++row) {
        int32_t a0 = bias ? bias[row] : 0;
        const int16_t *c = col;
        for (int32_t q = quads; q > 0; --q, o += 4, v += 4, c += span) {
            KWS_SP_QUAD_SINGLE(kws_read_u32(v), c[o[0]], c[o[1]], c[o[2]], c[o[3]], a0);
        }
        sums[row] = a0;
    }
}

static inline void kws_sp_block_pair(const kws_sparse_filter *f, int32_t rows, const uint32_t *col,
                                     const int32_t *bias, int32_t *sums)
{
    const uint16_t *ix = f->index, *units = f->row_units;
    const int8_t *v = f->values;
    for (int32_t row = 0; row < rows; ++row) {
        int32_t a0 = bias ? bias[row] : 0, a1 = a0;
        for (int32_t b = units[row]; b > 0; --b, v += 4) {
            const uint32_t w = kws_read_u32(v), we = __sxtb16(w), wo = KWS_SP_SXTB16_ROR8(w);
            const uint32_t *c = col + 4 * *ix++;
            a0 = __smlad(wo, c[1], __smlad(we, c[0], a0));
            a1 = __smlad(wo, c[3], __smlad(we, c[2], a1));
        }
        sums[2 * row] = a0;
        sums[2 * row + 1] = a1;
    }
}

#if KWS_HAVE_DSP && !defined(KWS_DSP_EMULATE)
/* `n` blocks (n >= 1) of one row over a 4-pixel column: 15 instructions for 16 MACs plus the
 * index and weight loads, written out because GCC spills and re-shifts in this loop. */
#define KWS_SP_BLOCK_QUAD_LOOP(a, ix, v, col, n)                                                      \
    do {                                                                                           \
        uint32_t g_, w_, t_, x0_, x1_;                                                             \
        __asm__ volatile("1:\n\t"                                                                  \
                         "ldrh   %[g], [%[ix]], #2\n\t"                                            \
                         "ldr    %[w], [%[v]], #4\n\t"                                             \
                         "add    %[g], %[col], %[g], lsl #5\n\t"                                   \
                         "sxtb16 %[t], %[w]\n\t"                                                   \
                         "sxtb16 %[w], %[w], ror #8\n\t"                                           \
                         "ldrd   %[x0], %[x1], [%[g]]\n\t"                                         \
                         "smlad  %[a0], %[t], %[x0], %[a0]\n\t"                                    \
                         "smlad  %[a0], %[w], %[x1], %[a0]\n\t"                                    \
                         "ldrd   %[x0], %[x1], [%[g], #8]\n\t"                                     \
                         "smlad  %[a1], %[t], %[x0], %[a1]\n\t"                                    \
                         "smlad  %[a1], %[w], %[x1], %[a1]\n\t"                                    \
                         "ldrd   %[x0], %[x1], [%[g], #16]\n\t"                                    \
                         "smlad  %[a2], %[t], %[x0], %[a2]\n\t"                                    \
                         "smlad  %[a2], %[w], %[x1], %[a2]\n\t"                                    \
                         "ldrd   %[x0], %[x1], [%[g], #24]\n\t"                                    \
                         "smlad  %[a3], %[t], %[x0], %[a3]\n\t"                                    \
                         "smlad  %[a3], %[w], %[x1], %[a3]\n\t"                                    \
                         "subs   %[n], %[n], #1\n\t"                                               \
                         "bne    1b\n\t"                                                           \
                         : [a0] "+r"(a[0]), [a1] "+r"(a[1]), [a2] "+r"(a[2]), [a3] "+r"(a[3]),      \
                           [ix] "+r"(ix), [v] "+r"(v), [n] "+r"(n), [g] "=&r"(g_), [w] "=&r"(w_),   \
                           [t] "=&r"(t_), [x0] "=&r"(x0_), [x1] "=&r"(x1_)                          \
                         : [col] "r"(col)                                                          \
                         : "cc", "memory");                                                        \
    } while (0)
#else
#define KWS_SP_BLOCK_QUAD_LOOP(a, ix, v, col, n)                                                   \
    do {                                                                                        \
        for (; n > 0; --n, v += 4) {                                                            \
            const uint32_t w_ = kws_read_u32(v), we_ = __sxtb16(w_), wo_ = KWS_SP_SXTB16_ROR8(w_); \
            const uint32_t *c_ = (col) + 8 * *ix++;                                              \
            for (int32_t i_ = 0; i_ < 4; ++i_) {                                                \
                a[i_] = __smlad(wo_, c_[2 * i_ + 1], __smlad(we_, c_[2 * i_], a[i_]));          \
            }                                                                                   \
        }                                                                                       \
    } while (0)
#endif

/* BLOCK over a 4-pixel column: sums [rows][4]. */
static inline void kws_sp_block_quad(const kws_sparse_filter *f, int32_t rows, const uint32_t *col,
                                     const int32_t *bias, int32_t *sums)
{
    const uint16_t *ix = f->index, *units = f->row_units;
    const int8_t *v = f->values;
    for (int32_t row = 0; row < rows; ++row, sums += 4) {
        const int32_t b = bias ? bias[row] : 0;
        int32_t a[4] = {b, b, b, b};
        int32_t n = units[row];
        if (n > 0) {
            KWS_SP_BLOCK_QUAD_LOOP(a, ix, v, col, n);
        }
        sums[0] = a[0], sums[1] = a[1], sums[2] = a[2], sums[3] = a[3];
    }
}

#if KWS_HAVE_DSP && !defined(KWS_DSP_EMULATE)
/* One block over a single column: 10 instructions for 4 MACs with the loop. */
#define KWS_SP_BLOCK_ONE                           \
    "ldrh   %[g], [%[ix]], #2\n\t"                 \
    "ldr    %[w], [%[v]], #4\n\t"                  \
    "add    %[g], %[col], %[g], lsl #3\n\t"        \
    "ldrd   %[x0], %[x1], [%[g]]\n\t"              \
    "sxtb16 %[t], %[w]\n\t"                        \
    "sxtb16 %[w], %[w], ror #8\n\t"                \
    "smlad  %[a], %[t], %[x0], %[a]\n\t"           \
    "smlad  %[a], %[w], %[x1], %[a]\n\t"
#define KWS_SP_BLOCK_SINGLE_LOOP(body, acc, ix, v, col, count)                                               \
    do {                                                                                            \
        uint32_t g_, w_, t_, x0_, x1_;                                                              \
        __asm__ volatile("1:\n\t" body "subs   %[n], %[n], #1\n\t"                                  \
                         "bne    1b\n\t"                                                            \
                         : [a] "+r"(acc), [ix] "+r"(ix), [v] "+r"(v), [n] "+r"(count), [g] "=&r"(g_),      \
                           [w] "=&r"(w_), [t] "=&r"(t_), [x0] "=&r"(x0_), [x1] "=&r"(x1_)            \
                         : [col] "r"(col)                                                           \
                         : "cc", "memory");                                                         \
    } while (0)
#endif

/* BLOCK over a single column (per group words (x0, x2), (x1, x3)): sums [rows]. */
static inline void kws_sp_block_single(const kws_sparse_filter *f, int32_t rows, const uint32_t *col,
                                       const int32_t *bias, int32_t *sums)
{
    const uint16_t *ix = f->index, *units = f->row_units;
    const int8_t *v = f->values;
    for (int32_t row = 0; row < rows; ++row) {
        int32_t a0 = bias ? bias[row] : 0;
        const int32_t n = units[row];
#if KWS_HAVE_DSP && !defined(KWS_DSP_EMULATE)
        int32_t pairs = n >> 1, rest = n & 1;
        if (pairs > 0) {
            KWS_SP_BLOCK_SINGLE_LOOP(KWS_SP_BLOCK_ONE KWS_SP_BLOCK_ONE, a0, ix, v, col, pairs);
        }
        if (rest > 0) {
            KWS_SP_BLOCK_SINGLE_LOOP(KWS_SP_BLOCK_ONE, a0, ix, v, col, rest);
        }
#else
        for (int32_t b = n; b > 0; --b, v += 4) {
            const uint32_t w = kws_read_u32(v);
            const uint32_t *c = col + 2 * *ix++;
            a0 = __smlad(KWS_SP_SXTB16_ROR8(w), c[1], __smlad(__sxtb16(w), c[0], a0));
        }
#endif
        sums[row] = a0;
    }
}

#endif /* KWS_SPARSE_ROWS_S8_H */
