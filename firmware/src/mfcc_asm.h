/* The front end's inner loops in assembly for ARMv7E-M with an FPU that fuses multiply-adds
 * (Cortex-M4F, M7), included by mfcc.c: each complex value or row of coefficients moves with one
 * vldm/vstm (GCC loads and stores floats one by one) and the instruction counts per butterfly, bin
 * and row are in the comments (benchmarks/bench_fe_profile.py measures them). Every function is the
 * C beside its call in mfcc.c, operation for operation. */
#ifndef KWS_MFCC_ASM_H
#define KWS_MFCC_ASM_H

#include "mfcc.h"

#if defined(__ARM_ARCH_7EM__) && defined(__ARM_FEATURE_FMA) && !defined(KWS_FE_PORTABLE_C)
#define KWS_FE_ASM 1
#define FFT_CLOBBERS "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", \
                     "s13", "s14", "s15", "memory", "cc"
#endif

#ifdef KWS_FE_ASM
typedef kws_fe_cpx_t asm_cpx;

/* The radix-4 butterflies of one j in a stage of span L, from p to end by 4L: 42 instructions each
 * instead of 48. */
static inline __attribute__((always_inline)) void asm_radix4_butterflies(asm_cpx *p, asm_cpx *end, unsigned L,
                                                                         asm_cpx w1, asm_cpx w2, asm_cpx w3)
{
    asm_cpx *p1, *p2, *p3;
    __asm__ volatile(
        "1:\n\t"
        "add %[p1], %[p], %[l8]\n\t"
        "add %[p2], %[p1], %[l8]\n\t"
        "add %[p3], %[p2], %[l8]\n\t"
        "vldmia %[p], {s0-s1}\n\t"
        "vldmia %[p1], {s2-s3}\n\t"
        "vldmia %[p2], {s4-s5}\n\t"
        "vldmia %[p3], {s6-s7}\n\t"
        "vadd.f32 s8, s0, s4\n\t"   /* t0 = a + c */
        "vadd.f32 s9, s1, s5\n\t"
        "vsub.f32 s10, s0, s4\n\t"  /* t1 = a - c */
        "vsub.f32 s11, s1, s5\n\t"
        "vadd.f32 s12, s2, s6\n\t"  /* t2 = b + d */
        "vadd.f32 s13, s3, s7\n\t"
        "vsub.f32 s14, s2, s6\n\t"  /* t3 = b - d */
        "vsub.f32 s15, s3, s7\n\t"
        "vadd.f32 s0, s8, s12\n\t"  /* y0 = t0 + t2 */
        "vadd.f32 s1, s9, s13\n\t"
        "vsub.f32 s2, s8, s12\n\t"  /* y2 = t0 - t2 */
        "vsub.f32 s3, s9, s13\n\t"
        "vadd.f32 s4, s10, s15\n\t" /* y1 = t1 - i t3 */
        "vsub.f32 s5, s11, s14\n\t"
        "vsub.f32 s6, s10, s15\n\t" /* y3 = t1 + i t3 */
        "vadd.f32 s7, s11, s14\n\t"
        "vstmia %[p], {s0-s1}\n\t"
        "vmul.f32 s8, s4, %[w1r]\n\t"
        "vmul.f32 s9, s4, %[w1i]\n\t"
        "vfms.f32 s8, s5, %[w1i]\n\t"
        "vfma.f32 s9, s5, %[w1r]\n\t"
        "vstmia %[p1], {s8-s9}\n\t"
        "vmul.f32 s10, s2, %[w2r]\n\t"
        "vmul.f32 s11, s2, %[w2i]\n\t"
        "vfms.f32 s10, s3, %[w2i]\n\t"
        "vfma.f32 s11, s3, %[w2r]\n\t"
        "vstmia %[p2], {s10-s11}\n\t"
        "vmul.f32 s12, s6, %[w3r]\n\t"
        "vmul.f32 s13, s6, %[w3i]\n\t"
        "vfms.f32 s12, s7, %[w3i]\n\t"
        "vfma.f32 s13, s7, %[w3r]\n\t"
        "vstmia %[p3], {s12-s13}\n\t"
        "add %[p], %[p], %[step]\n\t"
        "cmp %[p], %[end]\n\t"
        "blo 1b"
        : [p] "+r"(p), [p1] "=&r"(p1), [p2] "=&r"(p2), [p3] "=&r"(p3)
        : [l8] "r"(8 * L), [step] "r"(32 * L), [end] "r"(end), [w1r] "t"(w1.re), [w1i] "t"(w1.im),
          [w2r] "t"(w2.re), [w2i] "t"(w2.im), [w3r] "t"(w3.re), [w3i] "t"(w3.im)
        : FFT_CLOBBERS);
}

