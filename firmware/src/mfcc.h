/* The front end on the board: int16 PCM → int8 MFCC, from the same specification as training
 * (nas/data/frontend_config.py). frontend_tables.h is generated from
 * nas.data.frontend.frontend_tables(config) by nas/board/frontend_header.py. */
#ifndef KWS_MFCC_H
#define KWS_MFCC_H

#include <stdint.h>

#include "frontend_tables.h"

#define KWS_MFCC_FEATURES (KWS_FE_NUM_FRAMES * KWS_FE_N_MFCC)

/* audio: KWS_FE_CLIP_SAMPLES samples; features: KWS_MFCC_FEATURES int8, frame-major [T][F] */
void kws_mfcc_compute(const int16_t *audio, int8_t *features);

/* One frame: the window's KWS_FE_FFT_WINDOW_SAMPLES samples at x (at the FFT's rate: decimated), which must be readable up to
 * KWS_FE_FRAME_READ_SAMPLES (>= the window; what lies past the window is weighted 0);
 * features: KWS_FE_N_MFCC int8. */
void kws_mfcc_frame(const int16_t *x, int8_t *features);

#endif
