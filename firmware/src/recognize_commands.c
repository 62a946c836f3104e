#include "recognize_commands.h"

kws_rc_status_t kws_recognize_commands_init(kws_recognize_commands_t *rc, const kws_rc_config_t *config,
                                            uint32_t n_classes, const uint32_t *exp_table)
{
    if (n_classes < 1 || n_classes > KWS_RC_MAX_CLASSES || config->average_window_ms < 0 ||
        config->suppression_ms < 0 || config->detection_threshold < 0 ||
        config->detection_threshold > KWS_RC_SCORE_MAX || config->minimum_count < 1 ||
        config->minimum_count > KWS_RC_MAX_RESULTS) {
        return KWS_RC_BAD_CONFIG;
    }
    rc->config = *config;
    rc->n_classes = n_classes;
    rc->exp_table = exp_table;
    rc->first = rc->count = 0;
    rc->latest_time_ms = rc->last_time_ms = 0;
    rc->last_class = 0; /* class 0 (silence) counts as the previous detection at the start */
    rc->has_latest = rc->has_last = 0;
    return KWS_RC_OK;
}

void kws_rc_softmax(const int8_t *output, uint32_t n_classes, const uint32_t *exp_table, uint8_t *scores)
{
    int32_t max = output[0];
    for (uint32_t c = 1; c < n_classes; c++) {
        if (output[c] > max) max = output[c];
    }
    uint32_t total = 0;
    for (uint32_t c = 0; c < n_classes; c++) total += exp_table[max - output[c]];
    for (uint32_t c = 0; c < n_classes; c++) {
        scores[c] = (uint8_t)((exp_table[max - output[c]] * KWS_RC_SCORE_MAX + total / 2) / total);
    }
}

kws_rc_status_t kws_recognize_commands_process(kws_recognize_commands_t *rc, const int8_t *output,
                                               int32_t time_ms, kws_rc_decision_t *decision)
{
    if (rc->has_latest && time_ms <= rc->latest_time_ms) return KWS_RC_OUT_OF_ORDER;
    rc->latest_time_ms = time_ms;
    rc->has_latest = 1;

    if (rc->count == KWS_RC_MAX_RESULTS) { /* full: the oldest result makes room */
        rc->first = (rc->first + 1) % KWS_RC_MAX_RESULTS;
        rc->count--;
    }
    uint32_t slot = (rc->first + rc->count) % KWS_RC_MAX_RESULTS;
    if (rc->exp_table != NULL) {
        kws_rc_softmax(output, rc->n_classes, rc->exp_table, rc->scores[slot]);
    } else {
        for (uint32_t c = 0; c < rc->n_classes; c++) rc->scores[slot][c] = (uint8_t)(output[c] + 128);
    }
    rc->times_ms[slot] = time_ms;
    rc->count++;
    while (rc->count > 0 && rc->times_ms[rc->first] < time_ms - rc->config.average_window_ms) {
        rc->first = (rc->first + 1) % KWS_RC_MAX_RESULTS;
        rc->count--;
    }

    decision->is_new_command = 0;
    if ((int32_t)rc->count < rc->config.minimum_count) {
        decision->top_class = rc->last_class;
        decision->score = 0;
        return KWS_RC_OK;
    }
    int32_t top_class = 0, top_score = -1;
    for (uint32_t c = 0; c < rc->n_classes; c++) {
        uint32_t sum = 0;
        for (uint32_t i = 0; i < rc->count; i++) sum += rc->scores[(rc->first + i) % KWS_RC_MAX_RESULTS][c];
        int32_t average = (int32_t)(sum / rc->count);
        if (average > top_score) {
            top_class = (int32_t)c;
            top_score = average;
        }
    }
    decision->top_class = top_class;
    decision->score = top_score;
    if (top_score > rc->config.detection_threshold &&
        (top_class != rc->last_class || !rc->has_last ||
         time_ms - rc->last_time_ms > rc->config.suppression_ms)) {
        rc->last_class = top_class;
        rc->last_time_ms = time_ms;
        rc->has_last = 1;
        decision->is_new_command = 1;
    }
    return KWS_RC_OK;
}
