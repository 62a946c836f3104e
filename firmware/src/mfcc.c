/* MFCC on the board, the function nas/data/frontend.py computes, organised for a small core:
 * window (int16 → float folded into the table and into the first FFT stage) → one complex FFT of
 * the N_FFT/2 packed samples (a radix-8 or radix-4 first stage that reads the windowed samples and
 * leaves out the zero padding, then radix-4 stages, in place, decimation in frequency; its
 * scrambled output is read through a precomputed position table, never permuted)
 * → power at the bins the filterbank uses, straight into the mel bands (one pass: neighbouring
 * triangles share their bins, with weights w and 1 - w) → ln without
 * libm (exponent bits + a polynomial) → DCT → int8 with round-half-away and clamping.
 * Every table comes from nas/board/frontend_header.py; float32 throughout, within one int8 step
 * of the Python front end (tests/firmware/test_mfcc_c.py). */
#include "mfcc.h"

#include <math.h>
#include <string.h>

#define HALF KWS_FE_FFT_HALF

typedef kws_fe_cpx_t cpx;

static cpx z[HALF];

static inline cpx cmul(float re, float im, cpx w)
{
    return (cpx){re * w.re - im * w.im, re * w.im + im * w.re};
}

/* Input q of the first stage's butterfly n, packed complex sample m = n + q S of the windowed frame:
 * real sample 2m as re, 2m + 1 as im (the window table is 0 past the window). */
static inline cpx windowed(const int16_t *x, unsigned n, unsigned q)
{
    const unsigned m = n + q * KWS_FE_FFT_FIRST_SPAN;
    const float *w = &kws_fe_first_window[2 * (n * KWS_FE_FFT_FIRST_INPUTS + q)];
    return (cpx){(float)x[2 * m] * w[0], (float)x[2 * m + 1] * w[1]};
}

/* The 4-point DFT y_q = sum_m v_m (-i)^(mq). */
static inline void dft4(cpx a, cpx b, cpx c, cpx d, cpx y[4])
{
    float t0r = a.re + c.re, t0i = a.im + c.im, t1r = a.re - c.re, t1i = a.im - c.im;
    float t2r = b.re + d.re, t2i = b.im + d.im, t3r = b.re - d.re, t3i = b.im - d.im;
    y[0] = (cpx){t0r + t2r, t0i + t2i};
    y[1] = (cpx){t1r + t3i, t1i - t3r};
    y[2] = (cpx){t0r - t2r, t0i - t2i};
    y[3] = (cpx){t1r - t3i, t1i + t3r};
}

/* ARMv7E-M with an FPU that fuses multiply-adds (Cortex-M4F, M7): the radix-4 butterflies in
 * assembly, each complex value moved with one vldm/vstm (GCC loads and stores floats one by one):
 * 42 instructions per butterfly instead of 48, 20 instead of 35 in the last stage. */
#if defined(__ARM_ARCH_7EM__) && defined(__ARM_FEATURE_FMA) && !defined(KWS_FE_PORTABLE_C)
#define KWS_FE_ASM 1
#define FFT_CLOBBERS "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", \
                     "s13", "s14", "s15", "memory", "cc"
#endif

/* One radix-4 stage of span L: sub-DFTs of 4L points; y_q = DFT4(a, b, c, d)[q] · W^(q j). */
static inline __attribute__((always_inline)) void radix4_stage(unsigned span, const cpx *tw)
{
    const unsigned L = span;
    for (unsigned j = 0; j < L; j++, tw += 3) {
        const cpx w1 = tw[0], w2 = tw[1], w3 = tw[2];
#ifdef KWS_FE_ASM
        cpx *p = z + j, *p1, *p2, *p3;
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
            : [l8] "r"(8 * L), [step] "r"(32 * L), [end] "r"(z + HALF), [w1r] "t"(w1.re), [w1i] "t"(w1.im),
              [w2r] "t"(w2.re), [w2i] "t"(w2.im), [w3r] "t"(w3.re), [w3i] "t"(w3.im)
            : FFT_CLOBBERS);
#else
        for (cpx *p = z + j; p < z + HALF; p += 4 * L) {
            cpx a = p[0], b = p[L], c = p[2 * L], d = p[3 * L];
            float t0r = a.re + c.re, t0i = a.im + c.im, t1r = a.re - c.re, t1i = a.im - c.im;
            float t2r = b.re + d.re, t2i = b.im + d.im, t3r = b.re - d.re, t3i = b.im - d.im;
            p[0] = (cpx){t0r + t2r, t0i + t2i};
            p[L] = cmul(t1r + t3i, t1i - t3r, w1);
            p[2 * L] = cmul(t0r - t2r, t0i - t2i, w2);
            p[3 * L] = cmul(t1r - t3i, t1i + t3r, w3);
        }
#endif
    }
}

/* The first stage reads the windowed samples itself (no pass to window them); its inputs n + q S
 * with q >= KWS_FE_FFT_FIRST_INPUTS are zero padding, left out at compile time. */
