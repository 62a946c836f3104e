/*
 * int8 convolution with the DSP extension. Each output pixel's receptive field is gathered once
 * (im2col) into int16 with the input offset added, padding becoming 0; then a 2 x 2 block (two
 * output channels x two pixels) is accumulated with SMLAD, two MACs per instruction, each weight
 * word sign-extended once (SXTB16) and used for both pixels.
 *
 * im2col column layout, per group of 4 taps: the word (x0, x2) then (x1, x3), matching
 * SXTB16(w) = (w0, w2) and SXTB16(ROR(w, 8)) = (w1, w3); the two pixels' groups are interleaved
 * [p0 even, p0 odd, p1 even, p1 odd] so one pointer walks both. Taps beyond the last full group are
 * stored plainly after the groups, first pixel 0's then pixel 1's.
 */
#include "kws_dsp.h"
#include "kws_nnfunctions.h"
#include "kws_nn_utils.h"
#include "kws_requant_opt.h"
#include "kws_conv_pairs_opt.h"

#if KWS_HAVE_DSP

static int32_t taps_of(const kws_nn_dims *filter_dims)
{
    return filter_dims->h * filter_dims->w * filter_dims->c;
}

/* Bytes of the im2col area (two columns) and of the byte staging row. */
static int32_t im2col_bytes(int32_t taps)
{
    return 2 * taps * (int32_t)sizeof(int16_t) + 8;
}

/* Bytes of the channel-pair records (one spare the assembly reads past the last) and of the
 * stand-in output row an odd last pixel's second column writes to. */
static int32_t pair_bytes(const kws_nn_dims *filter_dims)
{
    const int32_t out_ch = filter_dims->n;
    return (out_ch / 2 + 1) * (int32_t)sizeof(kws_conv_pair_rec) + ((out_ch + 3) & ~3);
}

/* A 1-channel input is copied once per image into a frame of k - 1 zero-point pixels a side, so
 * every column is plain unaligned loads (SAME padding of a first layer puts ~40 % of its taps on
 * the border, which the row-by-row gather paid for byte by byte). */
static int32_t framed_h(const kws_nn_dims *in, const kws_nn_dims *f)
{
    return in->h + 2 * (f->h - 1);
}

static int32_t framed_w(const kws_nn_dims *in, const kws_nn_dims *f)
{
    return in->w + 2 * (f->w - 1);
}

static int32_t framed_bytes(const kws_nn_dims *in, const kws_nn_dims *f)
{
    return in->c == 1 ? (framed_h(in, f) * framed_w(in, f) + 3) & ~3 : 0;
}

int32_t kws_convolve_s8_opt_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims)
{
    const int32_t taps = taps_of(filter_dims);
    const int32_t requant = filter_dims->n * (int32_t)sizeof(kws_rq);
    return requant + im2col_bytes(taps) + ((taps + 3) & ~3) + pair_bytes(filter_dims) +
           framed_bytes(input_dims, filter_dims);
}

/* Copies n bytes; word by word when n is a multiple of 4 (newlib-nano's memcpy goes byte by byte). */
static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    if ((n & 3) == 0) {
        for (int32_t i = 0; i < n; i += 4) {
            const uint32_t v = kws_read_u32(src + i);
            memcpy(dst + i, &v, 4);
        }
    } else {
        for (int32_t i = 0; i < n; ++i) {
            dst[i] = src[i];
        }
    }
}

/* Gathers one pixel's receptive field as bytes; padding gets the input zero point (x + offset = 0). */
static void gather_patch(const int8_t *input, const kws_nn_dims *in, const kws_nn_dims *f,
                         const kws_nn_conv_params *p, int32_t b, int32_t oy, int32_t ox, int8_t *patch)
{
    const int32_t y0 = oy * p->stride.h - p->padding.h, x0 = ox * p->stride.w - p->padding.w;
    const int8_t fill = (int8_t)(-p->input_offset);
    const int32_t row_bytes = f->w * in->c;
    for (int32_t ky = 0; ky < f->h; ++ky) {
        const int32_t y = y0 + ky * p->dilation.h;
        if (p->dilation.w == 1 && y >= 0 && y < in->h && x0 >= 0 && x0 + f->w <= in->w) {
            /* The whole kernel row is inside: one contiguous copy. */
            copy_bytes(patch, input + ((b * in->h + y) * in->w + x0) * in->c, row_bytes);
            patch += row_bytes;
            continue;
        }
        for (int32_t kx = 0; kx < f->w; ++kx) {
            const int32_t x = x0 + kx * p->dilation.w;
            if (y < 0 || y >= in->h || x < 0 || x >= in->w) {
                for (int32_t i = 0; i < in->c; ++i) {
                    patch[i] = fill;
                }
            } else {
                copy_bytes(patch, input + ((b * in->h + y) * in->w + x) * in->c, in->c);
            }
            patch += in->c;
        }
    }
}

