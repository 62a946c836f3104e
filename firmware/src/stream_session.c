#include "stream_session.h"

#include <math.h>

#include "interpreter.h"
#include "port.h"
#include "serial_out.h"

/* The op that writes the model's output: a SOFTMAX there means the outputs are already scores. */
static int ends_in_softmax(const kws_model_t *model)
{
    for (uint32_t i = model->header->n_ops; i-- > 0;) {
        const kws_blob_op_t *op = &model->ops[i];
        const int16_t *outs = kws_op_outputs(model, op);
        for (uint32_t k = 0; k < op->n_outputs; k++)
            if (outs[k] == (int16_t)model->header->output_tensor) return op->opcode == KWS_OP_SOFTMAX;
    }
    return 0;
}

int kws_stream_start(kws_stream_session_t *s, const kws_model_t *model, uint32_t frames,
                     const kws_rc_config_t *config, const char **why)
{
    s->active = 0;
    const kws_blob_tensor_t *in = &model->tensors[model->header->input_tensor];
    const kws_blob_tensor_t *out = &model->tensors[model->header->output_tensor];
    if (in->bytes != KWS_MFCC_FEATURES) {
        *why = "stream-model-input-is-not-the-front-end-output";
        return -1;
    }
    if (frames == 0 || frames > KWS_FE_NUM_FRAMES) {
        *why = "stream-frames-per-inference: expected 1..the model's input frames";
        return -1;
    }
    const uint32_t *table = 0;
    if (!ends_in_softmax(model)) {
        if (!(out->scale > 0.0f)) {
            *why = "stream-output-scale-not-positive";
            return -1;
        }
        /* round(2^16 exp(-d scale)) in double, as nas/stream/postprocess.py's softmax_table */
        for (uint32_t d = 0; d < 256; d++)
            s->exp_table[d] = (uint32_t)(65536.0 * exp(-(double)d * (double)out->scale) + 0.5);
        table = s->exp_table;
    }
    if (kws_recognize_commands_init(&s->rc, config, out->bytes, table) != KWS_RC_OK) {
        *why = "stream-post-processing: expected threshold 0..255, minimum count 1..50, "
               "at most 64 classes";
        return -1;
    }
    kws_fe_stream_reset(&s->fe);
    s->hop_samples = frames * KWS_FE_STRIDE_SAMPLES;
    s->next_end = s->next_end_total = KWS_FE_CLIP_SAMPLES;
    s->next_seq = 0;
    s->active = 1;
    return 0;
}

static int infer(kws_stream_session_t *s, const kws_model_t *model, const char **why)
{
    kws_fe_stream_features(&s->fe, kws_model_tensor_data(model, model->header->input_tensor));
    if (kws_model_invoke(model, why) != 0) return -1;
    const int8_t *q = kws_model_tensor_data(model, model->header->output_tensor);
    uint32_t n = s->rc.n_classes;
    int32_t time_ms = (int32_t)(s->next_end_total * 1000u / KWS_FE_SAMPLE_RATE);
    out_str("m-stream-out-");
    out_u64((uint64_t)time_ms);
    out_str("-[");
    for (uint32_t i = 0; i < n; i++) {
        if (i) out_str(",");
        out_i32(q[i]);
    }
    out_line("]");
    kws_rc_decision_t decision;
    if (kws_recognize_commands_process(&s->rc, q, time_ms, &decision) != KWS_RC_OK) {
        *why = "stream-time-out-of-order"; /* a 32-bit millisecond clock wrapped: 24 days of audio */
        return -1;
    }
    if (decision.is_new_command) {
        out_str("m-stream-detect-");
        out_u64((uint64_t)time_ms);
        out_str("-");
        out_i32(decision.top_class);
        out_str("-");
        out_i32(decision.score);
        out_eol();
    }
    return 0;
}

int kws_stream_push(kws_stream_session_t *s, const kws_model_t *model, const int16_t *pcm, uint32_t n,
                    const char **why)
{
    while (n) {
        /* up to the next inference's last sample, so that it sees exactly its window */
        uint32_t to_end = s->next_end - s->fe.pushed;
        uint32_t take = n < to_end ? n : to_end;
        kws_fe_stream_push(&s->fe, pcm, take);
        pcm += take;
        n -= take;
        if (s->fe.pushed != s->next_end) continue;
        if (infer(s, model, why) != 0) return -1;
        s->next_end += s->hop_samples;
        s->next_end_total += s->hop_samples;
    }
    return 0;
}

/* The features of one `stages` inference: the whole clip, or `frames` new strides of audio through
 * the streaming front end, taken from the clip cyclically from *at on. */
static void stage_features(kws_stream_session_t *s, const int16_t *clip, uint32_t frames, uint32_t *at,
                           int8_t *features)
{
    if (!frames) {
        kws_mfcc_compute(clip, features);
        return;
    }
    for (uint32_t left = frames * KWS_FE_STRIDE_SAMPLES; left;) {
        uint32_t take = KWS_FE_CLIP_SAMPLES - *at < left ? KWS_FE_CLIP_SAMPLES - *at : left;
        kws_fe_stream_push(&s->fe, clip + *at, take);
        *at = *at + take == KWS_FE_CLIP_SAMPLES ? 0 : *at + take;
        left -= take;
    }
    kws_fe_stream_features(&s->fe, features);
}

int kws_stream_stages(kws_stream_session_t *s, const kws_model_t *model, const int16_t *clip, uint32_t n,
                      uint32_t warmup, uint32_t frames, kws_stage_times_t *times, const char **why)
{
    static const kws_rc_config_t micro_speech = {1000, 200, 1500, 3};
    uint32_t hop = frames ? frames : KWS_FE_NUM_FRAMES; /* one result per hop of audio */
    if (kws_stream_start(s, model, hop, &micro_speech, why) != 0) return -1;
    s->active = 0;
    int8_t *features = kws_model_tensor_data(model, model->header->input_tensor);
    const int8_t *outputs = kws_model_tensor_data(model, model->header->output_tensor);
    *times = (kws_stage_times_t){0};
    uint32_t at = 0;
    if (frames) kws_fe_stream_push(&s->fe, clip, KWS_FE_CLIP_SAMPLES); /* a stream that ran for a while */
    for (uint32_t i = 0; i < warmup + n; i++) {
        uint64_t t0 = port_ticks();
        stage_features(s, clip, frames, &at, features);
        uint64_t t1 = port_ticks();
        if (kws_model_invoke(model, why) != 0) return -1;
        uint64_t t2 = port_ticks();
        int32_t time_ms = (int32_t)((i + 1) * hop * KWS_FE_STRIDE_SAMPLES * 1000u / KWS_FE_SAMPLE_RATE);
        kws_recognize_commands_process(&s->rc, outputs, time_ms, &times->decision);
        uint64_t t3 = port_ticks();
        if (i >= warmup) {
            times->features += t1 - t0;
            times->network += t2 - t1;
            times->post += t3 - t2;
        }
    }
    return 0;
}
