/* Command handlers: the MLPerf Tiny / EEMBC harness replies plus the kws-nas extensions.
 * Every command, accepted or not, ends with `m-ready`; errors are one `e-[...]` line and leave
 * the board's state as it was (an upload in progress is abandoned only by an overflow or a
 * KWS_PROTO_RESET byte). */
#include "harness.h"

#include <string.h>

#include "fe_stream.h"
#ifdef KWS_MODEL_IN_FLASH
#include "flash_model.h"
#endif
#include "mfcc.h"
#include "model.h"
#include "port.h"
#include "protocol.h"
#include "serial_out.h"
#include "stream_session.h"

#ifndef KWS_MODEL_BYTES
#define KWS_MODEL_BYTES (192 * 1024)
#endif
#ifndef KWS_ARENA_BYTES
#define KWS_ARENA_BYTES (96 * 1024)
#endif
#define KWS_INPUT_BYTES 4096
#define KWS_AUDIO_BYTES (KWS_FE_CLIP_SAMPLES * 2)
#define KWS_STREAM_CHUNK_BYTES 4096 /* one `stream push` (nas/board/protocol.py MAX_STREAM_CHUNK_BYTES) */

/* Global and never zeroed at reset, so that an emulator can preload a model description at this
 * symbol's address (`model mem N%`; nas/board/emulated.py reads it with arm-none-eabi-nm). */
uint8_t kws_model_buf[KWS_MODEL_BYTES] __attribute__((aligned(16), section(".noinit")));
/* Serial model uploads land in a staging buffer and replace the running model only once complete
 * and valid, so an abandoned or refused upload keeps the model that was there. A port without RAM
 * for a second buffer sets KWS_MODEL_STAGING=0: uploads then overwrite the model in place. */
#ifndef KWS_MODEL_STAGING
#define KWS_MODEL_STAGING 1
#endif
#if KWS_MODEL_STAGING
static uint8_t model_staging_buf[KWS_MODEL_BYTES] __attribute__((aligned(16)));
#else
#define model_staging_buf kws_model_buf
#endif
static uint8_t arena[KWS_ARENA_BYTES] __attribute__((aligned(16)));
static uint8_t input_buf[KWS_INPUT_BYTES] __attribute__((aligned(16)));
static int16_t audio_buf[KWS_FE_CLIP_SAMPLES];
static int16_t stream_chunk[KWS_STREAM_CHUNK_BYTES / 2];

static kws_line_t line;
static kws_loader_t loader;
static kws_model_t model;
/* The always-on session (`stream start`); `stages` runs its front end and post-processing too, and
 * so ends a session in progress. */
static kws_stream_session_t session;
static int model_ready;
static uint32_t input_len, audio_len; /* bytes of a completed upload, 0 if none */
static int results_valid;

static void ready(void) { out_line("m-ready"); }

static void error(const char *what)
{
    out_str("e-[");
    out_str(what);
    out_line("]");
}

static void error_u32(const char *what, uint32_t got, uint32_t expected)
{
    out_str("e-[");
    out_str(what);
    out_str(": got ");
    out_u64(got);
    out_str(", expected ");
    out_u64(expected);
    out_line("]");
}

static void lap_us(uint64_t ticks)
{
    out_str("m-lap-us-");
    out_u64(port_ticks_to_us(ticks));
    out_eol();
}

static const kws_blob_tensor_t *output_tensor(void)
{
    return &model.tensors[model.header->output_tensor];
}

static void print_results(void)
{
    const kws_blob_tensor_t *out = output_tensor();
    const int8_t *q = kws_model_tensor_data(&model, model.header->output_tensor);
    out_str("m-results-[");
    for (uint32_t i = 0; i < out->bytes; i++) {
        if (i) out_str(",");
        out_fixed(out->scale * (float)((int32_t)q[i] - out->zero_point), 5);
    }
    out_line("]");
    out_str("m-output-int8-[");
    for (uint32_t i = 0; i < out->bytes; i++) {
        if (i) out_str(",");
        out_i32(q[i]);
    }
    out_line("]");
}

