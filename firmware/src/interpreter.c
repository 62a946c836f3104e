/* The interpreter: one small adapter per op that turns blob tensors and the op record into the
 * kernels' argument structs (firmware/src/kernels, CMSIS-NN style) and calls the kernel.
 * Cores with the DSP extension (M4, M7) run the _opt conv / depthwise / FC kernels, which need
 * scratch memory (model.h); the others run the reference kernels, which return identical bytes.
 * A conv or fully connected layer whose filter is stored sparse (model.h) runs the sparse kernel in
 * the loop order the host chose; its outputs are the dense kernels' bytes. */
#include "interpreter.h"

#include "kws_nnfunctions.h"
#include "kws_sparse_s8.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define CONV kws_convolve_s8_opt
#define CONV_SCRATCH kws_convolve_s8_opt_get_buffer_size
#define DW_CONV kws_depthwise_conv_s8_opt
#define DW_CONV_SCRATCH kws_depthwise_conv_s8_opt_get_buffer_size
#define FC kws_fully_connected_s8_opt
#define FC_SCRATCH kws_fully_connected_s8_opt_get_buffer_size
#else
#define CONV kws_convolve_s8
#define CONV_SCRATCH kws_convolve_s8_get_buffer_size
#define DW_CONV kws_depthwise_conv_s8
#define DW_CONV_SCRATCH kws_depthwise_conv_s8_get_buffer_size
#define FC kws_fully_connected_s8
#define FC_SCRATCH kws_fully_connected_s8_get_buffer_size
#endif

/* One op of a loaded model with its tensor index lists and record resolved. */
typedef struct {
    const kws_model_t *m;
    const kws_blob_op_t *op;
    const int16_t *in, *out;
    const void *rec;
} op_view_t;

typedef int (*run_fn)(const op_view_t *v);
typedef int (*check_fn)(const op_view_t *v); /* 0: tensors agree with the record */
typedef uint32_t (*scratch_fn)(const op_view_t *v);

typedef struct {
    uint32_t opcode;
    uint16_t min_inputs, max_inputs; /* max_inputs 0: any count up to KWS_MAX_OP_TENSORS */
    uint8_t outputs;                 /* 0: any count */
    uint32_t record_bytes;
    uint8_t sparse_filter; /* 1: input 1 may be a sparse filter */
    run_fn run;
    check_fn check;
    scratch_fn scratch;
} op_entry_t;

static op_view_t view(const kws_model_t *m, uint32_t index)
{
    const kws_blob_op_t *op = &m->ops[index];
    op_view_t v = {m, op, kws_op_inputs(m, op), kws_op_outputs(m, op), m->blob + op->params_offset};
    return v;
}

static const kws_blob_tensor_t *tensor(const op_view_t *v, int16_t index)
{
    return index < 0 ? 0 : &v->m->tensors[index];
}

static void *data(const op_view_t *v, int16_t index)
{
    return index < 0 ? 0 : kws_model_tensor_data(v->m, (uint32_t)index);
}

static const int32_t *blob_ints(const op_view_t *v, uint32_t offset)
{
    return (const int32_t *)(v->m->blob + offset);
}