/* Widens `groups` groups of 4 bytes into one column's words of the interleaved layout, starting at
 * that column's word of the first group. */
static inline void widen_groups(const int8_t *src, int32_t groups, uint32_t offset2, uint32_t *dst)
{
    for (int32_t g = 0; g < groups; ++g) {
        const uint32_t x = kws_read_u32(src + 4 * g);
        dst[4 * g] = __sxtab16(offset2, x);
        dst[4 * g + 1] = kws_sxtab16_ror8(offset2, x);
    }
}

/* Widens one column of int8 taps into column `slot` (0 or 1) of the interleaved int16 layout. */
static void widen_column(const int8_t *taps, int32_t count, int32_t input_offset, int16_t *col, int32_t slot)
{
    const uint32_t offset2 = ((uint32_t)input_offset & 0xFFFFu) * 0x10001u;
    const int32_t full = count >> 2;
    widen_groups(taps, full, offset2, (uint32_t *)col + 2 * slot);
    const int32_t rest = count & 3;
    int16_t *tail = col + 8 * full + slot * rest;
    for (int32_t i = 0; i < rest; ++i) {
        tail[i] = (int16_t)(taps[4 * full + i] + input_offset);
    }
}

/* gather_patch() + widen_column() for kernel rows of a multiple of 4 bytes (dilation.w 1): rows
 * inside the image are widened straight from the input, only border rows are staged in `patch`. */
static void gather_widen_rows(const int8_t *input, const kws_nn_dims *in, const kws_nn_dims *f,
                              const kws_nn_conv_params *p, int32_t b, int32_t oy, int32_t ox, int8_t *patch,
                              int16_t *col, int32_t slot)
{
    /* Locals, not struct reads: the column stores may alias the dims for the compiler. */
    const int32_t in_h = in->h, in_w = in->w, in_c = in->c, k_h = f->h, k_w = f->w, dil_h = p->dilation.h;
    const int32_t y0 = oy * p->stride.h - p->padding.h, x0 = ox * p->stride.w - p->padding.w;
    const int32_t row_groups = (k_w * in_c) >> 2, row_stride = in_w * in_c;
    const int x_inside = x0 >= 0 && x0 + k_w <= in_w;
    const uint32_t offset2 = ((uint32_t)p->input_offset & 0xFFFFu) * 0x10001u;
    const int8_t fill = (int8_t)(-p->input_offset);
    const int8_t *image = input + b * in_h * row_stride;
    uint32_t *dst = (uint32_t *)col + 2 * slot;
    for (int32_t ky = 0; ky < k_h; ++ky, dst += 4 * row_groups) {
        const int32_t y = y0 + ky * dil_h;
        if (y < 0 || y >= in_h) {
            /* A padding row: fill + offset widens to zeros. */
            for (int32_t g = 0; g < row_groups; ++g) {
                dst[4 * g] = 0;
                dst[4 * g + 1] = 0;
            }
            continue;
        }
        const int8_t *row = image + y * row_stride;
        if (x_inside) {
            widen_groups(row + x0 * in_c, row_groups, offset2, dst);
            continue;
        }
        for (int32_t kx = 0; kx < k_w; ++kx) {
            const int32_t x = x0 + kx;
            const int inside = x >= 0 && x < in_w;
            for (int32_t i = 0; i < in_c; ++i) {
                patch[kx * in_c + i] = inside ? row[x * in_c + i] : fill;
            }
        }
        widen_groups(patch, row_groups, offset2, dst);
    }
}

