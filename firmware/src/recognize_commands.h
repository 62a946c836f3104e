/* Post-processing on a stream, in the shape of TFLite Micro micro_speech's RecognizeCommands:
 * int8 logits -> integer softmax scores 0..255 -> average over a time window -> a detection when the
 * top class's average exceeds a threshold and it is new (another class than the last detection, or
 * the last detection is older than the suppression time). Integer arithmetic only after a 256-entry
 * exp table, so nas/stream/postprocess.py gives identical decisions on the same int8 outputs. */
#ifndef KWS_RECOGNIZE_COMMANDS_H
#define KWS_RECOGNIZE_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#define KWS_RC_MAX_CLASSES 64
#define KWS_RC_MAX_RESULTS 50 /* results the averaging window holds at most */
#define KWS_RC_SCORE_MAX 255

typedef struct {
    int32_t average_window_ms;
    int32_t detection_threshold; /* 0..255 */
    int32_t suppression_ms;
    int32_t minimum_count; /* 1..KWS_RC_MAX_RESULTS */
} kws_rc_config_t;

typedef enum {
    KWS_RC_OK = 0,
    KWS_RC_BAD_CONFIG = 1,
    KWS_RC_OUT_OF_ORDER = 2, /* a result not later than the previous one */
} kws_rc_status_t;

typedef struct {
    int32_t top_class;
    int32_t score; /* averaged score 0..255 of top_class; 0 while too few results */
    uint8_t is_new_command;
} kws_rc_decision_t;

typedef struct {
    kws_rc_config_t config;
    uint32_t n_classes;
    /* round(2^16 * exp(-d * output_scale)) for logit gaps d = 0..255; NULL: outputs are an int8 softmax */
    const uint32_t *exp_table;
    uint8_t scores[KWS_RC_MAX_RESULTS][KWS_RC_MAX_CLASSES];
    int32_t times_ms[KWS_RC_MAX_RESULTS];
    uint32_t first, count; /* ring of results, oldest at first */
    int32_t latest_time_ms, last_class, last_time_ms;
    uint8_t has_latest, has_last;
} kws_recognize_commands_t;

kws_rc_status_t kws_recognize_commands_init(kws_recognize_commands_t *rc, const kws_rc_config_t *config,
                                            uint32_t n_classes, const uint32_t *exp_table);
/* int8 logits -> scores 0..255 (round(255 * w_c / sum w), w_c = exp_table[max - q_c]). */
void kws_rc_softmax(const int8_t *output, uint32_t n_classes, const uint32_t *exp_table, uint8_t *scores);
kws_rc_status_t kws_recognize_commands_process(kws_recognize_commands_t *rc, const int8_t *output,
                                               int32_t time_ms, kws_rc_decision_t *decision);

#endif