/* [N, H, W, C] from a rank-<=4 tensor (dims are stored right-aligned, padded with 1). */
static kws_nn_dims nhwc(const kws_blob_tensor_t *t)
{
    kws_nn_dims d = {t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
    return d;
}

static kws_nn_context scratch_ctx(const op_view_t *v)
{
    kws_nn_context ctx = {v->m->scratch, (int32_t)v->m->scratch_bytes};
    return ctx;
}

static int status(kws_nn_status s) { return s == KWS_NN_SUCCESS ? 0 : -1; }

static int is_int8(const op_view_t *v, int16_t index)
{
    return index >= 0 && tensor(v, index)->type == KWS_TYPE_INT8;
}

/* The kernel's view of a sparse filter tensor (record checked at load time). */
static kws_sparse_filter sparse_filter(const kws_blob_sparse_t *s)
{
    const uint8_t *base = (const uint8_t *)s;
    kws_sparse_filter f = {s->format, s->n, s->m,
                           s->row_units ? (const uint16_t *)(base + s->row_units) : 0,
                           s->index ? (const uint16_t *)(base + s->index) : 0,
                           s->offsets ? base + s->offsets : 0,
                           s->values ? (const int8_t *)(base + s->values) : 0};
    return f;
}

/* ---- convolution, fully connected, pooling, softmax, reshape ---- */

static int run_conv(const op_view_t *v)
{
    const kws_rec_conv_t *rec = v->rec;
    kws_nn_per_channel_quant_params q = {blob_ints(v, rec->multiplier_offset), blob_ints(v, rec->shift_offset)};
    kws_nn_context ctx = scratch_ctx(v);
    kws_nn_dims in = nhwc(tensor(v, v->in[0])), filter = nhwc(tensor(v, v->in[1])), out = nhwc(tensor(v, v->out[0]));
    const kws_blob_sparse_t *sparse = kws_model_sparse(v->m, (uint32_t)v->in[1]);
    if (sparse) {
        kws_sparse_filter f = sparse_filter(sparse);
        return status(kws_convolve_sparse_s8(&ctx, &rec->params, &q, &in, data(v, v->in[0]), &filter, &f,
                                             data(v, v->in[2]), &out, data(v, v->out[0]),
                                             (kws_sparse_order)sparse->order));
    }
    return status(CONV(&ctx, &rec->params, &q, &in, data(v, v->in[0]), &filter, data(v, v->in[1]),
                       data(v, v->in[2]), &out, data(v, v->out[0])));
}

/* A sparse filter's rows are the conv's output channels (rows x taps = the dense shape, model.c). */
static int check_conv(const op_view_t *v)
{
    const kws_blob_sparse_t *sparse = kws_model_sparse(v->m, (uint32_t)v->in[1]);
    return !sparse || sparse->rows == (uint32_t)tensor(v, v->in[1])->dims[0] ? 0 : -1;
}

static uint32_t scratch_conv(const op_view_t *v)
{
    kws_nn_dims in = nhwc(tensor(v, v->in[0])), filter = nhwc(tensor(v, v->in[1]));
    const kws_blob_sparse_t *sparse = kws_model_sparse(v->m, (uint32_t)v->in[1]);
    if (sparse) {
        kws_nn_dims out = nhwc(tensor(v, v->out[0]));
        kws_sparse_filter f = sparse_filter(sparse);
        kws_sparse_order order = (kws_sparse_order)sparse->order;
        return (uint32_t)kws_convolve_sparse_s8_get_buffer_size(&in, &filter, &out, &f, order);
    }
    return (uint32_t)CONV_SCRATCH(&in, &filter);
}

static int run_dw_conv(const op_view_t *v)
{
    const kws_rec_dw_conv_t *rec = v->rec;
    kws_nn_per_channel_quant_params q = {blob_ints(v, rec->multiplier_offset), blob_ints(v, rec->shift_offset)};
    kws_nn_context ctx = scratch_ctx(v);
    kws_nn_dims in = nhwc(tensor(v, v->in[0])), filter = nhwc(tensor(v, v->in[1])), out = nhwc(tensor(v, v->out[0]));
    return status(DW_CONV(&ctx, &rec->params, &q, &in, data(v, v->in[0]), &filter, data(v, v->in[1]),
                          data(v, v->in[2]), &out, data(v, v->out[0])));
}

static uint32_t scratch_dw_conv(const op_view_t *v)
{
    kws_nn_dims in = nhwc(tensor(v, v->in[0])), filter = nhwc(tensor(v, v->in[1]));
    return (uint32_t)DW_CONV_SCRATCH(&in, &filter);
}

/* weights [units, depth]: the rows of the input are batches */
static void fc_dims(const op_view_t *v, kws_nn_dims *in, kws_nn_dims *filter, kws_nn_dims *out)
{
    const kws_blob_tensor_t *w = tensor(v, v->in[1]);
    int32_t units = w->dims[2], depth = w->dims[3];
    int32_t batches = (int32_t)(tensor(v, v->in[0])->bytes / (uint32_t)depth);
    *in = (kws_nn_dims){batches, 1, 1, depth};
    *filter = (kws_nn_dims){units, 1, 1, depth};
    *out = (kws_nn_dims){batches, 1, 1, units};
}

static kws_nn_conv_params fc_as_conv(const kws_rec_fc_t *rec)
{
    kws_nn_conv_params conv = {rec->params.input_offset, rec->params.output_offset, {1, 1}, {0, 0}, {1, 1},
                               rec->params.activation};
    return conv;
}

static int run_fc(const op_view_t *v)
{
    const kws_rec_fc_t *rec = v->rec;
    kws_nn_dims in, filter, out;
    fc_dims(v, &in, &filter, &out);
    kws_nn_context ctx = scratch_ctx(v);
    const kws_blob_sparse_t *sparse = kws_model_sparse(v->m, (uint32_t)v->in[1]);
    if (rec->per_channel) { /* no DSP variant: per-channel FC is not what our converter emits */
        kws_nn_per_channel_quant_params q = {blob_ints(v, rec->multiplier_offset), blob_ints(v, rec->shift_offset)};
        if (sparse) { /* per-channel FC = 1x1 conv over [batches, 1, 1, depth] */
            kws_sparse_filter f = sparse_filter(sparse);
            kws_nn_conv_params conv = fc_as_conv(rec);
            return status(kws_convolve_sparse_s8(&ctx, &conv, &q, &in, data(v, v->in[0]), &filter, &f,
                                                 data(v, v->in[2]), &out, data(v, v->out[0]),
                                                 (kws_sparse_order)sparse->order));
        }
        return status(kws_fully_connected_per_channel_s8(&ctx, &rec->params, &q, &in, data(v, v->in[0]), &filter,
                                                         data(v, v->in[1]), data(v, v->in[2]), &out,
                                                         data(v, v->out[0])));
    }
    kws_nn_per_tensor_quant_params q = {rec->multiplier, rec->shift};
    if (sparse) {
        kws_sparse_filter f = sparse_filter(sparse);
        return status(kws_fully_connected_sparse_s8(&ctx, &rec->params, &q, &in, data(v, v->in[0]), &filter, &f,
                                                    data(v, v->in[2]), &out, data(v, v->out[0]),
                                                    (kws_sparse_order)sparse->order));
    }
    return status(FC(&ctx, &rec->params, &q, &in, data(v, v->in[0]), &filter, data(v, v->in[1]),
                     data(v, v->in[2]), &out, data(v, v->out[0])));
}

/* A sparse filter needs int8 weights of zero point 0, rows = units. */
static int check_fc(const op_view_t *v)
{
    const kws_blob_tensor_t *w = tensor(v, v->in[1]);
    const kws_rec_fc_t *rec = v->rec;
    const kws_blob_sparse_t *sparse = kws_model_sparse(v->m, (uint32_t)v->in[1]);
    if (sparse && (rec->params.filter_offset != 0 || sparse->rows != (uint32_t)w->dims[2]))
        return -1;
    return w->dims[3] > 0 && tensor(v, v->in[0])->bytes % (uint32_t)w->dims[3] == 0 ? 0 : -1;
}

static uint32_t scratch_fc(const op_view_t *v)
{
    kws_nn_dims in, filter, out;
    fc_dims(v, &in, &filter, &out);
    const kws_blob_sparse_t *sparse = kws_model_sparse(v->m, (uint32_t)v->in[1]);
    if (sparse) {
        kws_sparse_filter f = sparse_filter(sparse);
        kws_sparse_order order = (kws_sparse_order)sparse->order;
        return (uint32_t)(((const kws_rec_fc_t *)v->rec)->per_channel
                              ? kws_convolve_sparse_s8_get_buffer_size(&in, &filter, &out, &f, order)
                              : kws_fully_connected_sparse_s8_get_buffer_size(&in, &filter, &f, order));
    }
    return ((const kws_rec_fc_t *)v->rec)->per_channel ? 0 : (uint32_t)FC_SCRATCH(&filter);
}

static int run_avgpool(const op_view_t *v)
{
    const kws_rec_pool_t *rec = v->rec;
    kws_nn_dims in = nhwc(tensor(v, v->in[0])), out = nhwc(tensor(v, v->out[0]));
    kws_nn_dims filter = {1, rec->filter_h, rec->filter_w, 1};
    kws_nn_context ctx = {0, 0};
    return status(kws_avgpool_s8(&ctx, &rec->params, &in, data(v, v->in[0]), &filter, &out, data(v, v->out[0])));
}

static int run_softmax(const op_view_t *v)
{
    const kws_rec_softmax_t *rec = v->rec;
    const kws_blob_tensor_t *in = tensor(v, v->in[0]);
    int32_t row = in->dims[3];
    kws_softmax_s8(data(v, v->in[0]), (int32_t)in->bytes / row, row, &rec->params, data(v, v->out[0]));
    return 0;
}

static int run_reshape(const op_view_t *v)
{
    kws_reshape_s8(data(v, v->in[0]), data(v, v->out[0]), (int32_t)tensor(v, v->out[0])->bytes);
    return 0;
}

static int check_same_size(const op_view_t *v)
{
    return tensor(v, v->in[0])->bytes == tensor(v, v->out[0])->bytes ? 0 : -1;
}

/* ---- data movement: PAD, UNPACK, PACK ---- */

static int run_pad(const op_view_t *v)
{
    const kws_rec_pad_t *rec = v->rec;
    kws_nn_dims in = nhwc(tensor(v, v->in[0]));
    kws_pad_s8(data(v, v->in[0]), &in, &rec->before, &rec->after, (int8_t)rec->value, data(v, v->out[0]));
    return 0;
}

static int check_pad(const op_view_t *v)
{
    const kws_rec_pad_t *rec = v->rec;
    const kws_blob_tensor_t *in = tensor(v, v->in[0]), *out = tensor(v, v->out[0]);
    const int32_t *before = &rec->before.n, *after = &rec->after.n;
    for (int d = 0; d < 4; d++)
        if (before[d] < 0 || after[d] < 0 || (int64_t)in->dims[d] + before[d] + after[d] != out->dims[d]) return -1;
    return rec->value >= -128 && rec->value <= 127 && is_int8(v, v->in[0]) && is_int8(v, v->out[0]) ? 0 : -1;
}

static int run_unpack(const op_view_t *v)
{
    const kws_rec_pack_t *rec = v->rec;
    int8_t *outputs[KWS_MAX_OP_TENSORS];
    for (int32_t i = 0; i < rec->count; i++) outputs[i] = data(v, v->out[i]);
    kws_unpack_s8(data(v, v->in[0]), rec->outer, rec->count, rec->inner, outputs);
    return 0;
}

static int run_pack(const op_view_t *v)
{
    const kws_rec_pack_t *rec = v->rec;
    const int8_t *inputs[KWS_MAX_OP_TENSORS];
    for (int32_t i = 0; i < rec->count; i++) inputs[i] = data(v, v->in[i]);
    kws_pack_s8(inputs, rec->outer, rec->count, rec->inner, data(v, v->out[0]));
    return 0;
}

/* The whole side is `count` × [outer, inner] slices, the single tensor [outer, count, inner]. */
static int check_pack_sides(const op_view_t *v, const int16_t *slices, uint16_t n_slices, int16_t whole)
{
    const kws_rec_pack_t *rec = v->rec;
    if (rec->outer < 1 || rec->inner < 1 || rec->count != (int32_t)n_slices || !is_int8(v, whole)) return -1;
    uint64_t slice = (uint64_t)rec->outer * (uint64_t)rec->inner;
    if (slice * (uint64_t)rec->count != tensor(v, whole)->bytes) return -1;
    for (uint16_t i = 0; i < n_slices; i++)
        if (!is_int8(v, slices[i]) || tensor(v, slices[i])->bytes != slice) return -1;
    return 0;
}

static int check_unpack(const op_view_t *v) { return check_pack_sides(v, v->out, v->op->n_outputs, v->in[0]); }

static int check_pack(const op_view_t *v) { return check_pack_sides(v, v->in, v->op->n_inputs, v->out[0]); }

/* ---- elementwise: ADD, SUB, MUL (suffix broadcasting, e.g. [1, H] × [H]), LOGISTIC, TANH ---- */

static int run_add(const op_view_t *v)
{
    const kws_rec_add_t *rec = v->rec;
    const kws_blob_tensor_t *a = tensor(v, v->in[0]), *b = tensor(v, v->in[1]), *out = tensor(v, v->out[0]);
    kws_nn_status (*kernel)(const int8_t *, int32_t, const int8_t *, int32_t, const kws_nn_add_params *, int32_t,
                            int8_t *) = v->op->opcode == KWS_OP_SUB ? kws_sub_s8 : kws_add_s8;
    return status(kernel(data(v, v->in[0]), (int32_t)a->bytes, data(v, v->in[1]), (int32_t)b->bytes, &rec->params,
                         (int32_t)out->bytes, data(v, v->out[0])));
}

static int run_mul(const op_view_t *v)
{
    const kws_rec_mul_t *rec = v->rec;
    const kws_blob_tensor_t *a = tensor(v, v->in[0]), *b = tensor(v, v->in[1]), *out = tensor(v, v->out[0]);
    return status(kws_mul_s8(data(v, v->in[0]), (int32_t)a->bytes, data(v, v->in[1]), (int32_t)b->bytes,
                             &rec->params, (int32_t)out->bytes, data(v, v->out[0])));
}

static int check_binary(const op_view_t *v)
{
    if (!is_int8(v, v->in[0]) || !is_int8(v, v->in[1]) || !is_int8(v, v->out[0])) return -1;
    uint32_t size = tensor(v, v->out[0])->bytes;
    return size % tensor(v, v->in[0])->bytes == 0 && size % tensor(v, v->in[1])->bytes == 0 ? 0 : -1;
}

static void (*sigmoid_kernel(const op_view_t *v))(const int8_t *, const kws_nn_sigmoid_params *, int32_t, int8_t *)
{
    return v->op->opcode == KWS_OP_TANH ? kws_tanh_s8 : kws_logistic_s8;
}

/* Through the op's table when the model has tables (model.h), else element by element. */
static int run_sigmoid_like(const op_view_t *v)
{
    const kws_rec_sigmoid_t *rec = v->rec;
    int32_t size = (int32_t)tensor(v, v->out[0])->bytes;
    const kws_model_t *m = v->m;
    if (m->tables)
        kws_lookup_s8(data(v, v->in[0]), m->tables[m->table_of_op[v->op - m->ops]], size, data(v, v->out[0]));
    else
        sigmoid_kernel(v)(data(v, v->in[0]), &rec->params, size, data(v, v->out[0]));
    return 0;
}

static int check_unary(const op_view_t *v)
{
    return is_int8(v, v->in[0]) && is_int8(v, v->out[0]) ? check_same_size(v) : -1;
}

static const op_entry_t ops[] = {
    {KWS_OP_CONV_2D, 3, 3, 1, sizeof(kws_rec_conv_t), 1, run_conv, check_conv, scratch_conv},
    {KWS_OP_DEPTHWISE_CONV_2D, 3, 3, 1, sizeof(kws_rec_dw_conv_t), 0, run_dw_conv, 0, scratch_dw_conv},
    {KWS_OP_FULLY_CONNECTED, 3, 3, 1, sizeof(kws_rec_fc_t), 1, run_fc, check_fc, scratch_fc},
    {KWS_OP_AVERAGE_POOL_2D, 1, 1, 1, sizeof(kws_rec_pool_t), 0, run_avgpool, 0, 0},
    {KWS_OP_SOFTMAX, 1, 1, 1, sizeof(kws_rec_softmax_t), 0, run_softmax, check_same_size, 0},
    {KWS_OP_RESHAPE, 1, 2, 1, 0, 0, run_reshape, check_same_size, 0},
    {KWS_OP_PAD, 2, 2, 1, sizeof(kws_rec_pad_t), 0, run_pad, check_pad, 0},
    {KWS_OP_UNPACK, 1, 1, 0, sizeof(kws_rec_pack_t), 0, run_unpack, check_unpack, 0},
    {KWS_OP_PACK, 1, 0, 1, sizeof(kws_rec_pack_t), 0, run_pack, check_pack, 0},
    {KWS_OP_ADD, 2, 2, 1, sizeof(kws_rec_add_t), 0, run_add, check_binary, 0},
    {KWS_OP_SUB, 2, 2, 1, sizeof(kws_rec_add_t), 0, run_add, check_binary, 0},
    {KWS_OP_MUL, 2, 2, 1, sizeof(kws_rec_mul_t), 0, run_mul, check_binary, 0},
    {KWS_OP_LOGISTIC, 1, 1, 1, sizeof(kws_rec_sigmoid_t), 0, run_sigmoid_like, check_unary, 0},
    {KWS_OP_TANH, 1, 1, 1, sizeof(kws_rec_sigmoid_t), 0, run_sigmoid_like, check_unary, 0},
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
    op_view_t v = view(m, index);
    int inputs_ok = op->n_inputs >= entry->min_inputs && (entry->max_inputs == 0 || op->n_inputs <= entry->max_inputs);
    int outputs_ok = entry->outputs == 0 ? op->n_outputs >= 1 : op->n_outputs == entry->outputs;
    if (!inputs_ok || !outputs_ok || op->params_bytes != entry->record_bytes || v.in[0] < 0) {
        *error = "model-op-shape-of-record";
        return -1;
    }
    for (uint16_t i = 1; i < op->n_inputs; i++) /* optional inputs (-1) exist only for conv / FC bias */
        if (v.in[i] < 0 && !(i == 2 && entry->min_inputs == 3)) {
            *error = "model-op-missing-input";
            return -1;
        }
    for (uint16_t i = 0; i < op->n_inputs; i++) /* only a conv's or FC's filter may be sparse */
        if (v.in[i] >= 0 && m->tensors[v.in[i]].sparse && !(i == 1 && entry->sparse_filter)) {
            *error = "model-op-sparse-input-unsupported";
            return -1;
        }
    if (entry->check && entry->check(&v) != 0) {
        *error = "model-op-tensors-disagree-with-record";
        return -1;
    }
    return 0;
}

uint32_t kws_interpreter_scratch_bytes(const kws_model_t *m, uint32_t index)
{
    const op_entry_t *entry = find(m->ops[index].opcode);
    if (!entry->scratch) return 0;
    op_view_t v = view(m, index);
    return entry->scratch(&v);
}

int kws_interpreter_run_op(const kws_model_t *m, uint32_t index, const char **error)
{
    op_view_t v = view(m, index);
    if (find(v.op->opcode)->run(&v) == 0) return 0;
    *error = "kernel-argument-error";
    return -1;
}

int kws_interpreter_has_table(const kws_model_t *m, uint32_t index)
{
    uint32_t opcode = m->ops[index].opcode;
    return opcode == KWS_OP_LOGISTIC || opcode == KWS_OP_TANH;
}

void kws_interpreter_fill_table(const kws_model_t *m, uint32_t index, int8_t table[256])
{
    op_view_t v = view(m, index);
    kws_lookup_table_s8(sigmoid_kernel(&v), &((const kws_rec_sigmoid_t *)v.rec)->params, table);
}
