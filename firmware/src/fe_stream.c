#include "fe_stream.h"

#include <string.h>

#define RING KWS_FE_N_FFT /* a power of two holding one window */

void kws_fe_stream_reset(kws_fe_stream_t *s)
{
    memset(s, 0, sizeof *s);
}

uint32_t kws_fe_stream_push(kws_fe_stream_t *s, const int16_t *pcm, uint32_t n)
{
    uint32_t new_frames = 0;
    while (n) {
        /* Samples from next_start on are still needed (none when a stride skips past them). */
        int32_t kept = (int32_t)(s->pushed - s->next_start);
        uint32_t room = RING - (kept > 0 ? (uint32_t)kept : 0u);
        uint32_t take = n < room ? n : room;
        for (uint32_t i = 0; i < take; i++) {
            uint32_t at = (s->pushed + i) & (RING - 1);
            s->audio[at] = s->audio[at + RING] = pcm[i];
        }
        s->pushed += take;
        pcm += take;
        n -= take;
        /* A full ring holds at least one window, so this frees room for the next chunk. */
        while ((int32_t)(s->pushed - s->next_start) >= KWS_FE_WINDOW_SAMPLES) {
            kws_mfcc_frame(&s->audio[s->next_start & (RING - 1)], &s->frames[s->next_slot * KWS_FE_N_MFCC]);
            s->next_start += KWS_FE_STRIDE_SAMPLES;
            s->next_slot = s->next_slot + 1 == KWS_FE_NUM_FRAMES ? 0 : s->next_slot + 1;
            if (s->frames_done < KWS_FE_NUM_FRAMES) s->frames_done++;
            new_frames++;
        }
    }
    return new_frames;
}

int kws_fe_stream_features(const kws_fe_stream_t *s, int8_t *features)
{
    if (s->frames_done < KWS_FE_NUM_FRAMES) return -1;
    uint32_t oldest = s->next_slot * KWS_FE_N_MFCC;
    memcpy(features, &s->frames[oldest], KWS_MFCC_FEATURES - oldest);
    memcpy(features + KWS_MFCC_FEATURES - oldest, s->frames, oldest);
    return 0;
}
