#include "postprocess.h"

void kws_post_reset(kws_post_t *post, uint32_t n_classes)
{
    post->filled = post->next = 0;
    post->n_classes = n_classes > KWS_POST_MAX_CLASSES ? KWS_POST_MAX_CLASSES : n_classes;
    post->top_class = -1;
    post->averaged_top_score = 0.0f;
}

void kws_post_update(kws_post_t *post, const int8_t *output, float scale, int32_t zero_point)
{
    float *slot = post->history[post->next];
    for (uint32_t c = 0; c < post->n_classes; c++) {
        post->scores[c] = scale * (float)((int32_t)output[c] - zero_point);
        slot[c] = post->scores[c];
    }
    post->next = (post->next + 1) % KWS_POST_HISTORY;
    if (post->filled < KWS_POST_HISTORY) post->filled++;

    post->top_class = -1;
    for (uint32_t c = 0; c < post->n_classes; c++) {
        float sum = 0.0f;
        for (uint32_t h = 0; h < post->filled; h++) sum += post->history[h][c];
        float mean = sum / (float)post->filled;
        if (post->top_class < 0 || mean > post->averaged_top_score) {
            post->top_class = (int32_t)c;
            post->averaged_top_score = mean;
        }
    }
}
