/* Reshape: int8 tensors are stored densely in [N, H, W, C] order, so a reshape is a copy. */
#include "kws_nnfunctions.h"

#include <string.h>

void kws_reshape_s8(const int8_t *input, int8_t *output, int32_t total_size)
{
    if (input != output) {
        memmove(output, input, (size_t)total_size);
    }
}