/* Copies image b of a 1-channel input into the frame (origin at input pixel (1 - k_h, 1 - k_w)). */
static void fill_frame(const int8_t *image, const kws_nn_dims *in, const kws_nn_dims *f, int8_t fill, int8_t *frame)
{
    const int32_t fw = framed_w(in, f), total = framed_h(in, f) * fw;
    memset(frame, fill, (size_t)total);
    int8_t *dst = frame + (f->h - 1) * fw + (f->w - 1);
    for (int32_t y = 0; y < in->h; ++y, dst += fw, image += in->w) {
        memcpy(dst, image, (size_t)in->w);
    }
}

/* One pixel's column from the frame: window rows start at frame (y, x), dil_h rows apart. */
static void widen_from_frame(const int8_t *frame, int32_t fw, int32_t k_h, int32_t row_groups, int32_t dil_h,
                             int32_t y, int32_t x, uint32_t offset2, int16_t *col, int32_t slot)
{
    const int8_t *src = frame + y * fw + x;
    uint32_t *dst = (uint32_t *)col + 2 * slot;
    for (int32_t ky = 0; ky < k_h; ++ky, src += dil_h * fw, dst += 4 * row_groups) {
        widen_groups(src, row_groups, offset2, dst);
    }
}

#if defined(KWS_DSP_EMULATE)
/* a_cp += dot(weight row c, column p) over `groups` groups of 4 taps, rows 0 and 1 `taps` bytes
 * apart; advances *row0 and *col past them. The portable twin of the Arm assembly below. */
static inline __attribute__((always_inline)) void mat_mult_2x2_groups(const int8_t **row0, int32_t taps,
                                                                      const uint32_t **col, int32_t groups,
                                                                      int32_t acc[4])
{
    const int8_t *r0 = *row0;
    const uint32_t *cw = *col;
    for (int32_t g = 0; g < groups; ++g) {
        const uint32_t w0 = kws_read_u32(r0), w1 = kws_read_u32(r0 + taps);
        r0 += 4;
        const uint32_t w0e = __sxtb16(w0), w0o = kws_sxtb16_ror8(w0);
        const uint32_t w1e = __sxtb16(w1), w1o = kws_sxtb16_ror8(w1);
        acc[0] = __smlad(w0o, cw[1], __smlad(w0e, cw[0], acc[0]));
        acc[2] = __smlad(w1o, cw[1], __smlad(w1e, cw[0], acc[2]));
        acc[1] = __smlad(w0o, cw[3], __smlad(w0e, cw[2], acc[1]));
        acc[3] = __smlad(w1o, cw[3], __smlad(w1e, cw[2], acc[3]));
        cw += 4;
    }
    *row0 = r0;
    *col = cw;
}
#else
/* One group of 4 taps for 2 rows x 2 columns: 16 instructions for 16 MACs, 14 registers. */
#define KWS_CONV_GROUP                                   \
    "ldr    %[v1], [%[r0], %[d]]\n\t"                    \
    "ldr    %[v0], [%[r0]], #4\n\t"                      \
    "ldrd   %[xe], %[xo], [%[cp]], #8\n\t"               \
    "sxtb16 %[t0], %[v0]\n\t"                            \
    "sxtb16 %[v0], %[v0], ror #8\n\t"                    \
    "sxtb16 %[t1], %[v1]\n\t"                            \
    "sxtb16 %[v1], %[v1], ror #8\n\t"                    \
    "smlad  %[a00], %[t0], %[xe], %[a00]\n\t"            \
    "smlad  %[a00], %[v0], %[xo], %[a00]\n\t"            \
    "smlad  %[a10], %[t1], %[xe], %[a10]\n\t"            \
    "smlad  %[a10], %[v1], %[xo], %[a10]\n\t"            \
    "ldrd   %[xe], %[xo], [%[cp]], #8\n\t"               \
    "smlad  %[a01], %[t0], %[xe], %[a01]\n\t"            \
    "smlad  %[a01], %[v0], %[xo], %[a01]\n\t"            \
    "smlad  %[a11], %[t1], %[xe], %[a11]\n\t"            \
    "smlad  %[a11], %[v1], %[xo], %[a11]\n\t"
