/*
 * Widened input columns of the sparse kernels (kws_sparse_s8.c): a pixel's receptive field gathered
 * (padding = the input zero point) and widened to int16 with the input offset added, in the layouts
 * of kws_sparse_rows_s8.h. Included by kws_sparse_s8.c only.
 */
#ifndef KWS_SPARSE_COLUMNS_S8_H
#define KWS_SPARSE_COLUMNS_S8_H

#include <stdint.h>
#include <string.h>

#include "kws_nn_types.h"
#include "kws_sparse_rows_s8.h"

#define SXTAB16_ROR8(a, x) __sxtab16((a), kws_ror((x), 8))

/* Where pixel p's taps come from: its receptive field. */
typedef struct {
    const int8_t *input;
    const kws_nn_dims *in, *filter, *out;
    const kws_nn_conv_params *conv; /* fully connected: a 1x1 convolution over [N, 1, 1, DEPTH] */
    int32_t in_place;               /* 1x1 unpadded: a pixel's channels are read where they lie */
} pixel_source;

/* Pixel p's taps, gathered into `patch` when they are not contiguous (padding = input zero point). */
static const int8_t *pixel_taps(const pixel_source *s, int32_t p, int8_t *patch)
{
    const kws_nn_dims *in = s->in, *f = s->filter;
    const int32_t per_image = s->out->h * s->out->w, b = p / per_image;
    const int32_t oy = (p % per_image) / s->out->w, ox = p % s->out->w;
    const int32_t y0 = oy * s->conv->stride.h - s->conv->padding.h, x0 = ox * s->conv->stride.w - s->conv->padding.w;
    if (s->in_place) {
        return s->input + ((b * in->h + y0) * in->w + x0) * in->c;
    }
    const int8_t fill = (int8_t)(-s->conv->input_offset);
    int8_t *dst = patch;
    for (int32_t ky = 0; ky < f->h; ++ky) {
        const int32_t y = y0 + ky * s->conv->dilation.h;
        for (int32_t kx = 0; kx < f->w; ++kx, dst += in->c) {
            const int32_t x = x0 + kx * s->conv->dilation.w;
            if (y < 0 || y >= in->h || x < 0 || x >= in->w) {
                memset(dst, fill, (size_t)in->c);
            } else {
                memcpy(dst, s->input + ((b * in->h + y) * in->w + x) * in->c, (size_t)in->c);
            }
        }
    }
    return patch;
}

/* Widens two pixels' taps (plus the offset) into a pair column, `stride` words from one group of 4
 * taps to the next (8: the pair is one half of a 4-pixel BLOCK column); padding taps get 0 (their
 * weights are 0 too: this only keeps the sums defined). */
static void widen_pair(const int8_t *t0, const int8_t *t1, int32_t taps, int32_t padded, int32_t offset,
                       int per_group, int32_t stride, uint32_t *col)
{
    const uint32_t offset2 = ((uint32_t)offset & 0xFFFFu) * 0x10001u;
    const int32_t full = taps >> 2;
    for (int32_t g = 0; g < full; ++g, col += stride) {
        const uint32_t a = kws_read_u32(t0 + 4 * g), b = kws_read_u32(t1 + 4 * g);
        const uint32_t ae = __sxtab16(offset2, a), ao = SXTAB16_ROR8(offset2, a);
        const uint32_t be = __sxtab16(offset2, b), bo = SXTAB16_ROR8(offset2, b);
        if (per_group) {
            col[0] = ae, col[1] = ao, col[2] = be, col[3] = bo;
        } else {
            col[0] = kws_sp_pack_lo(ae, be), col[1] = kws_sp_pack_lo(ao, bo);
            col[2] = kws_sp_pack_hi(ae, be), col[3] = kws_sp_pack_hi(ao, bo);
        }
    }
    if (taps & 3) {
        uint16_t x0[4] = {0, 0, 0, 0}, x1[4] = {0, 0, 0, 0};
        for (int32_t k = 4 * full; k < taps; ++k) {
            x0[k & 3] = (uint16_t)(t0[k] + offset);
            x1[k & 3] = (uint16_t)(t1[k] + offset);
        }
        for (int32_t i = 0; i < 4; ++i) {
            /* per group: words (0, 2), (1, 3) of p0, then of p1; per tap: (p0, p1) */
            col[i] = per_group ? kws_sp_pack_lo(i < 2 ? x0[i] : x1[i - 2], i < 2 ? x0[i + 2] : x1[i])
                               : kws_sp_pack_lo(x0[i], x1[i]);
        }
        col += stride;
    }
    for (int32_t g = (taps + 3) >> 2; g < padded >> 2; ++g, col += stride) {
        col[0] = col[1] = col[2] = col[3] = 0;
    }
}

/* One pixel's single column: per group words (x0, x2), (x1, x3); per tap halfwords. */
static void widen_single(const int8_t *t, int32_t taps, int32_t padded, int32_t offset, int per_group,
                         uint32_t *col)
{
    const uint32_t offset2 = ((uint32_t)offset & 0xFFFFu) * 0x10001u;
    const int32_t full = taps >> 2;
    for (int32_t g = 0; g < full; ++g, col += 2) {
        const uint32_t a = kws_read_u32(t + 4 * g), ae = __sxtab16(offset2, a), ao = SXTAB16_ROR8(offset2, a);
        col[0] = per_group ? ae : kws_sp_pack_lo(ae, ao);
        col[1] = per_group ? ao : kws_sp_pack_hi(ae, ao);
    }
    if (taps & 3) {
        uint16_t x[4] = {0, 0, 0, 0};
        for (int32_t k = 4 * full; k < taps; ++k) {
            x[k & 3] = (uint16_t)(t[k] + offset);
        }
        col[0] = per_group ? kws_sp_pack_lo(x[0], x[2]) : kws_sp_pack_lo(x[0], x[1]);
        col[1] = per_group ? kws_sp_pack_lo(x[1], x[3]) : kws_sp_pack_lo(x[2], x[3]);
        col += 2;
    }
    for (int32_t k = (taps + 3) & ~3; k < padded; k += 2) {
        *col++ = 0;
    }
}

#endif /* KWS_SPARSE_COLUMNS_S8_H */