#if KWS_FE_FFT_FIRST_RADIX == 8 && KWS_FE_FFT_FIRST_INPUTS == 5
/* Assembly for 5 inputs (the default 640-sample window): a butterfly's 10 window weights and 7
 * twiddles each come in one or two vldm; 132 instructions per butterfly instead of 168. */
#define LOAD(q, lo, hi) /* sample pair q as ints to floats in s<lo>, s<hi> */ \
    "ldrsh r4, [%[x], #" #q "*4*" S_STR "]\n\t"                            \
    "ldrsh r5, [%[x], #" #q "*4*" S_STR "+2]\n\t"                          \
    "vmov s" #lo ", s" #hi ", r4, r5\n\t"                                    \
    "vcvt.f32.s32 s" #lo ", s" #lo "\n\t"                                    \
    "vcvt.f32.s32 s" #hi ", s" #hi "\n\t"
/* z[n + q S] = (s<re>, s<im>) · (s<wr>, s<wi>), via s30 and s16; base register and its byte offset */
#define CMUL_STORE(re, im, wr, wi, base, off)               \
    "vmul.f32 s30, s" #re ", s" #wr "\n\t"                  \
    "vfms.f32 s30, s" #im ", s" #wi "\n\t"                  \
    "vmul.f32 s16, s" #re ", s" #wi "\n\t"                  \
    "vfma.f32 s16, s" #im ", s" #wr "\n\t"                  \
    "vstr s30, [%[" #base "], #" off "]\n\t"                \
    "vstr s16, [%[" #base "], #" off "+4]\n\t"
