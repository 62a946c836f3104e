#include "fe_decimate.h"

#include <string.h>

#if KWS_FE_DECIMATION == 2
#define TAPS KWS_FE_DEC_TAPS
#define PAIRS KWS_FE_DEC_PAIRS

static inline int16_t sat16(int32_t v)
{
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

void kws_decimate(const int16_t *x, uint32_t n_out, int16_t *y, int16_t *y2)
{
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
    /* The first outputs reach back before x: from a copy behind TAPS - 1 zeros. */
    int16_t head[2 * (TAPS - 1)] = {0};
    uint32_t head_in = n < TAPS - 1 ? n : TAPS - 1;
    memcpy(head + TAPS - 1, x, head_in * sizeof *x);
    uint32_t head_out = (head_in + 1) / 2;
    kws_decimate(head + TAPS - 1, head_out, y, y);
    kws_decimate(x + 2 * head_out, (n + 1) / 2 - head_out, y + head_out, y + head_out);
}
#endif
