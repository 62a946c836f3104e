/* MFCC on the board, the function nas/data/frontend.py computes, organised for a small core:
 * (with KWS_FE_DECIMATION 2, the 2:1 decimator of fe_decimate.c first; all below at its rate) window (int16 → float folded into the table and into the first FFT stage) → one complex FFT of
 * the N_FFT/2 packed samples (a radix-8 or radix-4 first stage that reads the windowed samples and
 * leaves out the zero padding, then radix-4 stages, in place, decimation in frequency; its
 * scrambled output is read through a precomputed position table, never permuted)
 * → power at the bins the filterbank uses, straight into the mel bands (one pass: neighbouring
 * triangles share their bins, with weights w and 1 - w) → ln without
 * libm (exponent bits + a polynomial) → DCT → int8 with round-half-away and clamping.
 * On Cortex-M4F/M7 the first FFT stage, the radix-4 butterflies, the power into the mel bands and
 * the DCT run as assembly (mfcc_asm.h); the C beside each call is the portable path.
 * Every table comes from nas/board/frontend_header.py; float32 throughout, within one int8 step
 * of the Python front end (tests/firmware/test_mfcc_c.py). */
#include "mfcc.h"
#include "fe_decimate.h"
#include "mfcc_asm.h" /* KWS_FE_ASM: the inner loops in assembly on Cortex-M4F/M7 */

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

/* One radix-4 stage of span L: sub-DFTs of 4L points; y_q = DFT4(a, b, c, d)[q] · W^(q j). */
static inline __attribute__((always_inline)) void radix4_stage(unsigned span, const cpx *tw)
{
    const unsigned L = span;
    for (unsigned j = 0; j < L; j++, tw += 3) {
        const cpx w1 = tw[0], w2 = tw[1], w3 = tw[2];
#ifdef KWS_FE_ASM
        asm_radix4_butterflies(z + j, z + HALF, L, w1, w2, w3);
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
#ifdef KWS_FE_ASM_FIRST_8X5
static void window_fft_first_stage(const int16_t *x)
{
    asm_first_stage_8x5(x, z);
}
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
    asm_radix4_last(z, z + HALF);
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
    asm_dct10(log_mel, kws_fe_dct, mfcc);
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
        if (offset < end) asm_mel_segment(&offset, end, &coef, z, &rises, &total);
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
#if KWS_FE_DECIMATION == 2
    /* The clip at the FFT's rate; past it, where the first stage reads beyond the last window (weight
     * 0), the decimator's scratch. */
    static int16_t decimated[KWS_FE_FFT_CLIP_SAMPLES + KWS_FE_N_FFT];
    kws_decimate_from_start(audio, KWS_FE_CLIP_SAMPLES, decimated);
    audio = decimated;
#endif
    for (unsigned f = 0; f < KWS_FE_NUM_FRAMES; f++) {
        const int16_t *x = audio + f * KWS_FE_FFT_STRIDE_SAMPLES;
#if KWS_FE_FRAME_READ_SAMPLES > KWS_FE_FFT_WINDOW_SAMPLES && KWS_FE_DECIMATION == 1
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
