/*
 * Sparse int8 convolution and fully connected (formats and loop orders: kws_sparse_s8.h).
 *
 * Both ops are one product: output[p][row] = requant(bias[row] + sum_k w[row][k] * x_p[k]), with
 * x_p the receptive field of pixel p (a batch row for fully connected) plus the input offset. Pixels
 * go in tiles (4 for BLOCK, 2 otherwise), so every decoded kept weight serves the whole tile; a
 * tile's fields are widened to int16 into a column laid out for the format (kws_sparse_columns_s8.h,
 * kws_sparse_rows_s8.h). Leftover pixels go in a pair or alone (a fully connected layer's single
 * row). The inner loops are Arm assembly on cores with the DSP extension; elsewhere the same code runs
 * on the portable C intrinsics (kws_dsp_emul.h).
 */
#include "kws_nn_utils.h"
#include "kws_requant_opt.h"
#include "kws_sparse_columns_s8.h"
#include "kws_sparse_rows_s8.h"
#include "kws_sparse_s8.h"
#include "kws_sparse_sweeps_s8.h"

/* ---------------------------------------------------------------- filter layout */

static int valid_filter(const kws_sparse_filter *f)
{
    switch (f->format) {
    case KWS_SPARSE_ELEMENT:
    case KWS_SPARSE_BLOCK:
        return f->row_units != NULL; /* the rest may be empty (NULL) for an all-zero filter */
    case KWS_SPARSE_NM:
        return f->offsets && f->values && (f->n == 1 || f->n == 2) && f->m > f->n && f->m <= 64 * f->n;
    default:
        return 0;
    }
}

/* Taps of a column: the row rounded up to what the format reads (NM: the whole span of a last quad). */
static int32_t padded_taps(const kws_sparse_filter *f, int32_t taps)
{
    const int32_t unit = f->format == KWS_SPARSE_NM ? 4 * f->m / f->n : 4;
    return (taps + unit - 1) / unit * unit;
}

/* Kept-weight quads of an NM row. */
static int32_t nm_quads(const kws_sparse_filter *f, int32_t taps)
{
    const int32_t kept = (taps + f->m - 1) / f->m * f->n;
    return (kept + 3) >> 2;
}

/* ---------------------------------------------------------------- the product over pixels */

typedef struct {
    pixel_source src;
    const kws_sparse_filter *f;
    const int32_t *bias;
    const int32_t *multiplier, *shift;
    int32_t quant_stride; /* 0: one multiplier and shift for every row */
    int32_t out_offset, act_min, act_max;
    int32_t pixels, rows, taps, padded;
    int8_t *output;
} sparse_product;

/* Widens pixels first .. first + count - 1 (count 1, 2 or 4) into one column; `patches` holds a
 * gather area per pixel. A 4-pixel column (BLOCK only) is two pair columns interleaved by group. */
static void build_column(const sparse_product *sp, int32_t first, int32_t count, int8_t *const patches[4],
                         uint32_t *col)
{
    const int32_t offset = sp->src.conv->input_offset;
    const int per_group = sp->f->format == KWS_SPARSE_BLOCK;
    const int8_t *t[4];
    for (int32_t i = 0; i < count; ++i) {
        t[i] = pixel_taps(&sp->src, first + i, patches[i]);
    }
    if (count == 1) {
        widen_single(t[0], sp->taps, sp->padded, offset, per_group, col);
    } else if (count == 2) {
        widen_pair(t[0], t[1], sp->taps, sp->padded, offset, per_group, 4, col);
    } else {
        widen_pair(t[0], t[1], sp->taps, sp->padded, offset, per_group, 8, col);
        widen_pair(t[2], t[3], sp->taps, sp->padded, offset, per_group, 8, col + 4);
    }
}

/* ---------------------------------------------------------------- output stage */

/* Scratch: requantisation table, four gathered fields, then input-stationary: one tile's column
 * and its sums [rows][4]; weight-prioritised: a record (sums, column) per pixel pair. */