#define S_STR "64"
_Static_assert(KWS_FE_FFT_FIRST_SPAN == 64, "the assembly's offsets assume span 64");
#define KWS_FE_ASM_FIRST_8X5 1
static inline void asm_first_stage_8x5(const int16_t *x, asm_cpx *z)
{
    enum { S = KWS_FE_FFT_FIRST_SPAN };
    const float *w = kws_fe_first_window;
    const asm_cpx *tw = kws_fe_first_tw;
    /* three store bases, at outputs 1, 4 and 7 (vstr reaches +-1020 bytes) */
    asm_cpx *b1 = z + S, *b4 = z + 4 * S, *b7 = z + 7 * S;
    const int16_t *end = x + 2 * S;
    const float r = 0.70710678118654752f; /* sqrt(1/2) */
    __asm__ volatile(
        "1:\n\t"
        LOAD(0, 0, 1) LOAD(1, 2, 3) LOAD(2, 4, 5) LOAD(3, 6, 7) LOAD(4, 8, 9)
        "vldmia %[w]!, {s10-s19}\n\t"
        "vmul.f32 s0, s0, s10\n\t"
        "vmul.f32 s1, s1, s11\n\t"
        "vmul.f32 s2, s2, s12\n\t"
        "vmul.f32 s3, s3, s13\n\t"
        "vmul.f32 s4, s4, s14\n\t"
        "vmul.f32 s5, s5, s15\n\t"
        "vmul.f32 s6, s6, s16\n\t"
        "vmul.f32 s7, s7, s17\n\t"
        "vmul.f32 s8, s8, s18\n\t"
        "vmul.f32 s9, s9, s19\n\t"
        /* a0..a4 in s0..s9; sum0 = a0 + a4 (s10, s11), diff0 = a0 - a4 (s12, s13) */
        "vadd.f32 s10, s0, s8\n\t"
        "vadd.f32 s11, s1, s9\n\t"
        "vsub.f32 s12, s0, s8\n\t"
        "vsub.f32 s13, s1, s9\n\t"
        /* d1 = a1 (1 - i) r (s14, s15), d3 = a3 (-1 - i) r (s16, s17), d2 = -i a2 = (s5, -s4) */
        "vadd.f32 s14, s2, s3\n\t"
        "vsub.f32 s15, s3, s2\n\t"
        "vmul.f32 s14, s14, %[r]\n\t"
        "vmul.f32 s15, s15, %[r]\n\t"
        "vsub.f32 s16, s7, s6\n\t"
        "vadd.f32 s17, s6, s7\n\t"
        "vmul.f32 s16, s16, %[r]\n\t"
        "vnmul.f32 s17, s17, %[r]\n\t"
        /* odd = DFT4(diff0, d1, d2, d3): t0 (s0, s1), t1 (s8, s9), t2 (s18, s19), t3 (s20, s21) */
        "vadd.f32 s0, s12, s5\n\t"
        "vsub.f32 s1, s13, s4\n\t"
        "vsub.f32 s8, s12, s5\n\t"
        "vadd.f32 s9, s13, s4\n\t"
        "vadd.f32 s18, s14, s16\n\t"
        "vadd.f32 s19, s15, s17\n\t"
        "vsub.f32 s20, s14, s16\n\t"
        "vsub.f32 s21, s15, s17\n\t"
        "vadd.f32 s22, s0, s18\n\t" /* odd0 */
        "vadd.f32 s23, s1, s19\n\t"
        "vadd.f32 s24, s8, s21\n\t" /* odd1 = t1 - i t3 */
        "vsub.f32 s25, s9, s20\n\t"
        "vsub.f32 s26, s0, s18\n\t" /* odd2 */
        "vsub.f32 s27, s1, s19\n\t"
        "vsub.f32 s28, s8, s21\n\t" /* odd3 = t1 + i t3 */
        "vadd.f32 s29, s9, s20\n\t"
        /* even = DFT4(sum0, a1, a2, a3): t0 (s0, s1), t1 (s8, s9), t2 (s12, s13), t3 (s14, s15) */
        "vadd.f32 s0, s10, s4\n\t"
        "vadd.f32 s1, s11, s5\n\t"
        "vsub.f32 s8, s10, s4\n\t"
        "vsub.f32 s9, s11, s5\n\t"
        "vadd.f32 s12, s2, s6\n\t"
        "vadd.f32 s13, s3, s7\n\t"
        "vsub.f32 s14, s2, s6\n\t"
        "vsub.f32 s15, s3, s7\n\t"
        "vadd.f32 s16, s0, s12\n\t" /* even0 = z[n] */
        "vadd.f32 s17, s1, s13\n\t"
        "vstr s16, [%[b1], #-512]\n\t"
        "vstr s17, [%[b1], #-508]\n\t"
        "vadd.f32 s18, s8, s15\n\t" /* even1 */
        "vsub.f32 s19, s9, s14\n\t"
        "vsub.f32 s20, s0, s12\n\t" /* even2 */
        "vsub.f32 s21, s1, s13\n\t"
        "vsub.f32 s2, s8, s15\n\t" /* even3 */
        "vadd.f32 s3, s9, s14\n\t"
        /* twiddles 1..6 in s4..s15, 7 in s0, s1 */
        "vldmia %[tw]!, {s4-s15}\n\t"
        "vldmia %[tw]!, {s0-s1}\n\t"
        CMUL_STORE(22, 23, 4, 5, b1, "0")
        CMUL_STORE(18, 19, 6, 7, b1, "512")
        CMUL_STORE(24, 25, 8, 9, b4, "-512")
        CMUL_STORE(20, 21, 10, 11, b4, "0")
        CMUL_STORE(26, 27, 12, 13, b4, "512")
        CMUL_STORE(2, 3, 14, 15, b7, "-512")
        CMUL_STORE(28, 29, 0, 1, b7, "0")
        "adds %[x], %[x], #4\n\t"
        "adds %[b1], %[b1], #8\n\t"
        "adds %[b4], %[b4], #8\n\t"
        "adds %[b7], %[b7], #8\n\t"
        "cmp %[x], %[end]\n\t"
        "blo 1b"
        : [x] "+r"(x), [w] "+r"(w), [tw] "+r"(tw), [b1] "+r"(b1), [b4] "+r"(b4), [b7] "+r"(b7)
        : [end] "r"(end), [r] "t"(r)
        : FFT_CLOBBERS, "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27",
          "s28", "s29", "s30", "r4", "r5");
}
#undef LOAD
#undef CMUL_STORE
#undef S_STR
#endif

/* The last radix-4 stage, 4-point DFTs with every twiddle 1, from z to end: 20 instructions each
 * instead of 35. */
static inline void asm_radix4_last(asm_cpx *p, asm_cpx *end)
{
    __asm__ volatile(
        "1:\n\t"
        "vldmia %[p], {s0-s7}\n\t" /* a, b, c, d */
        "vadd.f32 s8, s0, s4\n\t"
        "vadd.f32 s9, s1, s5\n\t"
        "vsub.f32 s10, s0, s4\n\t"
        "vsub.f32 s11, s1, s5\n\t"
        "vadd.f32 s12, s2, s6\n\t"
        "vadd.f32 s13, s3, s7\n\t"
        "vsub.f32 s14, s2, s6\n\t"
        "vsub.f32 s15, s3, s7\n\t"
        "vadd.f32 s0, s8, s12\n\t"
        "vadd.f32 s1, s9, s13\n\t"
        "vadd.f32 s2, s10, s15\n\t"
        "vsub.f32 s3, s11, s14\n\t"
        "vsub.f32 s4, s8, s12\n\t"
        "vsub.f32 s5, s9, s13\n\t"
        "vsub.f32 s6, s10, s15\n\t"
        "vadd.f32 s7, s11, s14\n\t"
        "vstmia %[p]!, {s0-s7}\n\t"
        "cmp %[p], %[end]\n\t"
        "blo 1b"
        : [p] "+r"(p)
        : [end] "r"(end)
        : FFT_CLOBBERS);
}