/* Copies the db buffer into the model's input tensor; 0 if they agree in size. */
static int stage_input(void)
{
    const kws_blob_tensor_t *in = &model.tensors[model.header->input_tensor];
    if (input_len != in->bytes) {
        error_u32(input_len ? "input-size" : "no-input", input_len, in->bytes);
        return -1;
    }
    memcpy(kws_model_tensor_data(&model, model.header->input_tensor), input_buf, input_len);
    return 0;
}

static int invoke_or_report(void)
{
    const char *why = 0;
    if (kws_model_invoke(&model, &why) == 0) return 0;
    error(why);
    return -1;
}

static int require_model(void)
{
    if (model_ready) return 0;
    error("no-model: send `model load N%` and its db chunks first");
    return -1;
}

static void cmd_infer(uint32_t n, uint32_t warmup)
{
    if (require_model() || stage_input()) return;
    out_str("m-warmup-start-");
    out_u64(warmup);
    out_eol();
    for (uint32_t i = 0; i < warmup; i++)
        if (invoke_or_report()) return;
    out_line("m-warmup-done");
    out_str("m-infer-start-");
    out_u64(n);
    out_eol();
    uint64_t t0 = port_ticks();
    for (uint32_t i = 0; i < n; i++)
        if (invoke_or_report()) return;
    uint64_t t1 = port_ticks();
    lap_us(t0);
    lap_us(t1);
    out_line("m-infer-done");
    out_str("m-elapsed-");
    out_str(port_stage_unit());
    out_str("-");
    out_u64(port_ticks_to_stage_units(t1 - t0));
    out_eol();
    results_valid = 1;
    print_results();
}

static void stage_line(const char *stage, uint64_t ticks, uint32_t n)
{
    out_str("m-stage-");
    out_str(stage);
    out_str("-");
    out_u64(port_ticks_to_stage_units(ticks) / n);
    out_eol();
}

static void cmd_stages(uint32_t n, uint32_t warmup, uint32_t frames)
{
    if (require_model()) return;
    if (audio_len != KWS_AUDIO_BYTES) {
        error_u32("no-audio", audio_len, KWS_AUDIO_BYTES);
        return;
    }
    const kws_blob_tensor_t *in = &model.tensors[model.header->input_tensor];
    if (in->bytes != KWS_MFCC_FEATURES) {
        error_u32("model-input-is-not-the-front-end-output", in->bytes, KWS_MFCC_FEATURES);
        return;
    }
    if (frames * KWS_FE_STRIDE_SAMPLES > KWS_FE_CLIP_SAMPLES) {
        error_u32("frames-per-inference-exceed-the-clip", frames, KWS_FE_CLIP_SAMPLES / KWS_FE_STRIDE_SAMPLES);
        return;
    }
    kws_stage_times_t times;
    const char *why = 0;
    if (kws_stream_stages(&session, &model, audio_buf, n, warmup, frames, &times, &why) != 0) {
        error(why);
        return;
    }
    out_str("m-stage-unit-[");
    out_str(port_stage_unit());
    out_line("]");
    out_str("m-stage-frames-per-inference-");
    out_u64(frames ? frames : KWS_FE_NUM_FRAMES);
    out_eol();
    stage_line("features", times.features, n);
    stage_line("network", times.network, n);
    stage_line("post", times.post, n);
    out_str("m-top-[");
    out_i32(times.decision.top_class);
    out_str(",");
    out_i32(times.decision.score);
    out_line("]");
    results_valid = 1;
    print_results();
}

static void cmd_load(kws_target_t target, uint32_t n);

static void cmd_stream_start(const kws_cmd_t *cmd)
{
    if (require_model()) return;
    kws_rc_config_t config = {(int32_t)cmd->post[0], (int32_t)cmd->post[1], (int32_t)cmd->post[2],
                              (int32_t)cmd->post[3]};
    const char *why = 0;
    if (kws_stream_start(&session, &model, cmd->frames, &config, &why) != 0) {
        error(why);
        return;
    }
    out_line("m-stream-started");
}

static void cmd_stream_push(const kws_cmd_t *cmd)
{
    if (require_model()) return;
    if (!session.active) {
        error("no-stream: send `stream start F A T S M%` first");
        return;
    }
    if (cmd->seq != session.next_seq) {
        error_u32("stream-out-of-order", cmd->seq, session.next_seq);
        return;
    }
    if (cmd->count % 2) {
        error_u32("stream-chunk-odd-bytes: whole int16 samples only", cmd->count, cmd->count + 1);
        return;
    }
    cmd_load(KWS_TARGET_STREAM, cmd->count);
}