typedef struct {
#if KWS_HAVE_DSP
    const kws_rq *rq; /* per row (one for quant_stride 0) when all take the fast path, else NULL */
#endif
    int8_t *patches[4];
    uint32_t *columns;
    int32_t *sums;
} scratch_parts;

static int32_t rq_table_bytes(int32_t rows)
{
#if KWS_HAVE_DSP
    return rows * (int32_t)sizeof(kws_rq);
#else
    (void)rows;
    return 0;
#endif
}

static int weight_prioritised_run(int32_t pixels, kws_sparse_order order)
{
    return order == KWS_SPARSE_WEIGHT_PRIORITISED && pixels > 1; /* one pixel: the orders coincide */
}

static int32_t scratch_bytes(int32_t rows, int32_t taps, int32_t padded, int32_t pixels, kws_sparse_order order)
{
    const int32_t pairs = (pixels + 1) / 2, patch = (taps + 3) & ~3;
    const int32_t words = weight_prioritised_run(pixels, order) ? pairs * (padded + 2) : 2 * padded + 4 * rows;
    return rq_table_bytes(rows) + 4 * patch + words * (int32_t)sizeof(uint32_t);
}

/* Splits the scratch and fills the requantisation table (fast path where every row takes it). */
static scratch_parts split_scratch(const sparse_product *sp, void *buf)
{
    scratch_parts s;
    int8_t *p = (int8_t *)buf + rq_table_bytes(sp->rows);
    for (int32_t i = 0; i < 4; ++i, p += (sp->taps + 3) & ~3) {
        s.patches[i] = p;
    }
    s.columns = (uint32_t *)p; /* weight-prioritised: the records */
    s.sums = (int32_t *)(s.columns + 2 * sp->padded);
#if KWS_HAVE_DSP
    kws_rq *rq = (kws_rq *)buf;
    s.rq = rq;
    for (int32_t row = 0; row < (sp->quant_stride ? sp->rows : 1); ++row) {
        const int32_t m = sp->multiplier[row * sp->quant_stride], sh = sp->shift[row * sp->quant_stride];
        if (kws_rq_init(m, sh, sp->out_offset, &rq[row])) {
            continue;
        }
        /* A pruned row with no kept weight outputs its requantised bias (see kws_rq_init_channels()). */
        if (sp->quant_stride && sp->f->format != KWS_SPARSE_NM && sp->f->row_units[row] == 0) {
            kws_rq_init_constant(kws_requantize(sp->bias ? sp->bias[row] : 0, m, sh) + sp->out_offset, &rq[row]);
            continue;
        }
        s.rq = NULL;
        break;
    }
#endif
    return s;
}

/* out[i * out_step] = the int8 output of sums[i * sum_step] for i < count, of row `row` + i * row_step. */
static void requantise(const sparse_product *sp, const scratch_parts *s, int32_t row, int32_t row_step,
                       const int32_t *sums, int32_t sum_step, int8_t *out, int32_t out_step, int32_t count)
{
    const int32_t q_step = row_step * sp->quant_stride;
#if KWS_HAVE_DSP
    if (s->rq) {
        const kws_rq *p = s->rq + row * sp->quant_stride;
        if (sp->act_min == KWS_INT8_MIN && sp->act_max == KWS_INT8_MAX) {
            for (int32_t i = 0; i < count; ++i, p += q_step, sums += sum_step, out += out_step) {
                kws_rq_store_full_range(*sums, p, p->multiplier, p->shift_m1, out);
            }
        } else {
            for (int32_t i = 0; i < count; ++i, p += q_step, sums += sum_step, out += out_step) {
                const int32_t y = kws_rq_apply(*sums, p);
                *out = (int8_t)KWS_CLAMP(y, sp->act_min, sp->act_max);
            }
        }
        return;
    }
#else
    (void)s;
#endif
    const int32_t *m = sp->multiplier + row * sp->quant_stride, *e = sp->shift + row * sp->quant_stride;
    for (int32_t i = 0; i < count; ++i, m += q_step, e += q_step, sums += sum_step, out += out_step) {
        const int32_t y = kws_requantize(*sums, *m, *e) + sp->out_offset;
        *out = (int8_t)KWS_CLAMP(y, sp->act_min, sp->act_max);
    }
}