#define S KWS_FE_FFT_FIRST_SPAN
#define INPUT(q) ((q) < KWS_FE_FFT_FIRST_INPUTS ? windowed(x, n, q) : (cpx){0.0f, 0.0f})

#if KWS_FE_FFT_FIRST_RADIX == 8
/* a_m ± a_(m+4), when a_(m+4) is not zero padding */
#define PAIR(m, lo, hi)                                                  \
    cpx sum##m = lo, diff##m = lo;                                       \
    if ((m) + 4 < KWS_FE_FFT_FIRST_INPUTS) {                             \
        sum##m = (cpx){lo.re + hi.re, lo.im + hi.im};                    \
        diff##m = (cpx){lo.re - hi.re, lo.im - hi.im};                   \
    }

/* Radix-8: even outputs are the DFT4 of a_m + a_(m+4), odd ones that of (a_m - a_(m+4)) W8^m. */
#if defined(KWS_FE_ASM) && KWS_FE_FFT_FIRST_INPUTS == 5
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
static void window_fft_first_stage(const int16_t *x)
{
    const float *w = kws_fe_first_window;
    const cpx *tw = kws_fe_first_tw;
    /* three store bases, at outputs 1, 4 and 7 (vstr reaches +-1020 bytes) */
    cpx *b1 = z + S, *b4 = z + 4 * S, *b7 = z + 7 * S;
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
#else
static void window_fft_first_stage(const int16_t *x)
{
    const float r = 0.70710678118654752f; /* sqrt(1/2) */
    const cpx *tw = kws_fe_first_tw;
    for (unsigned n = 0; n < S; n++, tw += 7) {
        cpx a0 = INPUT(0), a1 = INPUT(1), a2 = INPUT(2), a3 = INPUT(3);
        cpx a4 = INPUT(4), a5 = INPUT(5), a6 = INPUT(6), a7 = INPUT(7);
        PAIR(0, a0, a4)
        PAIR(1, a1, a5)
        PAIR(2, a2, a6)
        PAIR(3, a3, a7)
        cpx d1 = {(diff1.re + diff1.im) * r, (diff1.im - diff1.re) * r}; /* · (1 - i)/sqrt 2 */
        cpx d2 = {diff2.im, -diff2.re};                                 /* · -i */
        cpx d3 = {(diff3.im - diff3.re) * r, -(diff3.re + diff3.im) * r}; /* · (-1 - i)/sqrt 2 */
        cpx even[4], odd[4];
        dft4(sum0, sum1, sum2, sum3, even);
        dft4(diff0, d1, d2, d3, odd);
        z[n] = even[0];
        z[n + S] = cmul(odd[0].re, odd[0].im, tw[0]);
        z[n + 2 * S] = cmul(even[1].re, even[1].im, tw[1]);
        z[n + 3 * S] = cmul(odd[1].re, odd[1].im, tw[2]);
        z[n + 4 * S] = cmul(even[2].re, even[2].im, tw[3]);
        z[n + 5 * S] = cmul(odd[2].re, odd[2].im, tw[4]);
        z[n + 6 * S] = cmul(even[3].re, even[3].im, tw[5]);
        z[n + 7 * S] = cmul(odd[3].re, odd[3].im, tw[6]);
    }
}
#endif
#undef PAIR
#else
static void window_fft_first_stage(const int16_t *x)
{
    const cpx *tw = kws_fe_first_tw;
    for (unsigned n = 0; n < S; n++, tw += 3) {
        cpx y[4];
        dft4(INPUT(0), INPUT(1), INPUT(2), INPUT(3), y);
        z[n] = y[0];
        z[n + S] = cmul(y[1].re, y[1].im, tw[0]);
        z[n + 2 * S] = cmul(y[2].re, y[2].im, tw[1]);
        z[n + 3 * S] = cmul(y[3].re, y[3].im, tw[2]);
    }
}
#endif
#undef INPUT
#undef S

/* The last radix-4 stage: 4-point DFTs, every twiddle 1. */
static void radix4_last(void)
{
#ifdef KWS_FE_ASM
    cpx *p = z;
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
        : [end] "r"(z + HALF)
        : FFT_CLOBBERS);
#else
    for (cpx *p = z; p < z + HALF; p += 4) {
        cpx y[4];
        dft4(p[0], p[1], p[2], p[3], y);
        p[0] = y[0];
        p[1] = y[1];
        p[2] = y[2];
        p[3] = y[3];
    }
#endif
}

static void fft(const int16_t *x)
{
    window_fft_first_stage(x);
#if KWS_FE_FFT_FIRST_SPAN >= 4
    const cpx *tw = kws_fe_radix4_tw;
#pragma GCC unroll 8
    for (unsigned span = KWS_FE_FFT_FIRST_SPAN / 4; span > 1; span /= 4) {
        radix4_stage(span, tw);
        tw += 3 * span;
    }
    radix4_last();
#endif
}

