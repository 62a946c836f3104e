/* Reference int8 SUB: TFLite's quantised Sub, the Add arithmetic with input 2 subtracted. */
#include "kws_add_sub_s8.h"

kws_nn_status kws_sub_s8(const int8_t *input1, int32_t input1_size, const int8_t *input2, int32_t input2_size,
                         const kws_nn_add_params *params, int32_t size, int8_t *output)
{
    return kws_add_sub_s8(input1, input1_size, input2, input2_size, params, size, -1, output);
}
