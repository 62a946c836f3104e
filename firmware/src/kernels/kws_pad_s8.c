/* PAD for int8 [N, H, W, C] tensors (TFLite PAD semantics: constant fill). */
#include "kws_nnfunctions.h"

#include <string.h>

void kws_pad_s8(const int8_t *input, const kws_nn_dims *input_dims, const kws_nn_dims *pad_before,
                const kws_nn_dims *pad_after, int8_t pad_value, int8_t *output)
{
    const int32_t on = pad_before->n + input_dims->n + pad_after->n;
    const int32_t oh = pad_before->h + input_dims->h + pad_after->h;
    const int32_t ow = pad_before->w + input_dims->w + pad_after->w;
    const int32_t oc = pad_before->c + input_dims->c + pad_after->c;
    memset(output, pad_value, (size_t)on * oh * ow * oc);
    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t y = 0; y < input_dims->h; ++y) {
            for (int32_t x = 0; x < input_dims->w; ++x) {
                const int8_t *src = input + ((b * input_dims->h + y) * input_dims->w + x) * input_dims->c;
                int8_t *dst = output +
                              (((b + pad_before->n) * oh + y + pad_before->h) * ow + x + pad_before->w) * oc +
                              pad_before->c;
                memcpy(dst, src, (size_t)input_dims->c);
            }
        }
    }
}