/* ln x for normal x > 0: x = m · 2^e with m in [1, 2), ln x = e ln 2 + P(m - 1.5). */
static inline float ln_no_libm(float x)
{
    union {
        float f;
        uint32_t u;
    } v = {x};
    float e = (float)((int32_t)(v.u >> 23) - 127);
    v.u = (v.u & 0x007fffffu) | 0x3f800000u;
    float t = v.f - 1.5f;
    const float *c = kws_fe_ln_poly;
    float p = c[6];
#pragma GCC unroll 8
    for (int i = 5; i >= 0; i--) p = p * t + c[i];
    return e * KWS_FE_LN2 + p;
}

static inline int8_t to_int8(float value)
{
    float q = roundf(value * KWS_FE_INT8_SCALE);
    return (int8_t)(q > 127.0f ? 127.0f : q < -128.0f ? -128.0f : q);
}

static void dct_to_int8(const float *log_mel, int8_t *features)
{
    /* Row by row, the N_MFCC sums stay in registers. */
    float mfcc[KWS_FE_N_MFCC] = {0};
#if defined(KWS_FE_ASM) && KWS_FE_N_MFCC == 10
    /* 13 instructions per row (a row's 10 coefficients in one vldm) instead of 24; the first row
     * multiplies, as the C's 0 + v d rounds once */
    const float *d = kws_fe_dct, *v = log_mel;
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
#else
    for (unsigned m = 0; m < KWS_FE_N_MELS; m++) {
        const float *d = &kws_fe_dct[m * KWS_FE_N_MFCC];
        const float v = log_mel[m];
#pragma GCC unroll 16
        for (unsigned c = 0; c < KWS_FE_N_MFCC; c++) mfcc[c] += v * d[c];
    }
#endif
    for (unsigned c = 0; c < KWS_FE_N_MFCC; c++) features[c] = to_int8(mfcc[c]);
}

void kws_mfcc_frame(const int16_t *x, int8_t *features)
{
    fft(x);

    /* |X[k]|^2 from Z[k] and Z[HALF - k] (the split's 1/2 is in the window), straight into the mel
     * bands: in segment s, band s rises with weight w and band s - 1 falls with 1 - w. */
    float mel[KWS_FE_N_MELS];
    const uint16_t *offset = kws_fe_split_offset;
    const float *coef = kws_fe_bin_coef;
    for (unsigned s = 0; s <= KWS_FE_N_MELS; s++) {
        float rises = 0.0f, total = 0.0f;
        const uint16_t *end = &kws_fe_split_offset[2 * kws_fe_mel_segment_end[s]];
#ifdef KWS_FE_ASM
        /* 21 instructions per bin: both offsets in one load, a bin's twiddle and weight in one vldm */
        if (offset < end)
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
                : [off] "+r"(offset), [coef] "+r"(coef), [rises] "+t"(rises), [total] "+t"(total)
                : [z] "r"(z), [end] "r"(end)
                : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "r4", "r5", "memory",
                  "cc");
#else
        for (; offset < end; offset += 2, coef += 3) {
            cpx zk = *(const cpx *)((const char *)z + offset[0]), zm = *(const cpx *)((const char *)z + offset[1]);
            float er = zk.re + zm.re, ei = zk.im - zm.im, dr = zk.re - zm.re, di = zk.im + zm.im;
            float xr = er + coef[0] * di + coef[1] * dr;
            float xi = ei + coef[1] * di - coef[0] * dr;
            float power = xr * xr + xi * xi;
            rises += power * coef[2];
            total += power;
        }
#endif
        /* the falling band's share, sum (1 - w) power, without a subtraction per bin */
        if (s > 0) mel[s - 1] += total - rises;
        if (s < KWS_FE_N_MELS) mel[s] = rises;
    }
    float log_mel[KWS_FE_N_MELS];
    for (unsigned m = 0; m < KWS_FE_N_MELS; m++) log_mel[m] = ln_no_libm(mel[m] + KWS_FE_LOG_FLOOR);

    dct_to_int8(log_mel, features);
}

void kws_mfcc_compute(const int16_t *audio, int8_t *features)
{
    for (unsigned f = 0; f < KWS_FE_NUM_FRAMES; f++) {
        const int16_t *x = audio + f * KWS_FE_STRIDE_SAMPLES;
#if KWS_FE_FRAME_READ_SAMPLES > KWS_FE_WINDOW_SAMPLES
        /* The first stage reads past the window: near the clip's end, from a padded copy. */
        static int16_t padded[KWS_FE_FRAME_READ_SAMPLES];
        if (f * KWS_FE_STRIDE_SAMPLES + KWS_FE_FRAME_READ_SAMPLES > KWS_FE_CLIP_SAMPLES) {
            memcpy(padded, x, KWS_FE_WINDOW_SAMPLES * sizeof *x);
            x = padded;
        }
#endif
        kws_mfcc_frame(x, features + f * KWS_FE_N_MFCC);
    }
}