/* The outputs of a tile of `count` pixels (rows apart in `out`) from its sums [rows][count]. */
static void requantise_tile(const sparse_product *sp, const scratch_parts *s, int32_t count, int8_t *out)
{
#if KWS_HAVE_DSP
    if (s->rq && count == 4 && sp->act_min == KWS_INT8_MIN && sp->act_max == KWS_INT8_MAX) {
        /* The common case in one loop: a row's constants loaded once for its four outputs. */
        const int32_t rows = sp->rows, q_step = sp->quant_stride;
        const int32_t *sums = s->sums;
        const kws_rq *p = s->rq;
        int8_t *o0 = out, *o1 = out + rows, *o2 = out + 2 * rows, *o3 = out + 3 * rows;
        for (int32_t row = 0; row < rows; ++row, p += q_step, sums += 4) {
            const int32_t m = p->multiplier, e = p->shift_m1;
            kws_rq_store_full_range(sums[0], p, m, e, o0++);
            kws_rq_store_full_range(sums[1], p, m, e, o1++);
            kws_rq_store_full_range(sums[2], p, m, e, o2++);
            kws_rq_store_full_range(sums[3], p, m, e, o3++);
        }
        return;
    }
#endif
    for (int32_t i = 0; i < count; ++i) {
        requantise(sp, s, 0, 1, s->sums + i, count, out + i * sp->rows, 1, sp->rows);
    }
}

/* ---------------------------------------------------------------- the two loop orders */

/* Every row's sums over one column of `count` pixels (4: BLOCK only). */
static void all_rows(const sparse_product *sp, const uint32_t *col, int32_t count, int32_t *sums)
{
    const kws_sparse_filter *f = sp->f;
    const int32_t rows = sp->rows;
    switch (f->format) {
    case KWS_SPARSE_ELEMENT:
        if (count == 2) {
            kws_sp_element_pair(f, rows, col, sp->bias, sums);
        } else {
            kws_sp_element_single(f, rows, (const int16_t *)col, sp->bias, sums);
        }
        break;
    case KWS_SPARSE_BLOCK:
        if (count == 4) {
            kws_sp_block_quad(f, rows, col, sp->bias, sums);
        } else if (count == 2) {
            kws_sp_block_pair(f, rows, col, sp->bias, sums);
        } else {
            kws_sp_block_single(f, rows, col, sp->bias, sums);
        }
        break;
    default: {
        const int32_t quads = nm_quads(f, sp->taps), span = 4 * f->m / f->n;
        if (count == 2) {
            kws_sp_nm_pair(f, rows, quads, span, col, sp->bias, sums);
        } else {
            kws_sp_nm_single(f, rows, quads, span, (const int16_t *)col, sp->bias, sums);
        }
        break;
    }
    }
}

/* Pixels by 4 (BLOCK) or 2, the rest one by one: each tile's column is widened once and every row
 * walked over it. */
static void input_stationary(const sparse_product *sp, const scratch_parts *s)
{
    const int32_t tile = sp->f->format == KWS_SPARSE_BLOCK ? 4 : 2;
    for (int32_t p = 0; p < sp->pixels;) {
        const int32_t count = p + tile <= sp->pixels ? tile : (p + 2 <= sp->pixels ? 2 : 1);
        build_column(sp, p, count, s->patches, s->columns);
        all_rows(sp, s->columns, count, s->sums);
        requantise_tile(sp, s, count, sp->output + p * sp->rows);
        p += count;
    }
}

/* Every pixel pair widened first into its record (an odd last pixel paired with itself), then, row
 * by row, each kept quad or block decoded once and swept over all records. */
