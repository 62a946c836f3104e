/* The interpreter: one small adapter per op that turns blob tensors and the op record into the
 * kernels' argument structs (firmware/src/kernels, CMSIS-NN style) and calls the kernel. */
#include "interpreter.h"

#include "kws_nnfunctions.h"

typedef int (*run_fn)(const kws_model_t *m, const kws_blob_op_t *op, const void *rec);

typedef struct {
    uint32_t opcode;
    uint8_t min_inputs, max_inputs;
    uint32_t record_bytes;
    run_fn run;
} op_entry_t;

static const kws_blob_tensor_t *tensor(const kws_model_t *m, int16_t index)
{
    return index < 0 ? 0 : &m->tensors[index];
}

static void *data(const kws_model_t *m, int16_t index)
{
    return index < 0 ? 0 : kws_model_tensor_data(m, (uint32_t)index);
}

static const int32_t *blob_ints(const kws_model_t *m, uint32_t offset)
{
    return (const int32_t *)(m->blob + offset);
}

/* [N, H, W, C] from a rank-<=4 tensor (dims are stored right-aligned, padded with 1). */
static kws_nn_dims nhwc(const kws_blob_tensor_t *t)
{
    kws_nn_dims d = {t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
    return d;
}

static int status(kws_nn_status s) { return s == KWS_NN_SUCCESS ? 0 : -1; }

static int run_conv(const kws_model_t *m, const kws_blob_op_t *op, const void *rec_)
{
    const kws_rec_conv_t *rec = rec_;
    kws_nn_per_channel_quant_params q = {blob_ints(m, rec->multiplier_offset), blob_ints(m, rec->shift_offset)};
    kws_nn_context ctx = {0, 0};
    kws_nn_dims in = nhwc(tensor(m, op->inputs[0])), filter = nhwc(tensor(m, op->inputs[1]));
    kws_nn_dims out = nhwc(tensor(m, op->outputs[0]));
    return status(kws_convolve_s8(&ctx, &rec->params, &q, &in, data(m, op->inputs[0]), &filter,
                                  data(m, op->inputs[1]), data(m, op->inputs[2]), &out, data(m, op->outputs[0])));
}

static int run_dw_conv(const kws_model_t *m, const kws_blob_op_t *op, const void *rec_)
{
    const kws_rec_dw_conv_t *rec = rec_;
    kws_nn_per_channel_quant_params q = {blob_ints(m, rec->multiplier_offset), blob_ints(m, rec->shift_offset)};
    kws_nn_context ctx = {0, 0};
    kws_nn_dims in = nhwc(tensor(m, op->inputs[0])), filter = nhwc(tensor(m, op->inputs[1]));
    kws_nn_dims out = nhwc(tensor(m, op->outputs[0]));
    return status(kws_depthwise_conv_s8(&ctx, &rec->params, &q, &in, data(m, op->inputs[0]), &filter,
                                        data(m, op->inputs[1]), data(m, op->inputs[2]), &out,
                                        data(m, op->outputs[0])));
}

static int run_fc(const kws_model_t *m, const kws_blob_op_t *op, const void *rec_)
{
    const kws_rec_fc_t *rec = rec_;
    const kws_blob_tensor_t *w = tensor(m, op->inputs[1]);
    int32_t units = w->dims[2], depth = w->dims[3]; /* weights [units, depth] */
    int32_t batches = (int32_t)(tensor(m, op->inputs[0])->bytes / (uint32_t)depth);
    kws_nn_dims in = {batches, 1, 1, depth}, filter = {units, 1, 1, depth}, out = {batches, 1, 1, units};
    kws_nn_context ctx = {0, 0};
    if (rec->per_channel) {
        kws_nn_per_channel_quant_params q = {blob_ints(m, rec->multiplier_offset), blob_ints(m, rec->shift_offset)};
        return status(kws_fully_connected_per_channel_s8(&ctx, &rec->params, &q, &in, data(m, op->inputs[0]),
                                                         &filter, data(m, op->inputs[1]), data(m, op->inputs[2]),
                                                         &out, data(m, op->outputs[0])));
    }
    kws_nn_per_tensor_quant_params q = {rec->multiplier, rec->shift};
    return status(kws_fully_connected_s8(&ctx, &rec->params, &q, &in, data(m, op->inputs[0]), &filter,
                                         data(m, op->inputs[1]), data(m, op->inputs[2]), &out,
                                         data(m, op->outputs[0])));
}

static int run_avgpool(const kws_model_t *m, const kws_blob_op_t *op, const void *rec_)
{
    const kws_rec_pool_t *rec = rec_;
    kws_nn_dims in = nhwc(tensor(m, op->inputs[0])), out = nhwc(tensor(m, op->outputs[0]));
    kws_nn_dims filter = {1, rec->filter_h, rec->filter_w, 1};
    kws_nn_context ctx = {0, 0};
    return status(kws_avgpool_s8(&ctx, &rec->params, &in, data(m, op->inputs[0]), &filter, &out,
                                 data(m, op->outputs[0])));
}

static int run_softmax(const kws_model_t *m, const kws_blob_op_t *op, const void *rec_)
{
    const kws_rec_softmax_t *rec = rec_;
    const kws_blob_tensor_t *in = tensor(m, op->inputs[0]);
    int32_t row = in->dims[3];
    kws_softmax_s8(data(m, op->inputs[0]), (int32_t)in->bytes / row, row, &rec->params, data(m, op->outputs[0]));
    return 0;
}

static int run_reshape(const kws_model_t *m, const kws_blob_op_t *op, const void *rec)
{
    kws_reshape_s8(data(m, op->inputs[0]), data(m, op->outputs[0]), (int32_t)tensor(m, op->outputs[0])->bytes);
    return 0;
}

static const op_entry_t ops[] = {
    {KWS_OP_CONV_2D, 3, 3, sizeof(kws_rec_conv_t), run_conv},
    {KWS_OP_DEPTHWISE_CONV_2D, 3, 3, sizeof(kws_rec_dw_conv_t), run_dw_conv},
    {KWS_OP_FULLY_CONNECTED, 3, 3, sizeof(kws_rec_fc_t), run_fc},
    {KWS_OP_AVERAGE_POOL_2D, 1, 1, sizeof(kws_rec_pool_t), run_avgpool},
    {KWS_OP_SOFTMAX, 1, 1, sizeof(kws_rec_softmax_t), run_softmax},
    {KWS_OP_RESHAPE, 1, 2, 0, run_reshape},
};

static const op_entry_t *find(uint32_t opcode)
{
    for (uint32_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (ops[i].opcode == opcode) return &ops[i];
    return 0;
}

int kws_interpreter_check_op(const kws_model_t *m, uint32_t index, const char **error)
{
    const kws_blob_op_t *op = &m->ops[index];
    const op_entry_t *entry = find(op->opcode);
    if (!entry) {
        *error = "model-op-unsupported-by-this-firmware";
        return -1;
    }
    if (op->n_inputs < entry->min_inputs || op->n_inputs > entry->max_inputs || op->n_outputs != 1 ||
        op->params_bytes != entry->record_bytes || op->inputs[0] < 0) {
        *error = "model-op-shape-of-record";
        return -1;
    }
    return 0;
}

int kws_interpreter_run_op(const kws_model_t *m, uint32_t index, const char **error)
{
    const kws_blob_op_t *op = &m->ops[index];
    if (find(op->opcode)->run(m, op, m->blob + op->params_offset) == 0) return 0;
    *error = "kernel-argument-error";
    return -1;
}
