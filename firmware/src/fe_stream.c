#include "fe_stream.h"

#include <string.h>

#define RING KWS_FE_N_FFT /* a power of two holding one window (at the FFT's rate) */

/* Copies n bytes to dst and, unless it is 0, to dst2: 32-bit words (a memcpy of 4 bytes is one
 * load or store, unaligned allowed on ARMv7-M; newlib-nano's memcpy moves a byte at a time), then
 * the last bytes. */
static void copy_words(uint8_t *dst, uint8_t *dst2, const uint8_t *src, uint32_t n)
{
    const uint8_t *words_end = src + (n & ~3u), *end = src + n;
    if (dst2) {
        /* unrolled: the loop's compare and branch were 2 of every 5 instructions */
#pragma GCC unroll 4
        for (; src < words_end; src += 4, dst += 4, dst2 += 4) {
            uint32_t w;
            memcpy(&w, src, 4);
            memcpy(dst, &w, 4);
            memcpy(dst2, &w, 4);
        }
        while (src < end) *dst++ = *dst2++ = *src++;
    } else {
#pragma GCC unroll 4
        for (; src < words_end; src += 4, dst += 4) {
            uint32_t w;
            memcpy(&w, src, 4);
            memcpy(dst, &w, 4);
        }
        while (src < end) *dst++ = *src++;
    }
}

#if KWS_FE_DECIMATION == 1
/* Copies n <= RING samples into both halves of the ring: one run up to the ring's end, then one
 * from its start. */
static void store_samples(kws_fe_stream_t *s, const int16_t *pcm, uint32_t n)
{
    uint32_t at = s->decimated & (RING - 1);
    while (n) {
        uint32_t run = RING - at < n ? RING - at : n;
        copy_words((uint8_t *)&s->audio[at], (uint8_t *)&s->audio[at + RING], (const uint8_t *)pcm, 2 * run);
        pcm += run;
        n -= run;
        at = 0;
    }
}
#endif

void kws_fe_stream_reset(kws_fe_stream_t *s)
{
    memset(s, 0, sizeof *s);
#if KWS_FE_DECIMATION == 2
    s->dec_fill = KWS_FE_DEC_HISTORY; /* zeros before the first sample */
#endif
}

#if KWS_FE_DECIMATION == 2
/* Decimates the staged inputs into the ring: outputs at staging positions KWS_FE_DEC_HISTORY, + 2, ... (each
 * reads KWS_FE_DEC_HISTORY inputs back), then the inputs the next output needs move to the front. */
static void decimate_staged(kws_fe_stream_t *s)
{
    uint32_t n_out = (s->dec_fill - KWS_FE_DEC_HISTORY + 1) / 2;
    const int16_t *x = &s->dec_in[KWS_FE_DEC_HISTORY];
    for (uint32_t left = n_out; left;) {
        uint32_t at = s->decimated & (RING - 1);
        uint32_t run = RING - at < left ? RING - at : left;
        kws_decimate(x, run, &s->audio[at], &s->audio[at + RING]);
        x += 2 * run;
        s->decimated += run;
        left -= run;
    }
    uint32_t consumed = 2 * n_out;
    s->dec_fill -= consumed;
    copy_words((uint8_t *)s->dec_in, 0, (const uint8_t *)&s->dec_in[consumed], 2 * s->dec_fill);
}
#endif

uint32_t kws_fe_stream_push(kws_fe_stream_t *s, const int16_t *pcm, uint32_t n)
{
    uint32_t new_frames = 0;
    while (n) {
        /* Samples (at the FFT's rate) from the next frame's on are still needed (none when a
         * stride skips past them). */
        int32_t kept = (int32_t)(s->decimated - s->next_start / KWS_FE_DECIMATION);
        uint32_t room = RING - (kept > 0 ? (uint32_t)kept : 0u);
#if KWS_FE_DECIMATION == 2
        /* t inputs from an odd count pushed give floor(t / 2) + 1 outputs, from an even one ceil(t / 2) */
        uint32_t fits = 2 * room + (s->pushed & 1u), staged = KWS_FE_DEC_STAGING - s->dec_fill;
        uint32_t take = n < fits ? n : fits;
        take = take < staged ? take : staged;
        copy_words((uint8_t *)&s->dec_in[s->dec_fill], 0, (const uint8_t *)pcm, 2 * take);
        s->dec_fill += take;
        decimate_staged(s);
#else
        uint32_t take = n < room ? n : room;
        store_samples(s, pcm, take);
        s->decimated += take;
#endif
        s->pushed += take;
        pcm += take;
        n -= take;
        /* A full ring holds at least one window, so this frees room for the next chunk. */
        while ((int32_t)(s->pushed - s->next_start) >= KWS_FE_WINDOW_SAMPLES) {
            const int16_t *x = &s->audio[(s->next_start / KWS_FE_DECIMATION) & (RING - 1)];
            kws_mfcc_frame(x, &s->frames[s->next_slot * KWS_FE_N_MFCC]);
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
    /* Not memcpy: newlib-nano's moves a byte at a time. */
    uint32_t oldest = s->next_slot * KWS_FE_N_MFCC;
    copy_words((uint8_t *)features, 0, (const uint8_t *)&s->frames[oldest], KWS_MFCC_FEATURES - oldest);
    copy_words((uint8_t *)features + KWS_MFCC_FEATURES - oldest, 0, (const uint8_t *)s->frames, oldest);
    return 0;
}
