/* Model description loader: validates an uploaded blob completely before anything runs it. */
#include "model.h"

#include <stddef.h>

#include "interpreter.h"
#include "kws_sparse_s8.h"

#define MAX_TENSORS 4096u
#define MAX_OPS 4096u

static const uint32_t type_bytes[] = {[KWS_TYPE_INT8] = 1, [KWS_TYPE_INT16] = 2, [KWS_TYPE_INT32] = 4};

static int fail(const char **error, const char *why)
{
    *error = why;
    return -1;
}

static int within(uint32_t offset, uint32_t bytes, uint32_t limit)
{
    return offset <= limit && bytes <= limit - offset;
}

/* Byte `offset` of a sparse record's array of `bytes`: inside the tensor, after the record, aligned. */
static const uint8_t *sparse_array(const kws_blob_tensor_t *t, const uint8_t *record, uint32_t offset,
                                   uint64_t bytes, int *ok)
{
    if (bytes == 0) return 0;
    if (offset % 4u != 0 || offset < sizeof(kws_blob_sparse_t) || bytes > t->bytes ||
        !within(offset, (uint32_t)bytes, t->bytes))
        *ok = 0;
    return *ok ? record + offset : 0;
}

/* Every array of a sparse filter inside its tensor, and every index or offset the kernels follow
 * inside the row they walk (so a malformed filter cannot make a kernel read outside its column). */
static int check_sparse(const kws_blob_tensor_t *t, const uint8_t *blob, const char **error)
{
    if (t->type != KWS_TYPE_INT8 || !t->is_const || t->bytes < sizeof(kws_blob_sparse_t))
        return fail(error, "model-sparse-tensor: expected a constant int8 filter");
    const uint8_t *record = blob + t->offset;
    const kws_blob_sparse_t *s = (const kws_blob_sparse_t *)record;
    uint64_t elements = 1;
    for (uint32_t d = 0; d < KWS_MAX_DIMS; d++) elements *= (uint64_t)t->dims[d];
    if (s->rows == 0 || s->taps == 0 || s->taps > 65535u || (uint64_t)s->rows * s->taps != elements)
        return fail(error, "model-sparse-shape");
    if (s->order > KWS_SPARSE_WEIGHT_PRIORITISED) return fail(error, "model-sparse-order");
    int ok = 1;
    const uint32_t groups = (s->taps + 3u) / 4u;
    if (s->format == KWS_SPARSE_NM) {
        if (!((s->n == 1 || s->n == 2) && s->m > s->n && s->m <= 64u * s->n) || s->row_units || s->index)
            return fail(error, "model-sparse-nm");
        const uint32_t span = 4u * s->m / s->n, quads = ((s->taps + s->m - 1u) / s->m * s->n + 3u) / 4u;
        const uint64_t kept = 4ull * quads * s->rows;
        const uint8_t *offsets = sparse_array(t, record, s->offsets, kept, &ok);
        if (!sparse_array(t, record, s->values, kept, &ok) || !offsets) return fail(error, "model-sparse-arrays");
        for (uint64_t i = 0; i < kept; i++)
            if (offsets[i] >= span) return fail(error, "model-sparse-offset-outside-row");
        return 0;
    }
    if (s->format != KWS_SPARSE_ELEMENT && s->format != KWS_SPARSE_BLOCK) return fail(error, "model-sparse-format");
    const uint16_t *units = (const uint16_t *)sparse_array(t, record, s->row_units, 2ull * s->rows, &ok);
    if (!units) return fail(error, "model-sparse-arrays");
    uint64_t total = 0;
    for (uint32_t r = 0; r < s->rows; r++) total += units[r];
    if (s->format == KWS_SPARSE_BLOCK) {
        const uint16_t *index = (const uint16_t *)sparse_array(t, record, s->index, 2 * total, &ok);
        sparse_array(t, record, s->values, 4 * total, &ok);
        if (!ok || s->offsets) return fail(error, "model-sparse-arrays");
        for (uint64_t i = 0; i < total; i++)
            if (index[i] >= groups) return fail(error, "model-sparse-index-outside-row");
        return 0;
    }
    const uint8_t *steps = sparse_array(t, record, s->offsets, 4 * total, &ok);
    sparse_array(t, record, s->values, 4 * total, &ok);
    if (!ok || s->index) return fail(error, "model-sparse-arrays");
    for (uint32_t r = 0; r < s->rows; r++) {
        uint32_t tap = 0;
        for (uint32_t i = 0; i < 4u * units[r]; i++, steps++)
            if ((tap += *steps) >= s->taps) return fail(error, "model-sparse-offset-outside-row");
    }
    return 0;
}

