/* Pure command parser for the serial protocol; see protocol.h for the grammar. */
#include "protocol.h"

#include <string.h>

void kws_line_reset(kws_line_t *line)
{
    line->len = 0;
    line->overflow = 0;
    line->text[0] = '\0';
}

kws_line_status_t kws_line_feed(kws_line_t *line, char c)
{
    if (c == '%') {
        kws_line_status_t status = line->overflow ? KWS_LINE_TOO_LONG : KWS_LINE_READY;
        line->text[line->len] = '\0';
        line->overflow = 0;
        return status; /* the caller reads text/len, then calls kws_line_reset */
    }
    if (c == KWS_PROTO_RESET) {
        kws_line_reset(line);
        return KWS_LINE_RESET;
    }
    if (c == '\r' || c == '\n') return KWS_LINE_PENDING;
    if (line->len >= KWS_PROTO_MAX_LINE) {
        line->overflow = 1;
        return KWS_LINE_PENDING;
    }
    line->text[line->len++] = c;
    return KWS_LINE_PENDING;
}

#define MAX_TOKENS 7 /* `stream start F A T S M` */

typedef struct {
    const char *start;
    size_t len;
} token_t;

static size_t tokenize(const char *text, size_t len, token_t *tokens)
{
    size_t n = 0, i = 0;
    while (i < len) {
        while (i < len && (text[i] == ' ' || text[i] == '\t')) i++;
        if (i >= len) break;
        size_t start = i;
        while (i < len && text[i] != ' ' && text[i] != '\t') i++;
        if (n == MAX_TOKENS) return MAX_TOKENS + 1; /* too many: callers reject */
        tokens[n].start = text + start;
        tokens[n].len = i - start;
        n++;
    }
    return n;
}

static int token_is(const token_t *t, const char *word)
{
    size_t n = strlen(word);
    return t->len == n && memcmp(t->start, word, n) == 0;
}

