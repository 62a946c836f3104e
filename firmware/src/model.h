/* The firmware's model description: what the host (nas/board/model_blob.py) makes of an int8
 * .tflite, uploaded over serial into RAM (`model load N%`) so that one firmware build serves every
 * candidate of a search, or compiled into a flash-mode image (flash_model.h). All integers
 * little-endian; every section 4-byte aligned.
 *
 *   header   kws_blob_header_t
 *   tensors  n_tensors × kws_blob_tensor_t
 *   ops      n_ops × kws_blob_op_t
 *   data     constant tensors (weights, biases, precomputed requantisation multipliers and
 *            shifts), op parameter records and each op's tensor index list, at the offsets the
 *            tensors and ops name
 *
 * A constant filter of a conv, pointwise conv or fully connected layer may be stored sparse
 * (version 3): its tensor's `sparse` byte is 1, its dims stay the dense shape (so arena planning and
 * the cost model see the same layer) and its offset / bytes span a kws_blob_sparse_t record followed
 * by the arrays of firmware/src/kernels/kws_sparse_s8.h. Version 2 blobs (no sparse tensors) load
 * unchanged.
 *
 * Activations live in one arena whose layout the host planned (tensor lifetimes), so the board
 * allocates nothing: a tensor's arena_offset is where its bytes are while it is live. Kernel
 * scratch (the DSP kernels' im2col columns) sits after the planned arena, sized by the board from
 * the kernels' *_get_buffer_size() at load time.
 */
#ifndef KWS_MODEL_H
#define KWS_MODEL_H

#include <stdint.h>

#define KWS_BLOB_MAGIC 0x4D53574Bu /* "KWSM" */
#define KWS_BLOB_VERSION 3u
#define KWS_BLOB_OLDEST_VERSION 2u /* same layout, no sparse tensors */
/* Tensors per op side: an unrolled recurrent model UNPACKs / PACKs one tensor per time step. */
#define KWS_MAX_OP_TENSORS 256
#define KWS_MAX_DIMS 4

typedef enum { KWS_TYPE_INT8 = 0, KWS_TYPE_INT16 = 1, KWS_TYPE_INT32 = 2 } kws_type_t;

typedef struct {
    uint32_t magic, version;
    uint32_t n_tensors, n_ops;
    uint32_t input_tensor, output_tensor;
    uint32_t arena_bytes;
    uint32_t total_bytes;
    char name[16]; /* NUL-padded, reported by `profile%` */
} kws_blob_header_t;

typedef struct {
    uint8_t type;     /* kws_type_t */
    uint8_t ndim;
    uint8_t is_const; /* 1: bytes in the blob at offset; 0: in the arena at offset */
    uint8_t sparse;   /* 1: a constant int8 filter stored as kws_blob_sparse_t + arrays (v3); else 0 */
    int32_t dims[KWS_MAX_DIMS];
    uint32_t offset;
    uint32_t bytes;
    int32_t zero_point;
    float scale; /* per-tensor scale (activations); per-channel weights carry their own params */
} kws_blob_tensor_t;

/* A sparse filter [rows, taps] (rows: output channels; taps: [KH, KW, C_IN] or DEPTH flattened). The
 * array offsets count from the record's start (0: the format has no such array, or it is empty). */
typedef struct {
    uint8_t format; /* kws_sparse_format */
    uint8_t order;  /* kws_sparse_order: the loop order the host measured faster for this layer */
    uint8_t n, m;   /* N:M only */
    uint32_t rows, taps;
    uint32_t row_units, index, offsets, values;
} kws_blob_sparse_t;

typedef struct {
    uint32_t opcode; /* kws_opcode_t (interpreter.h) */
    uint16_t n_inputs, n_outputs;
    uint32_t tensors_offset; /* int16[n_inputs + n_outputs] tensor indices; input -1: absent */
    uint32_t params_offset, params_bytes; /* op record in the blob (interpreter.h) */
} kws_blob_op_t;

typedef struct {
    const uint8_t *blob;
    const kws_blob_header_t *header;
    const kws_blob_tensor_t *tensors;
    const kws_blob_op_t *ops;
    uint8_t *arena;
    uint8_t *scratch; /* kernel scratch after the planned activations, scratch_bytes long */
    uint32_t scratch_bytes;
    /* The LOGISTIC / TANH ops' 256-entry tables (constant time per element), filled at load time
     * after the scratch when the arena has room for all of them; 0: those ops compute each element.
     * Op i's table is tables[table_of_op[i]]. */
    int8_t (*tables)[256];
    const uint16_t *table_of_op;
} kws_model_t;

static inline const int16_t *kws_op_inputs(const kws_model_t *m, const kws_blob_op_t *op)
{
    return (const int16_t *)(m->blob + op->tensors_offset);
}

static inline const int16_t *kws_op_outputs(const kws_model_t *m, const kws_blob_op_t *op)
{
    return kws_op_inputs(m, op) + op->n_inputs;
}

/* Checks every offset, size and index against the blob and the arena (a malformed upload is
 * refused, never run). Returns 0, or -1 with *error naming the problem. */
int kws_model_load(kws_model_t *model, const uint8_t *blob, uint32_t blob_bytes, uint8_t *arena,
                   uint32_t arena_capacity, const char **error);

/* A sparse tensor's record (checked at load time), or NULL for a dense tensor. */
const kws_blob_sparse_t *kws_model_sparse(const kws_model_t *model, uint32_t index);

/* Address of a tensor's bytes (constant in the blob, or activation in the arena). */
void *kws_model_tensor_data(const kws_model_t *model, uint32_t index);

/* Runs every op in order. Returns 0, or -1 with *error naming the failing op. */
int kws_model_invoke(const kws_model_t *model, const char **error);

#endif
