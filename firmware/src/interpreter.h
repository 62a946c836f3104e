/* Op codes and per-op parameter records of the model description (model.h). The host writes the
 * records (nas/board/model_blob.py) with every requantisation constant precomputed, so the board
 * only checks sizes and calls the kernels. */
#ifndef KWS_INTERPRETER_H
#define KWS_INTERPRETER_H

#include <stdint.h>

#include "kws_nn_types.h"
#include "model.h"

typedef enum {
    KWS_OP_CONV_2D = 1,
    KWS_OP_DEPTHWISE_CONV_2D = 2,
    KWS_OP_FULLY_CONNECTED = 3,
    KWS_OP_AVERAGE_POOL_2D = 4,
    KWS_OP_SOFTMAX = 5,
    KWS_OP_RESHAPE = 6,
    KWS_OP_PAD = 7,
    KWS_OP_UNPACK = 8,
    KWS_OP_PACK = 9,
    KWS_OP_ADD = 10,
    KWS_OP_SUB = 11,
    KWS_OP_MUL = 12,
    KWS_OP_LOGISTIC = 13,
    KWS_OP_TANH = 14,
} kws_opcode_t;

/* conv / depthwise conv: kernel params, then blob offsets of int32[out_ch] multipliers, shifts */
typedef struct {
    kws_nn_conv_params params;
    uint32_t multiplier_offset, shift_offset;
} kws_rec_conv_t;

typedef struct {
    kws_nn_dw_conv_params params;
    uint32_t multiplier_offset, shift_offset;
} kws_rec_dw_conv_t;

/* fully connected: per_channel 0 uses multiplier/shift, 1 the arrays at the offsets */
typedef struct {
    kws_nn_fc_params params;
    uint32_t per_channel;
    int32_t multiplier, shift;
    uint32_t multiplier_offset, shift_offset;
} kws_rec_fc_t;

typedef struct {
    kws_nn_pool_params params;
    int32_t filter_h, filter_w;
} kws_rec_pool_t;

typedef struct {
    kws_nn_softmax_params params;
} kws_rec_softmax_t;

/* PAD: the [N, H, W, C] paddings (input 1, constant) resolved, fill = output zero point */
typedef struct {
    kws_nn_dims before, after;
    int32_t value;
} kws_rec_pad_t;

/* UNPACK / PACK: [outer, count, inner] around the axis; count = number of unpacked tensors */
typedef struct {
    int32_t outer, count, inner;
} kws_rec_pack_t;

/* ADD / SUB, MUL, LOGISTIC / TANH: the kernels' parameter structs as TFLite Micro's Prepare
 * derives them (computed on the host) */
typedef struct {
    kws_nn_add_params params;
} kws_rec_add_t;

typedef struct {
    kws_nn_mul_params params;
} kws_rec_mul_t;

typedef struct {
    kws_nn_sigmoid_params params;
} kws_rec_sigmoid_t;

/* Runs op `index` of a loaded model. Returns 0, or -1 with *error set. */
int kws_interpreter_run_op(const kws_model_t *model, uint32_t index, const char **error);

/* Checks op `index`'s record size, tensor count and sizes before the model is accepted. */
int kws_interpreter_check_op(const kws_model_t *model, uint32_t index, const char **error);

/* Scratch bytes op `index`'s kernel needs (the DSP kernels' *_get_buffer_size(); 0 otherwise). */
uint32_t kws_interpreter_scratch_bytes(const kws_model_t *model, uint32_t index);

/* 1 when op `index` can run through a 256-entry table of its outputs (LOGISTIC, TANH). */
int kws_interpreter_has_table(const kws_model_t *model, uint32_t index);

/* Fills op `index`'s table (kws_interpreter_has_table): its kernel's output for every int8 input. */
void kws_interpreter_fill_table(const kws_model_t *model, uint32_t index, int8_t table[256]);

#endif
