/*
 * int8 depthwise convolution with the DSP extension (channel multiplier 1, dilation 1; other
 * layers use the reference). Four channels at a time are widened from [H, W, C] bytes into four
 * zero-padded int16 planes with the input offset added (padding becomes 0, so the inner loop has
 * no bounds checks); each window row is then accumulated two taps per SMLAD against int16 weight
 * pairs (a row of odd width gets a zero weight, reading one padding column beyond the window).
 * 3x3 stride 1 with the full-range output stage runs the assembly of kws_dw3x3_pairs_opt.h.
 */
#include "kws_dsp.h"
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"
#include "kws_requant_opt.h"
#include "kws_dw3x3_pairs_opt.h"

#define PLANES 4

#if KWS_HAVE_DSP

static int32_t plane_w(const kws_nn_dims *in, const kws_nn_dims *f)
{
    return ((in->w + f->w) + 1) & ~1; /* window overhang on both sides + the odd-width column */
}

static int32_t plane_h(const kws_nn_dims *in, const kws_nn_dims *f)
{
    return in->h + f->h - 1;
}

static int32_t weight_row(const kws_nn_dims *f)
{
    return (f->w + 1) & ~1;
}

/* The 3x3 stride-1 path rounds its plane stride up to one the assembly has as an immediate
 * (kws_dw3x3_pairs_opt.h); wider planes keep their width and the C loop. */
static int32_t pairs_stride(int32_t pw)
{
    for (int32_t s = 16; s <= 128; s *= 2) {
        if (pw <= s) {
            return s;
        }
    }
    return pw;
}

/* The 3x3 stride-1 path stores the planes transposed (input columns as rows) for a tall input,
 * so that output pairs run along the long side. */
static int is_3x3_s1(const kws_nn_dims *f, const kws_nn_dw_conv_params *p)
{
    return f->h == 3 && f->w == 3 && p->stride.h == 1 && p->stride.w == 1;
}

/* Plane elements of either layout: the plain one (other filters and strides) and the 3x3 one. */
static int32_t plane_elems(const kws_nn_dims *in, const kws_nn_dims *f)
{
    const int32_t plain = plane_h(in, f) * plane_w(in, f);
    if (f->h != 3 || f->w != 3) {
        return plain;
    }
    const kws_nn_dims in_t = {in->n, in->w, in->h, in->c};
    const kws_nn_dims *view = in->h > in->w ? &in_t : in;
    return KWS_MAX(plain, plane_h(view, f) * pairs_stride(plane_w(view, f)));
}

int32_t kws_depthwise_conv_s8_opt_get_buffer_size(const kws_nn_dims *input_dims,
                                                  const kws_nn_dims *filter_dims)
{
    const int32_t planes = PLANES * plane_elems(input_dims, filter_dims);
    const int32_t weights = filter_dims->h * weight_row(filter_dims);
    return filter_dims->c * (int32_t)sizeof(kws_rq) + (planes + weights) * (int32_t)sizeof(int16_t);
}

/* Widens 4 channels of `rows` x `cols` pixels (`col_step` bytes apart along a plane row, `row_step`
 * from one plane row to the next) into 4 planes `plane` elements apart with rows `pw` apart, two
 * pixels per pass: (pixel j, pixel j + 1) of a channel is one word (PKHBT / PKHTB of the SXTAB16
 * results), so 2 loads, 4 SXTAB16, 4 PKH and 4 stores per 8 elements. */