static int check_tensor(const kws_blob_tensor_t *t, const uint8_t *blob, uint32_t blob_bytes, uint32_t version,
                        uint32_t arena_bytes, const char **error)
{
    if (t->type > KWS_TYPE_INT32) return fail(error, "model-tensor-type");
    if (t->ndim > KWS_MAX_DIMS) return fail(error, "model-tensor-rank");
    if (t->sparse > 1 || (t->sparse && version < 3)) return fail(error, "model-tensor-sparse-flag");
    uint64_t elements = 1;
    for (uint32_t d = 0; d < KWS_MAX_DIMS; d++) {
        if (t->dims[d] < 1 || t->dims[d] > 0x1000000) return fail(error, "model-tensor-dims");
        elements *= (uint64_t)t->dims[d];
    }
    if (!t->sparse && elements * type_bytes[t->type] != t->bytes) return fail(error, "model-tensor-bytes");
    if (t->offset % 4u != 0) return fail(error, "model-tensor-alignment");
    if (!within(t->offset, t->bytes, t->is_const ? blob_bytes : arena_bytes))
        return fail(error, t->is_const ? "model-tensor-outside-blob" : "model-tensor-outside-arena");
    return t->sparse ? check_sparse(t, blob, error) : 0;
}

static int check_op(const kws_model_t *m, uint32_t index, uint32_t blob_bytes, const char **error)
{
    const kws_blob_op_t *op = &m->ops[index];
    if (op->n_inputs > KWS_MAX_OP_TENSORS || op->n_outputs > KWS_MAX_OP_TENSORS)
        return fail(error, "model-op-tensor-count");
    if (op->tensors_offset % 2u != 0 ||
        !within(op->tensors_offset, 2u * ((uint32_t)op->n_inputs + op->n_outputs), blob_bytes))
        return fail(error, "model-op-tensor-list-outside-blob");
    const int16_t *inputs = kws_op_inputs(m, op), *outputs = kws_op_outputs(m, op);
    for (uint32_t i = 0; i < op->n_inputs; i++)
        if (inputs[i] < -1 || inputs[i] >= (int32_t)m->header->n_tensors)
            return fail(error, "model-op-input-index");
    for (uint32_t i = 0; i < op->n_outputs; i++)
        if (outputs[i] < 0 || outputs[i] >= (int32_t)m->header->n_tensors || m->tensors[outputs[i]].is_const)
            return fail(error, "model-op-output-index");
    if (op->params_offset % 4u != 0 || !within(op->params_offset, op->params_bytes, blob_bytes))
        return fail(error, "model-op-params-outside-blob");
    return kws_interpreter_check_op(m, index, error);
}

/* The lookup tables of a validated model from byte `start` of the arena: its op → table index, then
 * the tables, filled by the ops' own kernels; none when they do not all fit (the ops then compute). */
static void place_tables(kws_model_t *m, uint8_t *arena, uint32_t start, uint32_t arena_capacity)
{
    m->tables = 0;
    m->table_of_op = 0;
    uint32_t n_tables = 0;
    for (uint32_t i = 0; i < m->header->n_ops; i++) n_tables += kws_interpreter_has_table(m, i);
    uint32_t index_bytes = (m->header->n_ops * (uint32_t)sizeof(uint16_t) + 15u) & ~15u;
    if (n_tables == 0 || !within(start, index_bytes + n_tables * 256u, arena_capacity)) return;
    uint16_t *table_of_op = (uint16_t *)(arena + start);
    int8_t(*tables)[256] = (int8_t(*)[256])(arena + start + index_bytes);
    uint16_t next = 0;
    for (uint32_t i = 0; i < m->header->n_ops; i++) {
        if (!kws_interpreter_has_table(m, i)) continue;
        table_of_op[i] = next;
        kws_interpreter_fill_table(m, i, tables[next++]);
    }
    m->tables = tables;
    m->table_of_op = table_of_op;
}

