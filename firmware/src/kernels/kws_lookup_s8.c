/* int8 → int8 through a 256-entry table: LOGISTIC / TANH in constant time per element. */
#include "kws_nnfunctions.h"

void kws_lookup_table_s8(void (*op)(const int8_t *, const kws_nn_sigmoid_params *, int32_t, int8_t *),
                         const kws_nn_sigmoid_params *params, int8_t table[256])
{
    int8_t inputs[256];
    for (int32_t i = 0; i < 256; ++i) {
        inputs[i] = (int8_t)(i - 128);
    }
    op(inputs, params, 256, table);
}

void kws_lookup_s8(const int8_t *input, const int8_t table[256], int32_t size, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = table[input[i] + 128];
    }
}
