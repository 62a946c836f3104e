/* The arithmetic ADD and SUB share (internal to the kernels). */
#ifndef KWS_ADD_SUB_S8_H
#define KWS_ADD_SUB_S8_H

#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"

/* sign = 1 adds input 2, sign = -1 subtracts it. */
static inline kws_nn_status kws_add_sub_s8(const int8_t *input1, int32_t input1_size, const int8_t *input2,
                                           int32_t input2_size, const kws_nn_add_params *p, int32_t size,
                                           int32_t sign, int8_t *output)
{
    if (input1_size <= 0 || input2_size <= 0 || size % input1_size || size % input2_size) {
        return KWS_NN_ARG_ERROR;
    }
    int32_t i1 = 0, i2 = 0;
    for (int32_t i = 0; i < size; ++i) {
        const int32_t x1 = (input1[i1] + p->input1_offset) * (1 << p->left_shift);
        const int32_t x2 = (input2[i2] + p->input2_offset) * (1 << p->left_shift);
        const int32_t s1 = kws_requantize(x1, p->input1_multiplier, p->input1_shift);
        const int32_t s2 = kws_requantize(x2, p->input2_multiplier, p->input2_shift);
        const int32_t raw = kws_requantize(sign > 0 ? s1 + s2 : s1 - s2, p->output_multiplier, p->output_shift) +
                            p->output_offset;
        output[i] = (int8_t)KWS_CLAMP(raw, p->activation.min, p->activation.max);
        i1 = i1 + 1 == input1_size ? 0 : i1 + 1; /* broadcast: wrap around the shorter input */
        i2 = i2 + 1 == input2_size ? 0 : i2 + 1;
    }
    return KWS_NN_SUCCESS;
}

#endif /* KWS_ADD_SUB_S8_H */