/* Decimal, 1..10 digits, value <= 0x7FFFFFFF (sizes and counts, never negative). */
static int parse_number(const token_t *t, uint32_t *out)
{
    if (t->len == 0 || t->len > 10) return 0;
    uint64_t value = 0;
    for (size_t i = 0; i < t->len; i++) {
        char c = t->start[i];
        if (c < '0' || c > '9') return 0;
        value = value * 10u + (uint32_t)(c - '0');
    }
    if (value > 0x7FFFFFFFu) return 0;
    *out = (uint32_t)value;
    return 1;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static kws_parse_status_t parse_hex(const token_t *t, kws_cmd_t *cmd)
{
    if (t->len % 2 != 0 || t->len / 2 > KWS_PROTO_MAX_DATA) return KWS_PARSE_HEX;
    for (size_t i = 0; i < t->len; i += 2) {
        int hi = hex_digit(t->start[i]), lo = hex_digit(t->start[i + 1]);
        if (hi < 0 || lo < 0) return KWS_PARSE_HEX;
        cmd->data[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    cmd->data_len = (uint32_t)(t->len / 2);
    cmd->kind = KWS_CMD_DB_DATA;
    return KWS_PARSE_OK;
}

/* `<verb> N [W]` with W defaulting to 0. */
static kws_parse_status_t parse_count_warmup(const token_t *tok, size_t n, kws_cmd_t *cmd,
                                             kws_cmd_kind_t kind)
{
    if (n < 2 || n > 3) return KWS_PARSE_ARGS;
    if (!parse_number(&tok[1], &cmd->count) || cmd->count == 0) return KWS_PARSE_NUMBER;
    if (n == 3 && !parse_number(&tok[2], &cmd->warmup)) return KWS_PARSE_NUMBER;
    cmd->kind = kind;
    return KWS_PARSE_OK;
}

static kws_parse_status_t parse_load(const token_t *tok, size_t n, kws_cmd_t *cmd,
                                     kws_cmd_kind_t kind)
{
    if (n != 3) return KWS_PARSE_ARGS;
    if (!parse_number(&tok[2], &cmd->count)) return KWS_PARSE_NUMBER;
    cmd->kind = kind;
    return KWS_PARSE_OK;
}

/* `stream start F A T S M` or `stream push Q N`. */
static kws_parse_status_t parse_stream(const token_t *tok, size_t n, kws_cmd_t *cmd)
{
    if (n == 7 && token_is(&tok[1], "start")) {
        if (!parse_number(&tok[2], &cmd->frames)) return KWS_PARSE_NUMBER;
        for (size_t i = 0; i < 4; i++)
            if (!parse_number(&tok[3 + i], &cmd->post[i])) return KWS_PARSE_NUMBER;
        cmd->kind = KWS_CMD_STREAM_START;
        return KWS_PARSE_OK;
    }
    if (n == 4 && token_is(&tok[1], "push")) {
        if (!parse_number(&tok[2], &cmd->seq) || !parse_number(&tok[3], &cmd->count)) return KWS_PARSE_NUMBER;
        cmd->kind = KWS_CMD_STREAM_PUSH;
        return KWS_PARSE_OK;
    }
    return KWS_PARSE_ARGS;
}

kws_parse_status_t kws_parse(const char *text, size_t len, kws_cmd_t *cmd)
{
    token_t tok[MAX_TOKENS];
    memset(cmd, 0, sizeof *cmd);
    size_t n = tokenize(text, len, tok);
    if (n == 0) return KWS_PARSE_EMPTY;
    if (n > MAX_TOKENS) return KWS_PARSE_ARGS;

    static const struct {
        const char *word;
        kws_cmd_kind_t kind;
    } bare[] = {
        {"name", KWS_CMD_NAME},       {"profile", KWS_CMD_PROFILE}, {"timestamp", KWS_CMD_TIMESTAMP},
        {"help", KWS_CMD_HELP},       {"results", KWS_CMD_RESULTS}, {"mfcc", KWS_CMD_MFCC},
    };
    for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++) {
        if (token_is(&tok[0], bare[i].word)) {
            if (n != 1) return KWS_PARSE_ARGS;
            cmd->kind = bare[i].kind;
            return KWS_PARSE_OK;
        }
    }
    if (token_is(&tok[0], "infer")) return parse_count_warmup(tok, n, cmd, KWS_CMD_INFER);
    if (token_is(&tok[0], "stages")) {
        if (n == 4) { /* `stages N W F`: F > 0 new frames per inference */
            if (!parse_number(&tok[3], &cmd->frames) || cmd->frames == 0) return KWS_PARSE_NUMBER;
            n = 3;
        }
        return parse_count_warmup(tok, n, cmd, KWS_CMD_STAGES);
    }
    if (token_is(&tok[0], "stream")) return parse_stream(tok, n, cmd);
    if (token_is(&tok[0], "model") || token_is(&tok[0], "audio")) {
        if (n >= 2 && token_is(&tok[0], "model") && token_is(&tok[1], "mem"))
            return parse_load(tok, n, cmd, KWS_CMD_MODEL_MEM);
        if (n < 2 || !token_is(&tok[1], "load")) return KWS_PARSE_ARGS;
        return parse_load(tok, n, cmd, token_is(&tok[0], "model") ? KWS_CMD_MODEL_LOAD : KWS_CMD_AUDIO_LOAD);
    }
    if (token_is(&tok[0], "db")) {
        if (n < 2) return KWS_PARSE_ARGS;
        if (token_is(&tok[1], "load")) return parse_load(tok, n, cmd, KWS_CMD_DB_LOAD);
        if (token_is(&tok[1], "print")) {
            if (n != 2) return KWS_PARSE_ARGS;
            cmd->kind = KWS_CMD_DB_PRINT;
            return KWS_PARSE_OK;
        }
        if (n != 2) return KWS_PARSE_ARGS;
        return parse_hex(&tok[1], cmd);
    }
    return KWS_PARSE_UNKNOWN;
}

const char *const kws_help_lines[] = {
    "m-help-name% profile% timestamp% help% results%",
    "m-help-db load N% | db <hex>% | db print%  (N bytes of int8 model input)",
    "m-help-infer N W%  (N timed inferences after W warm-ups on the db input)",
    "m-help-model load N%  (then db <hex>% chunks: a kws-nas model description)",
    "m-help-model mem N%  (the model buffer already holds an N-byte model description)",
    "m-help-audio load N%  (then db <hex>% chunks: int16 LE PCM)",
    "m-help-mfcc%  (front end on the audio; features replace the db buffer)",
    "m-help-stages N W%  (features + network + post-processing, timed per stage)",
    "m-help-stages N W F%  (the same streaming: F new frames per inference)",
    "m-help-stream start F A T S M%  (always-on: F new frames per inference, RecognizeCommands A ms T S ms M)",
    "m-help-stream push Q N%  (then db <hex>% chunks: chunk Q of int16 LE PCM; outputs, detections)",
    "m-help-byte 0x18 (CAN)  (drops a partial command and abandons an upload: m-reset-done)",
    0,
};

const char *kws_parse_status_str(kws_parse_status_t status)
{
    switch (status) {
    case KWS_PARSE_OK: return "ok";
    case KWS_PARSE_EMPTY: return "empty-command";
    case KWS_PARSE_UNKNOWN: return "unknown-command";
    case KWS_PARSE_ARGS: return "wrong-arguments";
    case KWS_PARSE_NUMBER: return "bad-number";
    case KWS_PARSE_HEX: return "bad-hex";
    }
    return "unknown-status";
}

kws_load_status_t kws_loader_begin(kws_loader_t *ld, kws_target_t target, uint8_t *buf,
                                   uint32_t capacity, uint32_t n)
{
    ld->target = KWS_TARGET_NONE;
    if (n == 0) return KWS_LOAD_ZERO;
    if (n > capacity) return KWS_LOAD_TOO_BIG;
    ld->buf = buf;
    ld->expected = n;
    ld->received = 0;
    ld->target = target;
    return KWS_LOAD_MORE;
}

kws_load_status_t kws_loader_append(kws_loader_t *ld, const uint8_t *data, uint32_t len)
{
    if (ld->target == KWS_TARGET_NONE) return KWS_LOAD_IDLE;
    if (len > ld->expected - ld->received) {
        ld->target = KWS_TARGET_NONE;
        return KWS_LOAD_OVERFLOW;
    }
    memcpy(ld->buf + ld->received, data, len);
    ld->received += len;
    if (ld->received == ld->expected) {
        ld->target = KWS_TARGET_NONE;
        return KWS_LOAD_DONE;
    }
    return KWS_LOAD_MORE;
}

void kws_loader_abort(kws_loader_t *ld) { ld->target = KWS_TARGET_NONE; }
