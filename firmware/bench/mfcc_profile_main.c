/*
 * Where the front end's instructions go, per frame: the C front end (src/mfcc.c, included so that its
 * static stages can be timed one by one) on the 49 frames of a synthetic clip, each stage run over
 * all frames between two SysTick readings (with decimation 2 the frames are read from the clip as if
 * it were decimated; the decimator is timed on its own, a stride's inputs per frame). Prints
 *   profile,<stage>,<instructions per frame>
 * then "profile-done". Under QEMU -icount shift=0 one tick is 40 instructions.
 * benchmarks/bench_fe_profile.py builds and runs it.
 */
#include "../src/fe_decimate.c"
#include "../src/mfcc.c"

#include "bench_print.h"

#define FRAMES KWS_FE_NUM_FRAMES
static int16_t audio[KWS_FE_CLIP_SAMPLES + KWS_FE_FRAME_READ_SAMPLES] __attribute__((aligned(4)));
#if KWS_FE_DECIMATION == 2
static int16_t decimated[2 * KWS_FE_N_FFT]; /* a ring and its mirror */
#endif
static float mel_in[FRAMES][KWS_FE_N_MELS];
static volatile float sink;

static void row(const char *stage, uint64_t ticks)
{
    print("profile,");
    print(stage);
    print(",");
    print_u32((uint32_t)(ticks * 40u / FRAMES));
    print("\n");
}

int main(void)
{
    port_init();
    uint32_t state = 1u;
    for (unsigned i = 0; i < KWS_FE_CLIP_SAMPLES; i++) {
        state = state * 1664525u + 1013904223u;
        audio[i] = (int16_t)((int32_t)(8000.0f * sinf(0.07f * (float)i)) + (int32_t)(state >> 24) - 128);
    }
    for (unsigned f = 0; f < FRAMES; f++)
        for (unsigned m = 0; m < KWS_FE_N_MELS; m++) mel_in[f][m] = 1.0f + (float)(f * 40 + m);
    int8_t features[KWS_FE_N_MFCC];
    uint64_t t0 = port_ticks();
    for (unsigned f = 0; f < FRAMES; f++) kws_mfcc_frame(audio + f * KWS_FE_FFT_STRIDE_SAMPLES, features);
    uint64_t t1 = port_ticks();
    row("whole frame", t1 - t0);
#if KWS_FE_DECIMATION == 2
    /* a stride's new inputs into the ring's two halves, as the stream does */
    t0 = port_ticks();
    for (unsigned f = 0; f < FRAMES; f++)
        kws_decimate(audio + KWS_FE_DEC_BACK + f * KWS_FE_FFT_STRIDE_SAMPLES, KWS_FE_FFT_STRIDE_SAMPLES, decimated,
                     decimated + KWS_FE_N_FFT);
    t1 = port_ticks();
    row("decimator (a stride's inputs)", t1 - t0);
#endif

    t0 = port_ticks();
    for (unsigned f = 0; f < FRAMES; f++) window_fft_first_stage(audio + f * KWS_FE_FFT_STRIDE_SAMPLES);
    t1 = port_ticks();
    row("window + first FFT stage", t1 - t0);
#if KWS_FE_FFT_FIRST_SPAN >= 4
    t0 = port_ticks();
    for (unsigned f = 0; f < FRAMES; f++) {
        const cpx *tw = kws_fe_radix4_tw;
#pragma GCC unroll 8
        for (unsigned span = KWS_FE_FFT_FIRST_SPAN / 4; span > 1; span /= 4) {
            radix4_stage(span, tw);
            tw += 3 * span;
        }
    }
    t1 = port_ticks();
    row("radix-4 stages", t1 - t0);
    t0 = port_ticks();
    for (unsigned f = 0; f < FRAMES; f++) radix4_last();
    t1 = port_ticks();
    row("last radix-4 stage", t1 - t0);
#endif
    t0 = port_ticks();
    for (unsigned f = 0; f < FRAMES; f++) fft(audio + f * KWS_FE_FFT_STRIDE_SAMPLES);
    t1 = port_ticks();
    row("FFT (all stages)", t1 - t0);

    t0 = port_ticks();
    for (unsigned f = 0; f < FRAMES; f++) {
        float acc = 0.0f;
        for (unsigned m = 0; m < KWS_FE_N_MELS; m++) acc += ln_no_libm(mel_in[f][m] + KWS_FE_LOG_FLOOR);
        sink = acc;
    }
    t1 = port_ticks();
    row("log (40 bands)", t1 - t0);

    t0 = port_ticks();
    for (unsigned f = 0; f < FRAMES; f++) {
        dct_to_int8(mel_in[f], features);
        sink = features[0];
    }
    t1 = port_ticks();
    row("DCT + int8", t1 - t0);
    print("profile-done\n");
    for (;;) {
    }
}