/* A complete chunk goes through the session; a failing network ends it. */
static void stream_chunk_complete(uint32_t bytes)
{
    const char *why = 0;
    session.next_seq++;
    if (kws_stream_push(&session, &model, stream_chunk, bytes / 2, &why) != 0) {
        session.active = 0;
        error(why);
    }
}

static void cmd_mfcc(void)
{
    if (audio_len != KWS_AUDIO_BYTES) {
        error_u32("no-audio", audio_len, KWS_AUDIO_BYTES);
        return;
    }
    kws_mfcc_compute(audio_buf, (int8_t *)input_buf);
    input_len = KWS_MFCC_FEATURES;
    out_str("m-mfcc-done-");
    out_u64(input_len);
    out_eol();
}

static void cmd_db_print(void)
{
    for (uint32_t i = 0; i < input_len; i += 32) {
        out_str("m-buffer-");
        out_hex(input_buf + i, input_len - i < 32 ? input_len - i : 32);
        out_eol();
    }
}

static void cmd_load(kws_target_t target, uint32_t n)
{
    static const struct {
        uint8_t *buf;
        uint32_t capacity;
    } targets[] = {
        [KWS_TARGET_INPUT] = {input_buf, sizeof input_buf},
        [KWS_TARGET_MODEL] = {model_staging_buf, KWS_MODEL_BYTES},
        [KWS_TARGET_AUDIO] = {(uint8_t *)audio_buf, KWS_AUDIO_BYTES},
        [KWS_TARGET_STREAM] = {(uint8_t *)stream_chunk, KWS_STREAM_CHUNK_BYTES},
    };
    /* A new upload invalidates what that buffer held before. */
    if (target == KWS_TARGET_INPUT) input_len = 0;
    if (target == KWS_TARGET_MODEL && !KWS_MODEL_STAGING) model_ready = results_valid = session.active = 0;
    if (target == KWS_TARGET_AUDIO) audio_len = 0;
    kws_load_status_t status =
        kws_loader_begin(&loader, target, targets[target].buf, targets[target].capacity, n);
    if (status == KWS_LOAD_ZERO) {
        error("load-size-zero");
    } else if (status == KWS_LOAD_TOO_BIG) {
        error_u32("load-too-big", n, targets[target].capacity);
    } else {
        out_str("m-[Expecting ");
        out_u64(n);
        out_line(" bytes]");
    }
}

/* Validates the description in `blob`, then makes it the running model (copied into kws_model_buf,
 * where `model mem` finds it too); a refused one leaves the running model as it was. */
static void accept_model(const uint8_t *blob, uint32_t bytes)
{
    const char *why = 0;
    kws_model_t candidate;
    if (kws_model_load(&candidate, blob, bytes, arena, sizeof arena, &why) != 0) {
        error(why);
        return;
    }
    if (blob != kws_model_buf) {
        memcpy(kws_model_buf, blob, bytes);
        kws_model_load(&candidate, kws_model_buf, bytes, arena, sizeof arena, &why); /* same bytes: valid */
    }
    model = candidate;
    model_ready = 1;
    session.active = 0; /* a session runs on the model it started with */
    results_valid = 0;
    out_str("m-model-[");
    out_str(model.header->name);
    out_str("]-ops-");
    out_u64(model.header->n_ops);
    out_str("-arena-");
    out_u64(model.header->arena_bytes);
    out_eol();
}

static void upload_complete(kws_target_t target, uint32_t bytes)
{
    if (target == KWS_TARGET_INPUT) input_len = bytes;
    if (target == KWS_TARGET_AUDIO) audio_len = bytes;
    out_line("m-load-done");
    if (target == KWS_TARGET_MODEL) accept_model(model_staging_buf, bytes);
    if (target == KWS_TARGET_STREAM) stream_chunk_complete(bytes);
}

