/* MFCC on the board, step for step as nas/data/frontend.py computes it in float32:
 * window → zero-pad to N_FFT → power spectrum → sparse mel filterbank → ln(mel + floor) → DCT
 * → int8 with round-half-away (C's roundf) and clamping. */
#include "mfcc.h"

#include <math.h>

#define HALF (KWS_FE_N_FFT / 2)

/* N_FFT real samples as HALF complex ones (even samples real, odd imaginary). */
static float re[HALF], im[HALF];

static unsigned bit_reverse(unsigned value, unsigned bits)
{
    unsigned out = 0;
    for (unsigned b = 0; b < bits; b++, value >>= 1) out = (out << 1) | (value & 1u);
    return out;
}

/* In-place radix-2 decimation-in-time FFT of length HALF; twiddles from the N_FFT table. */
static void complex_fft(void)
{
    unsigned bits = 0;
    while ((1u << bits) < HALF) bits++;
    for (unsigned i = 0; i < HALF; i++) {
        unsigned j = bit_reverse(i, bits);
        if (j > i) {
            float t = re[i]; re[i] = re[j]; re[j] = t;
            t = im[i]; im[i] = im[j]; im[j] = t;
        }
    }
    for (unsigned len = 2; len <= HALF; len <<= 1) {
        unsigned step = KWS_FE_N_FFT / len; /* exp(-2 pi i j / len) = table[j * step] */
        for (unsigned start = 0; start < HALF; start += len) {
            for (unsigned j = 0; j < len / 2; j++) {
                float wr = kws_fe_cos[j * step], wi = kws_fe_sin[j * step];
                unsigned a = start + j, b = a + len / 2;
                float tr = re[b] * wr - im[b] * wi;
                float ti = re[b] * wi + im[b] * wr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
    }
}

/* |X[k]|^2 of the real N_FFT-point transform from the HALF-point complex one. */
static float power_at(unsigned k)
{
    unsigned mk = (HALF - k) % HALF;
    float zr = re[k % HALF], zi = im[k % HALF]; /* Z[k], with Z[HALF] = Z[0] */
    float cr = re[mk], ci = -im[mk];            /* conj(Z[HALF - k]) */
    float er = 0.5f * (zr + cr), ei = 0.5f * (zi + ci);  /* even part */
    float dr = 0.5f * (zr - cr), di = 0.5f * (zi - ci);  /* odd part times i */
    float wr, wi;                                        /* exp(-2 pi i k / N_FFT) */
    if (k < HALF) {
        wr = kws_fe_cos[k];
        wi = kws_fe_sin[k];
    } else {
        wr = -1.0f;
        wi = 0.0f;
    }
    /* X = E + w * D / i = E + w * (di - i dr) */
    float xr = er + wr * di + wi * dr;
    float xi = ei + wi * di - wr * dr;
    return xr * xr + xi * xi;
}

static int8_t to_int8(float value)
{
    float q = roundf(value * KWS_FE_INT8_SCALE);
    return (int8_t)fminf(127.0f, fmaxf(-128.0f, q));
}

void kws_mfcc_compute(const int16_t *audio, int8_t *features)
{
    static float power[KWS_FE_END_BIN];
    float log_mel[KWS_FE_N_MELS];
    for (unsigned frame = 0; frame < KWS_FE_NUM_FRAMES; frame++) {
        const int16_t *x = audio + frame * KWS_FE_STRIDE_SAMPLES;
        for (unsigned n = 0; n < HALF; n++) {
            unsigned even = 2 * n, odd = 2 * n + 1;
            re[n] = even < KWS_FE_WINDOW_SAMPLES ? (x[even] * (1.0f / 32768.0f)) * kws_fe_window[even] : 0.0f;
            im[n] = odd < KWS_FE_WINDOW_SAMPLES ? (x[odd] * (1.0f / 32768.0f)) * kws_fe_window[odd] : 0.0f;
        }
        complex_fft();
        for (unsigned k = KWS_FE_FIRST_BIN; k < KWS_FE_END_BIN; k++) power[k] = power_at(k);
        for (unsigned m = 0; m < KWS_FE_N_MELS; m++) {
            const float *w = &kws_fe_mel_weight[kws_fe_mel_offset[m]];
            const float *p = &power[kws_fe_mel_start[m]];
            float sum = 0.0f;
            for (unsigned i = 0; i < kws_fe_mel_count[m]; i++) sum += p[i] * w[i];
            log_mel[m] = logf(sum + KWS_FE_LOG_FLOOR);
        }
        for (unsigned c = 0; c < KWS_FE_N_MFCC; c++) {
            float sum = 0.0f;
            for (unsigned m = 0; m < KWS_FE_N_MELS; m++) sum += log_mel[m] * kws_fe_dct[m * KWS_FE_N_MFCC + c];
            features[frame * KWS_FE_N_MFCC + c] = to_int8(sum);
        }
    }
}