static void weight_prioritised(const sparse_product *sp, const scratch_parts *s)
{
    const kws_sparse_filter *f = sp->f;
    const int per_group = f->format == KWS_SPARSE_BLOCK;
    const int32_t pairs = (sp->pixels + 1) / 2, record = (sp->padded + 2) * (int32_t)sizeof(uint32_t);
    uint8_t *records = (uint8_t *)s->columns;
    for (int32_t pp = 0; pp < pairs; ++pp) {
        uint32_t *col = (uint32_t *)(records + pp * record + KWS_SP_RECORD_HEAD);
        if (2 * pp + 1 < sp->pixels) {
            build_column(sp, 2 * pp, 2, s->patches, col);
        } else {
            const int8_t *t = pixel_taps(&sp->src, 2 * pp, s->patches[0]);
            widen_pair(t, t, sp->taps, sp->padded, sp->src.conv->input_offset, per_group, 4, col);
        }
    }
    const uint16_t *index = f->index;
    const uint8_t *offsets = f->offsets;
    const int8_t *values = f->values;
    const int32_t span = f->format == KWS_SPARSE_NM ? 4 * f->m / f->n : 0, head = KWS_SP_RECORD_HEAD;
    for (int32_t row = 0; row < sp->rows; ++row) {
        const int32_t b = sp->bias ? sp->bias[row] : 0;
        for (int32_t pp = 0; pp < pairs; ++pp) {
            int32_t *sums = (int32_t *)(records + pp * record);
            sums[0] = sums[1] = b;
        }
        const int32_t units = f->format == KWS_SPARSE_NM ? nm_quads(f, sp->taps) : f->row_units[row];
        int32_t u = 0, tap = 0; /* ELEMENT: the last kept tap */
        if (per_group) {
            for (; u + 1 < units; u += 2, values += 8, index += 2) {
                const uint32_t w0 = kws_read_u32(values), w1 = kws_read_u32(values + 4);
                kws_sp_sweep_two_blocks(records, record, pairs, __sxtb16(w0), KWS_SP_SXTB16_ROR8(w0),
                                        head + 16 * index[0], __sxtb16(w1), KWS_SP_SXTB16_ROR8(w1),
                                        head + 16 * index[1]);
            }
            if (u < units) {
                const uint32_t w = kws_read_u32(values);
                kws_sp_sweep_block(records, record, pairs, __sxtb16(w), KWS_SP_SXTB16_ROR8(w), head + 16 * *index++);
                values += 4;
            }
        } else {
            for (; u < units; ++u, values += 4, offsets += 4) {
                int32_t t[4];
                for (int32_t i = 0; i < 4; ++i) {
                    t[i] = f->format == KWS_SPARSE_ELEMENT ? (tap += offsets[i]) : u * span + offsets[i];
                }
                const uint32_t w = kws_read_u32(values);
                kws_sp_sweep_quad(records, record, pairs, __sxtb16(w), KWS_SP_SXTB16_ROR8(w), head + 4 * t[0],
                                  head + 4 * t[1], head + 4 * t[2], head + 4 * t[3]);
            }
        }
        /* even pixels from the records' first sums, odd from their second */
        requantise(sp, s, row, 0, (const int32_t *)records, record / 4, sp->output + row, 2 * sp->rows, pairs);
        requantise(sp, s, row, 0, (const int32_t *)records + 1, record / 4, sp->output + sp->rows + row,
                   2 * sp->rows, sp->pixels / 2);
    }
}

static kws_nn_status run(const kws_nn_context *ctx, const sparse_product *sp, kws_sparse_order order)
{
    if (order != KWS_SPARSE_INPUT_STATIONARY && order != KWS_SPARSE_WEIGHT_PRIORITISED) {
        return KWS_NN_ARG_ERROR;
    }
    if (!ctx || !ctx->buf || ctx->size < scratch_bytes(sp->rows, sp->taps, sp->padded, sp->pixels, order)) {
        return KWS_NN_ARG_ERROR;
    }
    const scratch_parts s = split_scratch(sp, ctx->buf);
    if (weight_prioritised_run(sp->pixels, order)) {
        weight_prioritised(sp, &s);
    } else {
        input_stationary(sp, &s);
    }
    return KWS_NN_SUCCESS;
}

