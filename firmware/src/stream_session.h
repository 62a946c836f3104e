/* An always-on session on the board: audio chunks in, through the streaming front end (fe_stream.h),
 * the network every F new frames and RecognizeCommands (recognize_commands.h), int8 outputs and
 * detections out. The host's twin is nas/stream (the same front end, model and post-processing),
 * so host and board give identical outputs and detections on the same audio. */
#ifndef KWS_STREAM_SESSION_H
#define KWS_STREAM_SESSION_H

#include <stdint.h>

#include "fe_stream.h"
#include "model.h"
#include "recognize_commands.h"

typedef struct {
    kws_fe_stream_t fe;
    kws_recognize_commands_t rc;
    uint32_t exp_table[256]; /* the softmax table of the model's output scale (recognize_commands.h) */
    uint32_t hop_samples;    /* audio between inferences: F strides */
    uint32_t next_end;       /* samples pushed when the next inference runs (mod 2^32, as fe.pushed) */
    uint64_t next_end_total; /* the same, not wrapping: its time stamp */
    uint32_t next_seq;       /* the chunk number `stream push` expects next */
    uint8_t active;
} kws_stream_session_t;

/* Starts a session on `model` (whose input must be the front end's output): `frames` new frames per
 * inference, RecognizeCommands with `config`. Returns 0, or -1 with *why naming the problem. */
int kws_stream_start(kws_stream_session_t *s, const kws_model_t *model, uint32_t frames,
                     const kws_rc_config_t *config, const char **why);

/* Pushes n samples; each inference they complete runs the network and RecognizeCommands and prints
 * `m-stream-out-<ms>-[q...]` and, for a new command, `m-stream-detect-<ms>-<class>-<score>`.
 * Returns 0, or -1 with *why when the network fails. */
int kws_stream_push(kws_stream_session_t *s, const kws_model_t *model, const int16_t *pcm, uint32_t n,
                    const char **why);

/* `stages N W [F]`: features + network + RecognizeCommands (micro_speech's defaults) timed per stage,
 * summed over n inferences after `warmup`, on `clip` (KWS_FE_CLIP_SAMPLES): the whole clip's features
 * each time, or (frames > 0) the streaming front end primed with the clip (untimed), then `frames`
 * new strides per inference, the clip cycled. Uses the session's parts and ends a session. */
typedef struct {
    uint64_t features, network, post; /* port ticks */
    kws_rc_decision_t decision;       /* of the last inference */
} kws_stage_times_t;

int kws_stream_stages(kws_stream_session_t *s, const kws_model_t *model, const int16_t *clip, uint32_t n,
                      uint32_t warmup, uint32_t frames, kws_stage_times_t *times, const char **why);

#endif
