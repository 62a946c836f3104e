/* The front end's 2:1 decimator (KWS_FE_DECIMATION 2): a half-band FIR in Q15 over int16 samples,
 * bit for bit the integer function of nas/data/decimate.py. */
#ifndef KWS_FE_DECIMATE_H
#define KWS_FE_DECIMATE_H

#include <stdint.h>

#include "mfcc.h"

#if KWS_FE_DECIMATION == 2
/* Inputs before x that kws_decimate reads: the TAPS - 1 the filter weighs and, on the SMLAD path, one
 * more word weighted 0; even, so that the staging buffers keep x word aligned. */
#define KWS_FE_DEC_BACK (KWS_FE_DEC_TAPS + 1)

/* n_out outputs, y[i] = y2[i] = sat16((sum_k h[k] x[2i - k] + 2^14) >> 15): x must be readable from
 * x[-KWS_FE_DEC_BACK] (the inputs before it) up to x[2 (n_out - 1)]. y2 may equal y. The
 * SMLAD path (Cortex-M4/M7) runs when x is word aligned and y2 is y + KWS_FE_N_FFT (a ring's mirror)
 * or y (then y needs KWS_FE_N_FFT samples to spare). */
void kws_decimate(const int16_t *x, uint32_t n_out, int16_t *y, int16_t *y2);

/* The whole recording from its start (zeros before it): ceil(n / 2) outputs into y, which must have
 * room for KWS_FE_N_FFT more (scratch: on Cortex-M4/M7 pairs of outputs are also written there). */
void kws_decimate_from_start(const int16_t *x, uint32_t n, int16_t *y);
#endif

#endif
