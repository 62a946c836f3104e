/* PACK for int8 tensors: the inverse of UNPACK, quantisation unchanged. */
#include "kws_nnfunctions.h"

#include <string.h>

void kws_pack_s8(const int8_t *const *inputs, int32_t outer, int32_t count, int32_t inner, int8_t *output)
{
    for (int32_t o = 0; o < outer; ++o) {
        for (int32_t k = 0; k < count; ++k) {
            memcpy(output + (o * count + k) * inner, inputs[k] + o * inner, (size_t)inner);
        }
    }
}