int kws_model_load(kws_model_t *m, const uint8_t *blob, uint32_t blob_bytes, uint8_t *arena,
                   uint32_t arena_capacity, const char **error)
{
    const kws_blob_header_t *h = (const kws_blob_header_t *)blob;
    if (blob_bytes < sizeof *h || ((uintptr_t)blob % 4u) != 0) return fail(error, "model-too-short");
    if (h->magic != KWS_BLOB_MAGIC) return fail(error, "model-magic: not a kws-nas model description");
    if (h->version < KWS_BLOB_OLDEST_VERSION || h->version > KWS_BLOB_VERSION)
        return fail(error, "model-version: this firmware loads versions 2-3; rebuild the firmware or the blob");
    if (h->total_bytes != blob_bytes) return fail(error, "model-size-mismatch");
    if (h->name[sizeof h->name - 1] != '\0') return fail(error, "model-name-not-terminated");
    if (h->n_tensors == 0 || h->n_tensors > MAX_TENSORS || h->n_ops > MAX_OPS)
        return fail(error, "model-counts");
    if (h->arena_bytes > arena_capacity) return fail(error, "model-arena-too-big-for-this-board");
    uint32_t tensors_bytes = h->n_tensors * (uint32_t)sizeof(kws_blob_tensor_t);
    uint32_t ops_bytes = h->n_ops * (uint32_t)sizeof(kws_blob_op_t);
    if (!within(sizeof *h, tensors_bytes + ops_bytes, blob_bytes)) return fail(error, "model-tables-outside-blob");

    m->blob = blob;
    m->header = h;
    m->tensors = (const kws_blob_tensor_t *)(blob + sizeof *h);
    m->ops = (const kws_blob_op_t *)(blob + sizeof *h + tensors_bytes);
    m->arena = arena;
    for (uint32_t i = 0; i < h->n_tensors; i++)
        if (check_tensor(&m->tensors[i], blob, blob_bytes, h->version, h->arena_bytes, error)) return -1;
    for (uint32_t index = 0; index < 2; index++) {
        uint32_t t = index ? h->output_tensor : h->input_tensor;
        if (t >= h->n_tensors || m->tensors[t].is_const || m->tensors[t].type != KWS_TYPE_INT8)
            return fail(error, "model-io-tensor");
    }
    uint32_t scratch = 0;
    for (uint32_t i = 0; i < h->n_ops; i++) {
        if (check_op(m, i, blob_bytes, error)) return -1;
        uint32_t need = kws_interpreter_scratch_bytes(m, i);
        if (need > scratch) scratch = need;
    }
    uint32_t scratch_start = (h->arena_bytes + 15u) & ~15u;
    if (!within(scratch_start, scratch, arena_capacity))
        return fail(error, "model-arena-and-scratch-too-big-for-this-board");
    m->scratch = arena + scratch_start;
    m->scratch_bytes = scratch;
    place_tables(m, arena, scratch_start + ((scratch + 15u) & ~15u), arena_capacity);
    return 0;
}

const kws_blob_sparse_t *kws_model_sparse(const kws_model_t *m, uint32_t index)
{
    const kws_blob_tensor_t *t = &m->tensors[index];
    return t->sparse ? (const kws_blob_sparse_t *)(m->blob + t->offset) : 0;
}

void *kws_model_tensor_data(const kws_model_t *m, uint32_t index)
{
    const kws_blob_tensor_t *t = &m->tensors[index];
    return t->is_const ? (void *)(m->blob + t->offset) : (void *)(m->arena + t->offset);
}

int kws_model_invoke(const kws_model_t *m, const char **error)
{
    for (uint32_t i = 0; i < m->header->n_ops; i++)
        if (kws_interpreter_run_op(m, i, error)) return -1;
    return 0;
}