static __attribute__((noinline)) void widen4(const int8_t *src, int32_t col_step, int32_t row_step, int32_t rows,
                                             int32_t cols, uint32_t offset2, int32_t plane, int32_t pw,
                                             int16_t *dst)
{
    for (int32_t r = 0; r < rows; ++r, src += row_step, dst += pw) {
        const int8_t *s = src;
        int16_t *d = dst;
        int32_t j = 0;
        for (; j + 1 < cols; j += 2, s += 2 * col_step, d += 2) {
            const uint32_t v0 = kws_read_u32(s), v1 = kws_read_u32(s + col_step);
            const uint32_t e0 = __sxtab16(offset2, v0), o0 = kws_sxtab16_ror8(offset2, v0);
            const uint32_t e1 = __sxtab16(offset2, v1), o1 = kws_sxtab16_ror8(offset2, v1);
            kws_write_u32(d, kws_pkhbt16(e0, e1));
            kws_write_u32(d + plane, kws_pkhbt16(o0, o1));
            kws_write_u32(d + 2 * plane, kws_pkhtb16(e0, e1));
            kws_write_u32(d + 3 * plane, kws_pkhtb16(o0, o1));
        }
        if (j < cols) {
            const uint32_t v = kws_read_u32(s);
            const uint32_t even = __sxtab16(offset2, v), odd = kws_sxtab16_ror8(offset2, v);
            d[0] = (int16_t)even;
            d[2 * plane] = (int16_t)(even >> 16);
            d[plane] = (int16_t)odd;
            d[3 * plane] = (int16_t)(odd >> 16);
        }
    }
}

/* Widens channels c..c+count-1 of one image into the interiors of `count` planes (count <= 4);
 * the zero borders are written once per call. Input pixel (y, x) goes to plane row y + pad_h,
 * column x + pad_w, or with `transposed` to row x + pad_h, column y + pad_w (pad_h, pad_w and
 * pw are the plane's, i.e. already swapped). */
static void fill_planes(const int8_t *image, const kws_nn_dims *in, int32_t c, int32_t count,
                        int32_t input_offset, int32_t pad_h, int32_t pad_w, int32_t ph, int32_t pw,
                        int transposed, int16_t *planes)
{
    const int32_t plane = ph * pw;
    /* Source steps along a plane row and from one plane row to the next; plane rows to fill. */
    const int32_t row_bytes = in->w * in->c;
    const int32_t col_step = transposed ? row_bytes : in->c, row_step = transposed ? in->c : row_bytes;
    const int32_t rows = transposed ? in->w : in->h, cols = transposed ? in->h : in->w;
    if (count == PLANES) {
        const uint32_t offset2 = ((uint32_t)input_offset & 0xFFFFu) * 0x10001u;
        widen4(image + c, col_step, row_step, rows, cols, offset2, plane, pw, planes + pad_h * pw + pad_w);
        return;
    }
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *src = image + c + r * row_step;
        int16_t *dst = planes + (r + pad_h) * pw + pad_w;
        for (int32_t x = 0; x < cols; ++x, src += col_step) {
            for (int32_t k = 0; k < count; ++k) {
                dst[k * plane + x] = (int16_t)(src[k] + input_offset);
            }
        }
    }
}

static void zero_words(uint32_t *dst, int32_t words)
{
    for (int32_t i = 0; i < words; ++i) {
        dst[i] = 0;
    }
}

/* Packs two int8 weights as the int16 halves (lo, hi) of a word. */
static inline uint32_t pack_weights(int8_t lo, int8_t hi)
{
    return ((uint32_t)(uint16_t)(int16_t)lo) | ((uint32_t)(uint16_t)(int16_t)hi << 16);
}

/* Element steps of the weights and outputs along a plane row and from one plane row to the next
 * (swapped when the planes are transposed). */
typedef struct {
    int32_t w_col, w_row, out_col, out_row;
} dw_steps;

/*
 * One channel of a 3x3 stride-1 depthwise convolution, two adjacent outputs along a plane row per
 * pass with the nine weights in five registers. Per kernel row the pair reads A = (x0, x1),
 * B = (x1, x2) and C = (x2, x3): out0 += A.W01 + C.lo w2 (SMLAD, SMLABB/SMLABT), out1 += B.W01 +
 * C.hi w2 (SMLAD, SMLATB/SMLATT): 12 MAC instructions and 9 loads for 18 MACs. An odd last
 * output computes its neighbour from the zero border and does not store it.
 */