/* Power at the bins from *offset to end (at least one) into *rises (weighted w) and *total:
 * 21 instructions per bin, both buffer offsets in one load, a bin's twiddle and weight in one vldm. */
static inline void asm_mel_segment(const uint16_t **offset, const uint16_t *end, const float **coef,
                                   const asm_cpx *z, float *rises, float *total)
{
    const uint16_t *off = *offset;
    const float *c = *coef;
    float r = *rises, t = *total;
    __asm__ volatile(
        "1:\n\t"
        "ldr r4, [%[off]], #4\n\t"
        "uxth r5, r4\n\t"
        "add r5, %[z], r5\n\t"
        "add r4, %[z], r4, lsr #16\n\t"
        "vldmia r5, {s0-s1}\n\t"   /* Z[k] */
        "vldmia r4, {s2-s3}\n\t"   /* Z[half - k] */
        "vldmia %[coef]!, {s4-s6}\n\t" /* twiddle, w */
        "vadd.f32 s7, s0, s2\n\t"  /* er */
        "vsub.f32 s8, s1, s3\n\t"  /* ei */
        "vsub.f32 s9, s0, s2\n\t"  /* dr */
        "vadd.f32 s10, s1, s3\n\t" /* di */
        "vfma.f32 s7, s4, s10\n\t" /* xr = er + tw.re di + tw.im dr */
        "vfma.f32 s7, s5, s9\n\t"
        "vfma.f32 s8, s5, s10\n\t" /* xi = ei + tw.im di - tw.re dr */
        "vfms.f32 s8, s4, s9\n\t"
        "vmul.f32 s11, s7, s7\n\t"
        "vfma.f32 s11, s8, s8\n\t" /* power */
        "vfma.f32 %[rises], s11, s6\n\t"
        "vadd.f32 %[total], %[total], s11\n\t"
        "cmp %[off], %[end]\n\t"
        "blo 1b"
        : [off] "+r"(off), [coef] "+r"(c), [rises] "+t"(r), [total] "+t"(t)
        : [z] "r"(z), [end] "r"(end)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "r4", "r5", "memory",
          "cc");
    *offset = off;
    *coef = c;
    *rises = r;
    *total = t;
}

#if KWS_FE_N_MFCC == 10
/* mfcc = sum over rows m of log_mel[m] dct[m]: 13 instructions per row instead of 24, a row's 10
 * coefficients in one vldm; the first row multiplies, as the C's 0 + v d rounds once. */
static inline void asm_dct10(const float *log_mel, const float *dct, float *mfcc)
{
    const float *d = dct, *v = log_mel;
    __asm__ volatile(
        "vldmia %[d]!, {s0-s9}\n\t"
        "vldmia %[v]!, {s10}\n\t"
        "vmul.f32 s16, s0, s10\n\t"
        "vmul.f32 s17, s1, s10\n\t"
        "vmul.f32 s18, s2, s10\n\t"
        "vmul.f32 s19, s3, s10\n\t"
        "vmul.f32 s20, s4, s10\n\t"
        "vmul.f32 s21, s5, s10\n\t"
        "vmul.f32 s22, s6, s10\n\t"
        "vmul.f32 s23, s7, s10\n\t"
        "vmul.f32 s24, s8, s10\n\t"
        "vmul.f32 s25, s9, s10\n\t"
        "1:\n\t"
        "vldmia %[d]!, {s0-s9}\n\t"
        "vldmia %[v]!, {s10}\n\t"
        "vfma.f32 s16, s0, s10\n\t"
        "vfma.f32 s17, s1, s10\n\t"
        "vfma.f32 s18, s2, s10\n\t"
        "vfma.f32 s19, s3, s10\n\t"
        "vfma.f32 s20, s4, s10\n\t"
        "vfma.f32 s21, s5, s10\n\t"
        "vfma.f32 s22, s6, s10\n\t"
        "vfma.f32 s23, s7, s10\n\t"
        "vfma.f32 s24, s8, s10\n\t"
        "vfma.f32 s25, s9, s10\n\t"
        "cmp %[v], %[end]\n\t"
        "blo 1b\n\t"
        "vstmia %[out], {s16-s25}"
        : [d] "+r"(d), [v] "+r"(v)
        : [end] "r"(log_mel + KWS_FE_N_MELS), [out] "r"(mfcc)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s16", "s17", "s18", "s19", "s20",
          "s21", "s22", "s23", "s24", "s25", "memory", "cc");
}
#endif
#endif
#endif
