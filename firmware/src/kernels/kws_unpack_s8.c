/* UNPACK for int8 tensors: a strided copy, quantisation unchanged (TFLite requires it equal). */
#include "kws_nnfunctions.h"

#include <string.h>

void kws_unpack_s8(const int8_t *input, int32_t outer, int32_t count, int32_t inner, int8_t *const *outputs)
{
    for (int32_t o = 0; o < outer; ++o) {
        for (int32_t k = 0; k < count; ++k) {
            memcpy(outputs[k] + o * inner, input + (o * count + k) * inner, (size_t)inner);
        }
    }
}