static inline __attribute__((always_inline)) void dw_3x3_channel(const int16_t *plane, int32_t pw, const int8_t *w,
                                                                  const dw_steps *st, int32_t bias_c,
                                                                  const kws_rq_output *o, int32_t c, int32_t out_h,
                                                                  int32_t out_w, int8_t *out, const int mode)
{
    const int32_t wc = st->w_col, wr = st->w_row, ch = st->out_col;
    const uint32_t w0 = pack_weights(w[0], w[wc]), w1 = pack_weights(w[wr], w[wr + wc]);
    const uint32_t w2 = pack_weights(w[2 * wr], w[2 * wr + wc]);
    const uint32_t w_last01 = pack_weights(w[2 * wc], w[wr + 2 * wc]), w_last2 = pack_weights(w[2 * wr + 2 * wc], 0);
    const kws_rq *rq = &o->rq[c];
    const int32_t m = rq->multiplier, e = rq->shift_m1, out_row = st->out_row;
    for (int32_t oy = 0; oy < out_h; ++oy) {
        const int16_t *r0 = plane + oy * pw, *r1 = r0 + pw, *r2 = r1 + pw;
        int8_t *o_row = out + oy * out_row;
        for (int32_t ox = 0; ox < out_w; ox += 2) {
            uint32_t a = kws_read_u32(r0 + ox), bb = kws_read_u32(r0 + ox + 1), cc = kws_read_u32(r0 + ox + 2);
            int32_t acc0 = __smlad(a, w0, bias_c), acc1 = __smlad(bb, w0, bias_c);
            acc0 = __smlabb(cc, w_last01, acc0);
            acc1 = __smlatb(cc, w_last01, acc1);
            a = kws_read_u32(r1 + ox);
            bb = kws_read_u32(r1 + ox + 1);
            cc = kws_read_u32(r1 + ox + 2);
            acc0 = __smlad(a, w1, acc0);
            acc1 = __smlad(bb, w1, acc1);
            acc0 = __smlabt(cc, w_last01, acc0);
            acc1 = __smlatt(cc, w_last01, acc1);
            a = kws_read_u32(r2 + ox);
            bb = kws_read_u32(r2 + ox + 1);
            cc = kws_read_u32(r2 + ox + 2);
            acc0 = __smlad(a, w2, acc0);
            acc1 = __smlad(bb, w2, acc1);
            acc0 = __smlabb(cc, w_last2, acc0);
            acc1 = __smlatb(cc, w_last2, acc1);
            int8_t *dst = o_row + ox * ch;
            if (mode == OUT_FAST_FULL_RANGE) {
                kws_rq_store_full_range(acc0, rq, m, e, dst);
                if (ox + 1 < out_w) {
                    kws_rq_store_full_range(acc1, rq, m, e, dst + ch);
                }
            } else {
                dst[0] = kws_rq_finish(acc0, o, c);
                if (ox + 1 < out_w) {
                    dst[ch] = kws_rq_finish(acc1, o, c);
                }
            }
        }
    }
}

/* One non-inlined copy for the common output stage (keeps its registers), one for the others. */
static __attribute__((noinline)) void dw_3x3_channel_full_range(const int16_t *plane, int32_t pw, const int8_t *w,
                                                                const dw_steps *st, int32_t bias_c, const kws_rq_output *o,
                                                                int32_t c, int32_t out_h, int32_t out_w, int8_t *out)
{
    dw_3x3_channel(plane, pw, w, st, bias_c, o, c, out_h, out_w, out, OUT_FAST_FULL_RANGE);
}

static __attribute__((noinline)) void dw_3x3_channel_any(const int16_t *plane, int32_t pw, const int8_t *w,
                                                         const dw_steps *st, int32_t bias_c, const kws_rq_output *o,
                                                         int32_t c, int32_t out_h, int32_t out_w, int8_t *out)
{
    dw_3x3_channel(plane, pw, w, st, bias_c, o, c, out_h, out_w, out, OUT_GENERIC);
}

