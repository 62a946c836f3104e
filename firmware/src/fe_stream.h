/* The streaming front end: a ring buffer of audio and one of int8 feature frames. Audio arrives in
 * chunks of any length; each frame is computed once, as soon as its window is complete (frames start
 * every KWS_FE_STRIDE_SAMPLES from the first sample pushed), so an inference at 10 per second with a
 * 20 ms stride computes only the 5 frames that are new. Frame for frame the same features as
 * kws_mfcc_compute on the same samples (nas/data/streaming.py is the Python twin). */
#ifndef KWS_FE_STREAM_H
#define KWS_FE_STREAM_H

#include <stdint.h>

#include "fe_decimate.h"
#include "mfcc.h"

#if KWS_FE_DECIMATION == 2
/* Inputs staged for the decimator: those it reads before the next output's, then up to a ring's
 * worth of outputs' inputs (and one more when the count pushed is odd). */
#define KWS_FE_DEC_HISTORY KWS_FE_DEC_BACK
#define KWS_FE_DEC_STAGING (KWS_FE_DEC_HISTORY + 2 * KWS_FE_N_FFT + 2)
#endif

typedef struct {
    /* sample i (at the FFT's rate) at [i mod N_FFT] and [i mod N_FFT + N_FFT], so that every window
     * (at most N_FFT samples) is contiguous wherever the ring wraps */
    int16_t audio[2 * KWS_FE_N_FFT];
    uint32_t pushed;     /* input samples pushed since the reset (mod 2^32: 74 hours at 16 kHz) */
    uint32_t decimated;  /* samples at the FFT's rate stored (= pushed without decimation) */
    uint32_t next_start; /* first input sample of the next frame */
    int8_t frames[KWS_MFCC_FEATURES]; /* ring of KWS_FE_NUM_FRAMES frames */
    uint32_t next_slot;  /* where the next frame goes, oldest first after it */
    uint32_t frames_done; /* frames computed since the reset, saturating at KWS_FE_NUM_FRAMES */
#if KWS_FE_DECIMATION == 2
    int16_t dec_in[KWS_FE_DEC_STAGING] __attribute__((aligned(4)));
    uint32_t dec_fill; /* inputs staged, KWS_FE_DEC_HISTORY of them before the next output's */
#endif
} kws_fe_stream_t;

void kws_fe_stream_reset(kws_fe_stream_t *s);

/* Appends n samples and computes every frame they complete; returns how many. */
uint32_t kws_fe_stream_push(kws_fe_stream_t *s, const int16_t *pcm, uint32_t n);

/* The last KWS_FE_NUM_FRAMES frames, oldest first, into features (KWS_MFCC_FEATURES int8, the
 * model's input); 0 once that many were computed, -1 before. */
int kws_fe_stream_features(const kws_fe_stream_t *s, int8_t *features);

#endif