#define KWS_CONV_LOOP(body, count)                                                                      \
    __asm__ volatile("1:\n\t" body "subs   %[n], %[n], #1\n\t"                                          \
                     "bne    1b\n\t"                                                                    \
                     : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11),              \
                       [r0] "+r"(r0), [cp] "+r"(cp), [n] "+r"(count), [v0] "=&r"(v0), [v1] "=&r"(v1), \
                       [t0] "=&r"(t0), [t1] "=&r"(t1), [xe] "=&r"(xe), [xo] "=&r"(xo)                 \
                     : [d] "r"(taps)                                                                    \
                     : "cc", "memory")

static inline __attribute__((always_inline)) void mat_mult_2x2_groups(const int8_t **row0, int32_t taps,
                                                                      const uint32_t **col, int32_t groups,
                                                                      int32_t acc[4])
{
    const int8_t *r0 = *row0;
    const uint32_t *cp = *col;
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    uint32_t v0, v1, t0, t1, xe, xo;
    int32_t pairs = groups >> 1, rest = groups & 1;
    if (pairs > 0) {
        KWS_CONV_LOOP(KWS_CONV_GROUP KWS_CONV_GROUP, pairs);
    }
    if (rest > 0) {
        KWS_CONV_LOOP(KWS_CONV_GROUP, rest);
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
    *row0 = r0;
    *col = cp;
}
#endif

/* acc[c][p] += dot(row c, column p) for two weight rows and the two im2col columns. */
static inline __attribute__((always_inline)) void mat_mult_2x2(const int8_t *row0, const int16_t *col,
                                                               int32_t taps, int32_t acc[4])
{
    const uint32_t *cw = (const uint32_t *)col;
    mat_mult_2x2_groups(&row0, taps, &cw, taps >> 2, acc);
    const int32_t rest = taps & 3;
    const int8_t *row1 = row0 + taps;
    const int16_t *t0 = (const int16_t *)cw, *t1 = t0 + rest;
    for (int32_t i = 0; i < rest; ++i) {
        acc[0] += row0[i] * t0[i];
        acc[1] += row0[i] * t1[i];
        acc[2] += row1[i] * t0[i];
        acc[3] += row1[i] * t1[i];
    }
}

/* Channels c and c + 1 of one or two pixels (out1 NULL: one), any output stage. */
static __attribute__((noinline)) void conv_block(const int8_t *filter, int32_t taps, const int16_t *columns,
                                                 const int32_t *bias, int32_t c, kws_rq_output o, int8_t *out0,
                                                 int8_t *out1)
{
    const int32_t b0 = bias ? bias[c] : 0, b1 = bias ? bias[c + 1] : 0;
    int32_t acc[4] = {b0, b0, b1, b1};
    mat_mult_2x2(filter + c * taps, columns, taps, acc);
    out0[c] = kws_rq_finish(acc[0], &o, c);
    out0[c + 1] = kws_rq_finish(acc[2], &o, c + 1);
    if (out1) {
        out1[c] = kws_rq_finish(acc[1], &o, c);
        out1[c + 1] = kws_rq_finish(acc[3], &o, c + 1);
    }
}

/* An odd last channel c, in plain C (its second weight row would lie beyond the filter). */
static void conv_last_channel(const int8_t *filter, int32_t taps, const int16_t *columns, const int32_t *bias,
                              int32_t c, const kws_rq_output *o, int8_t *out0, int8_t *out1)
{
    const int8_t *row = filter + c * taps;
    const uint32_t *cw = (const uint32_t *)columns;
    int32_t a0 = bias ? bias[c] : 0, a1 = a0;
    const int32_t groups = taps >> 2, rest = taps & 3;
    for (int32_t g = 0; g < groups; ++g) {
        const uint32_t v = kws_read_u32(row + 4 * g);
        const uint32_t we = __sxtb16(v), wo = kws_sxtb16_ror8(v);
        a0 = __smlad(wo, cw[1], __smlad(we, cw[0], a0));
        a1 = __smlad(wo, cw[3], __smlad(we, cw[2], a1));
        cw += 4;
    }
    const int16_t *t0 = (const int16_t *)cw, *t1 = t0 + rest;
    for (int32_t i = 0; i < rest; ++i) {
        a0 += row[4 * groups + i] * t0[i];
        a1 += row[4 * groups + i] * t1[i];
    }
    out0[c] = kws_rq_finish(a0, o, c);
    if (out1) {
        out1[c] = kws_rq_finish(a1, o, c);
    }
}

/* The common case: channel pairs (c, c + 1) for c < even_ch of two pixels, fast requantisation,
 * range [-128, 127]; one non-inlined loop so the assembly has the registers. */
static __attribute__((noinline)) void conv_pairs_full_range(const int8_t *filter, int32_t taps,
                                                            const int16_t *columns, const int32_t *bias,
                                                            const kws_rq *rq, int32_t even_ch, int8_t *out0,
                                                            int8_t *out1)
{
    for (int32_t c = 0; c < even_ch; c += 2) {
        const int32_t b0 = bias ? bias[c] : 0, b1 = bias ? bias[c + 1] : 0;
        int32_t acc[4] = {b0, b0, b1, b1};
        mat_mult_2x2(filter + c * taps, columns, taps, acc);
        int32_t m = rq[c].multiplier, e = rq[c].shift_m1;
        kws_rq_store_full_range(acc[0], &rq[c], m, e, &out0[c]);
        kws_rq_store_full_range(acc[1], &rq[c], m, e, &out1[c]);
        m = rq[c + 1].multiplier;
        e = rq[c + 1].shift_m1;
        kws_rq_store_full_range(acc[2], &rq[c + 1], m, e, &out0[c + 1]);
        kws_rq_store_full_range(acc[3], &rq[c + 1], m, e, &out1[c + 1]);
    }
}

kws_nn_status kws_convolve_s8_opt(const kws_nn_context *ctx, const kws_nn_conv_params *conv_params,
                                  const kws_nn_per_channel_quant_params *quant_params,
                                  const kws_nn_dims *input_dims, const int8_t *input,
                                  const kws_nn_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output)
{
    const int32_t out_ch = output_dims->c, taps = taps_of(filter_dims);
    if (filter_dims->c != input_dims->c || filter_dims->n != out_ch || output_dims->n != input_dims->n) {
        return KWS_NN_ARG_ERROR;
    }
    if (!ctx || !ctx->buf || ctx->size < kws_convolve_s8_opt_get_buffer_size(input_dims, filter_dims)) {
        return KWS_NN_ARG_ERROR;
    }
    kws_rq *requant = (kws_rq *)ctx->buf;
    kws_rq_output o = {requant, quant_params, conv_params->output_offset, conv_params->activation.min,
                       conv_params->activation.max, OUT_GENERIC};
    if (kws_rq_init_channels(quant_params->multiplier, quant_params->shift, out_ch, o.out_offset, filter, taps, taps, 1,
                             bias, requant)) {
        o.mode = o.act_min == KWS_INT8_MIN && o.act_max == KWS_INT8_MAX ? OUT_FAST_FULL_RANGE : OUT_FAST_CLAMP;
    }
    int16_t *columns = (int16_t *)(requant + out_ch);
    int8_t *patch = (int8_t *)columns + im2col_bytes(taps);
    kws_conv_pair_rec *recs = (kws_conv_pair_rec *)(patch + ((taps + 3) & ~3));
    int8_t *spare_out = (int8_t *)(recs + out_ch / 2 + 1);
    int8_t *frame = spare_out + ((out_ch + 3) & ~3);
    /* A 1x1 unpadded convolution reads each pixel's channels in place. */
    const int pointwise = filter_dims->h == 1 && filter_dims->w == 1 && conv_params->padding.h == 0 &&
                          conv_params->padding.w == 0;
    const int32_t pixels = output_dims->n * output_dims->h * output_dims->w;
    const int32_t per_image = output_dims->h * output_dims->w;
    const int32_t even_ch = out_ch & ~1;
    const int by_rows = conv_params->dilation.w == 1 && ((filter_dims->w * input_dims->c) & 3) == 0;
    /* The frame must hold every window: padding and overhang of at most k - 1 a side. */
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, fw = framed_w(input_dims, filter_dims);
    const int32_t fy0 = k_h - 1 - conv_params->padding.h, fx0 = k_w - 1 - conv_params->padding.w;
    const int by_frame = by_rows && input_dims->c == 1 && fy0 >= 0 && fx0 >= 0 &&
                         fy0 + (output_dims->h - 1) * conv_params->stride.h + (k_h - 1) * conv_params->dilation.h <
                             framed_h(input_dims, filter_dims) &&
                         fx0 + (output_dims->w - 1) * conv_params->stride.w + k_w <= fw;
    const int asm_pairs = o.mode == OUT_FAST_FULL_RANGE && even_ch >= 2 && (taps & 7) == 0;
    if (asm_pairs) {
        kws_conv_pair_recs_init(bias, requant, even_ch / 2, recs);
    }
    const uint32_t offset2 = ((uint32_t)conv_params->input_offset & 0xFFFFu) * 0x10001u;
    int32_t framed_image = -1;

    for (int32_t p = 0; p < pixels; p += 2) {
        const int32_t count = KWS_MIN(2, pixels - p);
        for (int32_t slot = 0; slot < 2; ++slot) {
            /* An odd last pixel computes its column twice and stores it once. */
            const int32_t pix = p + KWS_MIN(slot, count - 1);
            const int32_t b = pix / per_image, oy = (pix % per_image) / output_dims->w, ox = pix % output_dims->w;
            const int8_t *taps_src = patch;
            if (pointwise) {
                const int32_t y = oy * conv_params->stride.h, x = ox * conv_params->stride.w;
                taps_src = input + ((b * input_dims->h + y) * input_dims->w + x) * input_dims->c;
            } else if (by_frame) {
                if (b != framed_image) {
                    fill_frame(input + b * input_dims->h * input_dims->w, input_dims, filter_dims,
                               (int8_t)(-conv_params->input_offset), frame);
                    framed_image = b;
                }
                widen_from_frame(frame, fw, k_h, k_w >> 2, conv_params->dilation.h, fy0 + oy * conv_params->stride.h,
                                 fx0 + ox * conv_params->stride.w, offset2, columns, slot);
                continue;
            } else if (by_rows) {
                gather_widen_rows(input, input_dims, filter_dims, conv_params, b, oy, ox, patch, columns, slot);
                continue;
            } else {
                gather_patch(input, input_dims, filter_dims, conv_params, b, oy, ox, patch);
            }
            widen_column(taps_src, taps, conv_params->input_offset, columns, slot);
        }
        int8_t *out0 = output + p * out_ch, *out1 = count == 2 ? out0 + out_ch : NULL;
        int32_t c = 0;
        if (asm_pairs) {
            const kws_conv_pairs_args args = {recs, out0, out1 ? out1 : spare_out, even_ch / 2, taps >> 3,
                                              (const uint32_t *)columns, filter, taps};
            conv_pairs_asm(&args);
            c = even_ch;
        } else if (o.mode == OUT_FAST_FULL_RANGE && out1) {
            conv_pairs_full_range(filter, taps, columns, bias, requant, even_ch, out0, out1);
            c = even_ch;
        }
        for (; c < even_ch; c += 2) {
            conv_block(filter, taps, columns, bias, c, o, out0, out1);
        }
        if (c < out_ch) {
            conv_last_channel(filter, taps, columns, bias, c, &o, out0, out1);
        }
    }
    return KWS_NN_SUCCESS;
}

#else /* no DSP extension: the reference is the optimised kernel */

int32_t kws_convolve_s8_opt_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims)
{
    return kws_convolve_s8_get_buffer_size(input_dims, filter_dims);
}

kws_nn_status kws_convolve_s8_opt(const kws_nn_context *ctx, const kws_nn_conv_params *conv_params,
                                  const kws_nn_per_channel_quant_params *quant_params,
                                  const kws_nn_dims *input_dims, const int8_t *input,
                                  const kws_nn_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output)
{
    return kws_convolve_s8(ctx, conv_params, quant_params, input_dims, input, filter_dims, filter, bias,
                           output_dims, output);
}

#endif