/* `model mem N%`: the model is already in kws_model_buf (written by the emulator's loader). */
static void cmd_model_mem(uint32_t n)
{
    model_ready = results_valid = session.active = 0;
    if (loader.target == KWS_TARGET_MODEL) kws_loader_abort(&loader); /* the preloaded model wins */
    if (n == 0 || n > sizeof kws_model_buf) {
        error_u32("model-mem-size", n, sizeof kws_model_buf);
        return;
    }
    out_line("m-load-done");
    accept_model(kws_model_buf, n);
}

static void cmd_db_data(const kws_cmd_t *cmd)
{
    kws_target_t target = loader.target;
    switch (kws_loader_append(&loader, cmd->data, cmd->data_len)) {
    case KWS_LOAD_MORE: break;
    case KWS_LOAD_DONE: upload_complete(target, loader.expected); break;
    case KWS_LOAD_IDLE: error("db-without-load: send `db load N%` first"); break;
    default: error("db-overflow: more bytes than announced; upload abandoned"); break;
    }
}

static void cmd_help(void)
{
    for (size_t i = 0; kws_help_lines[i]; i++) out_line(kws_help_lines[i]);
}

static void execute(const kws_cmd_t *cmd)
{
    switch (cmd->kind) {
    case KWS_CMD_NAME:
        out_str("m-name-dut-[kws-nas ");
        out_str(port_board_name());
        out_line("]");
        break;
    case KWS_CMD_PROFILE:
        out_line("m-profile-[kws-nas]");
        out_str("m-model-[");
        out_str(model_ready ? model.header->name : "none");
        out_line("]");
        break;
    case KWS_CMD_TIMESTAMP: lap_us(port_ticks()); break;
    case KWS_CMD_HELP: cmd_help(); break;
    case KWS_CMD_RESULTS:
        if (results_valid && model_ready)
            print_results();
        else
            error("no-results: run `infer N W%` first");
        break;
    case KWS_CMD_DB_LOAD: cmd_load(KWS_TARGET_INPUT, cmd->count); break;
    case KWS_CMD_MODEL_LOAD: cmd_load(KWS_TARGET_MODEL, cmd->count); break;
    case KWS_CMD_AUDIO_LOAD: cmd_load(KWS_TARGET_AUDIO, cmd->count); break;
    case KWS_CMD_DB_DATA: cmd_db_data(cmd); break;
    case KWS_CMD_DB_PRINT: cmd_db_print(); break;
    case KWS_CMD_INFER: cmd_infer(cmd->count, cmd->warmup); break;
    case KWS_CMD_MFCC: cmd_mfcc(); break;
    case KWS_CMD_STAGES: cmd_stages(cmd->count, cmd->warmup, cmd->frames); break;
    case KWS_CMD_MODEL_MEM: cmd_model_mem(cmd->count); break;
    case KWS_CMD_STREAM_START: cmd_stream_start(cmd); break;
    case KWS_CMD_STREAM_PUSH: cmd_stream_push(cmd); break;
    }
}

void kws_harness_boot(void)
{
    kws_line_reset(&line);
    out_line("m-timestamp-mode-performance");
    lap_us(port_ticks());
#ifdef KWS_MODEL_IN_FLASH
    /* A flash-mode image runs its built-in model from boot (`profile%` names it); quietly, so the
     * banner stays MLPerf Tiny's. A model the board refuses is one e- line, and `infer` then says no-model. */
    const char *why = 0;
    model_ready = kws_model_load(&model, kws_flash_model, kws_flash_model_bytes, arena, sizeof arena, &why) == 0;
    if (!model_ready) error(why);
#endif
    out_line("m-init-done");
    ready();
}

void kws_harness_byte(char c)
{
    kws_line_status_t status = kws_line_feed(&line, c);
    if (status == KWS_LINE_PENDING) return;
    if (status == KWS_LINE_RESET) {
        kws_loader_abort(&loader);
        out_line("m-reset-done");
    } else if (status == KWS_LINE_TOO_LONG) {
        error("command-too-long: at most 80 characters before '%'");
    } else {
        kws_cmd_t cmd;
        kws_parse_status_t parsed = kws_parse(line.text, line.len, &cmd);
        if (parsed == KWS_PARSE_OK)
            execute(&cmd);
        else
            error(kws_parse_status_str(parsed));
    }
    kws_line_reset(&line);
    ready();
}
