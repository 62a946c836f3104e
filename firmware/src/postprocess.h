/* Post-processing after the network, as micro_speech's RecognizeCommands does it in spirit:
 * dequantise the int8 scores and average them over the last few inferences before picking the
 * top class, so that one noisy frame does not flip the decision. */
#ifndef KWS_POSTPROCESS_H
#define KWS_POSTPROCESS_H

#include <stdint.h>

#define KWS_POST_MAX_CLASSES 64
#define KWS_POST_HISTORY 3

typedef struct {
    float history[KWS_POST_HISTORY][KWS_POST_MAX_CLASSES];
    uint32_t filled, next, n_classes;
    float scores[KWS_POST_MAX_CLASSES]; /* dequantised scores of the latest inference */
    float averaged_top_score;
    int32_t top_class;
} kws_post_t;

void kws_post_reset(kws_post_t *post, uint32_t n_classes);
void kws_post_update(kws_post_t *post, const int8_t *output, float scale, int32_t zero_point);

#endif