/* ---------------------------------------------------------------- public kernels */

int32_t kws_convolve_sparse_s8_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims,
                                               const kws_nn_dims *output_dims, const kws_sparse_filter *filter,
                                               kws_sparse_order order)
{
    (void)input_dims;
    const int32_t taps = filter_dims->h * filter_dims->w * filter_dims->c;
    return scratch_bytes(filter_dims->n, taps, padded_taps(filter, taps), output_dims->n * output_dims->h * output_dims->w,
                         order);
}

kws_nn_status kws_convolve_sparse_s8(const kws_nn_context *ctx, const kws_nn_conv_params *conv_params,
                                     const kws_nn_per_channel_quant_params *quant_params,
                                     const kws_nn_dims *input_dims, const int8_t *input,
                                     const kws_nn_dims *filter_dims, const kws_sparse_filter *filter,
                                     const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output,
                                     kws_sparse_order order)
{
    if (filter_dims->c != input_dims->c || filter_dims->n != output_dims->c || output_dims->n != input_dims->n ||
        !valid_filter(filter)) {
        return KWS_NN_ARG_ERROR;
    }
    const int32_t taps = filter_dims->h * filter_dims->w * filter_dims->c;
    const int in_place = filter_dims->h == 1 && filter_dims->w == 1 && conv_params->padding.h == 0 &&
                         conv_params->padding.w == 0;
    const sparse_product sp = {
        {input, input_dims, filter_dims, output_dims, conv_params, in_place},
        filter, bias, quant_params->multiplier, quant_params->shift, 1,
        conv_params->output_offset, conv_params->activation.min, conv_params->activation.max,
        output_dims->n * output_dims->h * output_dims->w, output_dims->c, taps, padded_taps(filter, taps), output,
    };
    return run(ctx, &sp, order);
}

int32_t kws_fully_connected_sparse_s8_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims,
                                                      const kws_sparse_filter *filter, kws_sparse_order order)
{
    return scratch_bytes(filter_dims->n, filter_dims->c, padded_taps(filter, filter_dims->c), input_dims->n, order);
}

kws_nn_status kws_fully_connected_sparse_s8(const kws_nn_context *ctx, const kws_nn_fc_params *fc_params,
                                            const kws_nn_per_tensor_quant_params *quant_params,
                                            const kws_nn_dims *input_dims, const int8_t *input,
                                            const kws_nn_dims *filter_dims, const kws_sparse_filter *filter,
                                            const int32_t *bias, const kws_nn_dims *output_dims,
                                            int8_t *output, kws_sparse_order order)
{
    const int32_t depth = filter_dims->c;
    if (input_dims->h * input_dims->w * input_dims->c != depth || output_dims->c != filter_dims->n ||
        fc_params->filter_offset != 0 || !valid_filter(filter)) {
        return KWS_NN_ARG_ERROR;
    }
    /* A batch row is a pixel whose receptive field is the row itself; the input offset is the conv's. */
    const kws_nn_conv_params as_conv = {fc_params->input_offset, fc_params->output_offset, {1, 1}, {0, 0}, {1, 1},
                                        fc_params->activation};
    const kws_nn_dims in = {input_dims->n, 1, 1, depth}, out = {input_dims->n, 1, 1, filter_dims->n};
    const kws_nn_dims f = {filter_dims->n, 1, 1, depth};
    const sparse_product sp = {
        {input, &in, &f, &out, &as_conv, 1},
        filter, bias, &quant_params->multiplier, &quant_params->shift, 0,
        fc_params->output_offset, fc_params->activation.min, fc_params->activation.max,
        input_dims->n, filter_dims->n, depth, padded_taps(filter, depth), output,
    };
    return run(ctx, &sp, order);
}
