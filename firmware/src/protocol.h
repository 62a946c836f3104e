/* The serial command grammar, as a pure parser: no I/O, no mutable state, so that it is compiled for the
 * host too and fuzzed (benchmarks/fuzz_protocol.py, firmware/host/fuzz_protocol.c).
 *
 * MLPerf Tiny / EEMBC harness commands (mlcommons/tiny benchmark/api), unchanged:
 *   name%  profile%  timestamp%  help%  results%  db load N%  db <hex>%  db print%  infer N W%
 * kws-nas extensions in the same style:
 *   model load N%   then db <hex>% chunks: a model description (firmware/src/model.h) into RAM
 *   model mem N%    the first N bytes of the model buffer already hold one (an emulator or
 *                   debugger wrote it there; the buffer's address is the ELF symbol kws_model_buf)
 *   audio load N%   then db <hex>% chunks: int16 little-endian PCM for the on-board front end
 *   mfcc%           front end on the loaded audio; its int8 features replace the db buffer
 *   stages N W%     features + network + post-processing N times (after W warm-ups), timed per stage
 *   stages N W F%   the same always-on: the streaming front end (fe_stream.h) primed with the
 *                   clip, then each inference pushes F strides of new audio (the clip, cycled),
 *                   computes only its F new frames and runs the network on the last NUM_FRAMES
 *   stream start F A T S M   an always-on session on the loaded model: the streaming front end, an
 *                   inference every F new frames, RecognizeCommands with an A ms average window,
 *                   threshold T (0..255), S ms suppression and a minimum count M
 *   stream push Q N then db <hex>% chunks: chunk Q (0, 1, 2... in order) of N bytes of int16 LE PCM;
 *                   when complete, every inference it completes replies `m-stream-out-<ms>-[int8...]`
 *                   and every new detection `m-stream-detect-<ms>-<class>-<score>`
 * A command is at most KWS_PROTO_MAX_LINE characters before its terminating '%'.
 *
 * Resync: the byte KWS_PROTO_RESET (ASCII CAN, "cancel") discards a partial command and abandons an
 * upload in progress; the board replies `m-reset-done` and `m-ready`. A host sends it when a new
 * client takes over the link (`kws-nas board serve`), so nothing a dropped client left half-sent
 * is glued to the next client's commands.
 */
#ifndef KWS_PROTOCOL_H
#define KWS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define KWS_PROTO_MAX_LINE 80
#define KWS_PROTO_MAX_DATA 38 /* bytes of hex in one `db` command: (80 - 3) / 2 */
#define KWS_PROTO_RESET '\x18'

/* ---- line assembly: bytes in, whole commands out ---- */
typedef struct {
    char text[KWS_PROTO_MAX_LINE + 1]; /* NUL-terminated once KWS_LINE_READY */
    uint32_t len;
    uint8_t overflow; /* the current command exceeded the limit: discard up to its '%' */
} kws_line_t;

typedef enum { KWS_LINE_PENDING = 0, KWS_LINE_READY, KWS_LINE_TOO_LONG, KWS_LINE_RESET } kws_line_status_t;

void kws_line_reset(kws_line_t *line);
/* '%' ends a command; CR and LF are ignored so that terminals and line-based tools both work;
 * KWS_PROTO_RESET discards the partial command (KWS_LINE_RESET, the line is already empty). */
kws_line_status_t kws_line_feed(kws_line_t *line, char c);

/* ---- command parsing ---- */
typedef enum {
    KWS_CMD_NAME = 0,
    KWS_CMD_PROFILE,
    KWS_CMD_TIMESTAMP,
    KWS_CMD_HELP,
    KWS_CMD_RESULTS,
    KWS_CMD_DB_LOAD,
    KWS_CMD_DB_DATA,
    KWS_CMD_DB_PRINT,
    KWS_CMD_INFER,
    KWS_CMD_MODEL_LOAD,
    KWS_CMD_AUDIO_LOAD,
    KWS_CMD_MFCC,
    KWS_CMD_STAGES,
    KWS_CMD_MODEL_MEM,
    KWS_CMD_STREAM_START,
    KWS_CMD_STREAM_PUSH,
} kws_cmd_kind_t;

typedef struct {
    kws_cmd_kind_t kind;
    uint32_t count;  /* N of load / infer / stages */
    uint32_t warmup; /* W of infer / stages */
    uint8_t data[KWS_PROTO_MAX_DATA];
    uint32_t data_len;
    uint32_t frames; /* F of `stages N W F` and `stream start F ...`: new frames per inference; 0: the whole clip */
    uint32_t seq;    /* Q of `stream push Q N` (N in count) */
    uint32_t post[4]; /* A T S M of `stream start`: RecognizeCommands' window, threshold, suppression, count */
} kws_cmd_t;

typedef enum {
    KWS_PARSE_OK = 0,
    KWS_PARSE_EMPTY,
    KWS_PARSE_UNKNOWN,     /* no such command */
    KWS_PARSE_ARGS,        /* wrong number of arguments */
    KWS_PARSE_NUMBER,      /* not a decimal number, or out of range */
    KWS_PARSE_HEX,         /* odd length, non-hex digit or too many bytes */
} kws_parse_status_t;

kws_parse_status_t kws_parse(const char *text, size_t len, kws_cmd_t *cmd);
/* `help%`'s reply: one `m-help-...` line per command, NULL-terminated. */
extern const char *const kws_help_lines[];
const char *kws_parse_status_str(kws_parse_status_t status);

/* ---- multi-command uploads (`... load N%` then `db <hex>%` until N bytes arrived) ---- */
typedef enum {
    KWS_TARGET_NONE = 0,
    KWS_TARGET_INPUT,
    KWS_TARGET_MODEL,
    KWS_TARGET_AUDIO,
    KWS_TARGET_STREAM,
} kws_target_t;

typedef struct {
    uint8_t *buf;
    uint32_t expected, received;
    kws_target_t target; /* KWS_TARGET_NONE: no upload in progress */
} kws_loader_t;

typedef enum {
    KWS_LOAD_MORE = 0,   /* accepted, more bytes expected */
    KWS_LOAD_DONE,       /* accepted, upload complete */
    KWS_LOAD_IDLE,       /* data without a preceding load command */
    KWS_LOAD_OVERFLOW,   /* more bytes than announced: upload abandoned */
    KWS_LOAD_TOO_BIG,    /* announced size exceeds the buffer */
    KWS_LOAD_ZERO,       /* announced size 0 */
} kws_load_status_t;

kws_load_status_t kws_loader_begin(kws_loader_t *ld, kws_target_t target, uint8_t *buf,
                                   uint32_t capacity, uint32_t n);
kws_load_status_t kws_loader_append(kws_loader_t *ld, const uint8_t *data, uint32_t len);
/* Abandons the upload in progress, if any: later `db <hex>%` are refused until the next load. */
void kws_loader_abort(kws_loader_t *ld);

#endif