kws_nn_status kws_depthwise_conv_s8_opt(const kws_nn_context *ctx,
                                        const kws_nn_dw_conv_params *dw_params,
                                        const kws_nn_per_channel_quant_params *quant_params,
                                        const kws_nn_dims *input_dims, const int8_t *input,
                                        const kws_nn_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const kws_nn_dims *output_dims,
                                        int8_t *output)
{
    const int32_t ch = output_dims->c;
    if (dw_params->ch_mult != 1 || dw_params->dilation.h != 1 || dw_params->dilation.w != 1) {
        return kws_depthwise_conv_s8(ctx, dw_params, quant_params, input_dims, input, filter_dims, filter,
                                     bias, output_dims, output);
    }
    if (input_dims->c != ch || filter_dims->c != ch || output_dims->n != input_dims->n) {
        return KWS_NN_ARG_ERROR;
    }
    if (!ctx || !ctx->buf || ctx->size < kws_depthwise_conv_s8_opt_get_buffer_size(input_dims, filter_dims)) {
        return KWS_NN_ARG_ERROR;
    }
    kws_rq *requant = (kws_rq *)ctx->buf;
    kws_rq_output o = {requant, quant_params, dw_params->output_offset, dw_params->activation.min,
                       dw_params->activation.max, OUT_GENERIC};
    if (kws_rq_init_channels(quant_params->multiplier, quant_params->shift, ch, o.out_offset, filter,
                             filter_dims->h * filter_dims->w, 1, ch, bias, requant)) {
        o.mode = o.act_min == KWS_INT8_MIN && o.act_max == KWS_INT8_MAX ? OUT_FAST_FULL_RANGE : OUT_FAST_CLAMP;
    }
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, wrow = weight_row(filter_dims);
    int16_t *planes = (int16_t *)(requant + ch);
    int16_t *weights = planes + PLANES * plane_elems(input_dims, filter_dims);
    const int32_t sh = dw_params->stride.h, sw = dw_params->stride.w;
    /* 3x3 stride 1 walks output pairs along plane rows; on a tall, narrow map (DS-CNN: 25 x 5) the
     * planes are transposed so the pairs run along the long side (fewer half-used pairs and rows). */
    const int is_3x3 = is_3x3_s1(filter_dims, dw_params);
    const int transposed = is_3x3 && input_dims->h > input_dims->w;
    const kws_nn_dims in_t = {input_dims->n, input_dims->w, input_dims->h, ch};
    const kws_nn_dims *in_view = transposed ? &in_t : input_dims;
    const int32_t ph = plane_h(in_view, filter_dims);
    const int32_t pw = is_3x3 ? pairs_stride(plane_w(in_view, filter_dims)) : plane_w(in_view, filter_dims);
    /* In plane terms: output rows and columns, padding before them. */
    const int32_t out_h = transposed ? output_dims->w : output_dims->h;
    const int32_t out_w = transposed ? output_dims->h : output_dims->w;
    const int32_t pad_h = transposed ? dw_params->padding.w : dw_params->padding.h;
    const int32_t pad_w = transposed ? dw_params->padding.h : dw_params->padding.w;
    /* Plane origin (0, 0) is input pixel (-pad_h, -pad_w); windows start at (oy * sh, ox * sw). */
    if ((out_h - 1) * sh + k_h > ph || (out_w - 1) * sw + wrow > pw || pad_h >= k_h || pad_w >= k_w) {
        return KWS_NN_ARG_ERROR;
    }
    /* Output pairs read columns up to 2 * ceil(out_w / 2) + 1. */
    const int pairs_3x3 = is_3x3 && 2 * ((out_w + 1) >> 1) + 2 <= pw;
    /* The assembly needs its stride, word-aligned planes (LDRD) and at least one output pair. */
    const int pairs_asm = pairs_3x3 && o.mode == OUT_FAST_FULL_RANGE && pw <= 128 &&
                          ((uintptr_t)planes & 3u) == 0 && out_w >= 2;
    const dw_steps steps = transposed ? (dw_steps){3 * ch, ch, output_dims->w * ch, ch}
                                      : (dw_steps){ch, 3 * ch, ch, output_dims->w * ch};
    zero_words((uint32_t *)planes, (PLANES * ph * pw) >> 1); /* PLANES * pw is even */
    /* The assembly's loop runs two output pairs an iteration; a layer without bias reads zeros. */
    static const int32_t no_bias[PLANES];
    const int32_t out_pairs = out_w >> 1;
    kws_dw3_args dw3 = {0, 0, 0, steps.out_col, 2 * pw - 4 * out_pairs, steps.out_row - 2 * out_pairs * steps.out_col,
                        0, out_h, 0, out_w & 1, out_pairs & 1, 0, NULL, NULL, NULL, steps.w_col, steps.w_row,
                        NULL, NULL, ph * pw * (int32_t)sizeof(int16_t), (((out_pairs + 1) >> 1) - 1) * 256};

    for (int32_t b = 0; b < input_dims->n; ++b) {
        const int8_t *image = input + b * input_dims->h * input_dims->w * ch;
        int8_t *out_image = output + b * output_dims->h * output_dims->w * ch;
        for (int32_t c0 = 0; c0 < ch; c0 += PLANES) {
            const int32_t count = KWS_MIN(PLANES, ch - c0);
            fill_planes(image, input_dims, c0, count, dw_params->input_offset, pad_h, pad_w, ph, pw, transposed,
                        planes);
            if (pairs_asm) {
                dw3.channels = count;
                dw3.plane = planes;
                dw3.out = out_image + c0;
                dw3.w = filter + c0;
                dw3.rq = requant + c0;
                dw3.bias_p = bias ? bias + c0 : no_bias;
                kws_dw3_pairs(&dw3, pw);
                continue;
            }
            for (int32_t k = 0; k < count; ++k) {
                const int32_t c = c0 + k;
                const int16_t *plane = planes + k * ph * pw;
                const int32_t bias_c = bias ? bias[c] : 0;
                int8_t *out = out_image + c;
                if (pairs_3x3) {
                    if (o.mode == OUT_FAST_FULL_RANGE) {
                        dw_3x3_channel_full_range(plane, pw, filter + c, &steps, bias_c, &o, c, out_h, out_w, out);
                    } else {
                        dw_3x3_channel_any(plane, pw, filter + c, &steps, bias_c, &o, c, out_h, out_w, out);
                    }
                    continue;
                }
                for (int32_t ky = 0; ky < k_h; ++ky) {
                    for (int32_t kx = 0; kx < wrow; ++kx) {
                        weights[ky * wrow + kx] = (int16_t)(kx < k_w ? filter[(ky * k_w + kx) * ch + c] : 0);
                    }
                }
                for (int32_t oy = 0; oy < out_h; ++oy) {
                    const int16_t *rows = plane + oy * sh * pw;
                    for (int32_t ox = 0; ox < out_w; ++ox) {
                        int32_t acc = bias_c;
                        const int16_t *xr = rows + ox * sw;
                        const int16_t *wr = weights;
                        for (int32_t ky = 0; ky < k_h; ++ky) {
                            for (int32_t kx = 0; kx < wrow; kx += 2) {
                                acc = __smlad(kws_read_u32(xr + kx), kws_read_u32(wr + kx), acc);
                            }
                            xr += pw;
                            wr += wrow;
                        }
                        *out = kws_rq_finish(acc, &o, c);
                        out += ch;
                    }
                }
            }
        }
    }
    return KWS_NN_SUCCESS;
}

#else /* no DSP extension: the reference is the optimised kernel */

int32_t kws_depthwise_conv_s8_opt_get_buffer_size(const kws_nn_dims *input_dims,
                                                  const kws_nn_dims *filter_dims)
{
    return kws_depthwise_conv_s8_get_buffer_size(input_dims, filter_dims);
}

kws_nn_status kws_depthwise_conv_s8_opt(const kws_nn_context *ctx,
                                        const kws_nn_dw_conv_params *dw_params,
                                        const kws_nn_per_channel_quant_params *quant_params,
                                        const kws_nn_dims *input_dims, const int8_t *input,
                                        const kws_nn_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const kws_nn_dims *output_dims,
                                        int8_t *output)
{
    return kws_depthwise_conv_s8(ctx, dw_params, quant_params, input_dims, input, filter_dims, filter, bias,
                                 output_dims, output);
}

#endif
