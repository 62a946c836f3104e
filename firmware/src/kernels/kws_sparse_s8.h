/*
 * Sparse int8 kernels: convolution (pointwise included) and fully connected over pruned weights in
 * a compressed format, skipping the zeros. Each output is bit-exact to the dense kernel
 * (kws_convolve_s8, kws_fully_connected_s8) run on the same pruned weights.
 *
 * Formats (firmware/sparse_format.py packs dense int8 weights into each; rows are output channels,
 * a row's taps are [KH, KW, C_IN] flattened, as in the dense filter):
 * - KWS_SPARSE_ELEMENT: any zero pattern. Per row a count of quads (4 kept weights; rows are padded
 *   with zero weights to whole quads), per kept weight in `offsets` the taps from the row's previous
 *   kept weight (uint8; the first from tap 0; a gap over 255 gets zero weights in between).
 * - KWS_SPARSE_BLOCK: 1x4 blocks along the inner loop, 4 consecutive taps starting at a multiple of 4
 *   kept or dropped together. Per row a count of blocks, per block its group (tap / 4, uint16).
 * - KWS_SPARSE_NM: N:M, at most N kept in every M consecutive taps (N = 1 with M <= 64, or N = 2
 *   with M <= 128), stored as exactly N per group. No counts: per kept weight its offset (uint8)
 *   from its quad's base, quad q (kept weights 4q .. 4q + 3) starting at tap q * 4M / N.
 * Kept weights of ELEMENT and NM are stored by quads z0 z1 z2 z3 as the bytes (z0, z2, z1, z3), so
 * one SXTB16 of the word gives the pair (z0, z1) and one of the word rotated by 8 gives (z2, z3).
 *
 * Loop orders (Wang & Li 2022):
 * - KWS_SPARSE_INPUT_STATIONARY: per tile of output pixels (4 for BLOCK, else 2), their receptive
 *   fields are widened once and every sparse row is walked over them (the kept weights' taps are
 *   decoded once per tile).
 * - KWS_SPARSE_WEIGHT_PRIORITISED: the whole layer's input is widened first; then every kept weight
 *   (quad or block) is decoded once and applied to all pixels, accumulating in scratch.
 * With the DSP extension, kept weights pair up in SMLAD (two MACs each).
 */
#ifndef KWS_SPARSE_S8_H
#define KWS_SPARSE_S8_H

#include <stdint.h>

#include "kws_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How a sparse filter is stored. */
typedef enum {
    KWS_SPARSE_ELEMENT = 0, /**< Any pattern: a uint8 step to each kept weight. */
    KWS_SPARSE_BLOCK = 1,   /**< 1x4 blocks along the inner loop: a group index per block. */
    KWS_SPARSE_NM = 2,      /**< N:M: a uint8 offset per kept weight, no counts. */
} kws_sparse_format;

/** Which loop runs outside: pixels (input-stationary) or kept weights (weight-prioritised). */
typedef enum {
    KWS_SPARSE_INPUT_STATIONARY = 0,
    KWS_SPARSE_WEIGHT_PRIORITISED = 1,
} kws_sparse_order;

/** A pruned filter [ROWS, TAPS] in one of the formats (the dims come with the kernel's call). */
typedef struct {
    int32_t format;            /**< kws_sparse_format. */
    int32_t n, m;              /**< NM only: N in {1, 2}, N < M, M <= 64 (N = 1) or 128 (N = 2). */
    const uint16_t *row_units; /**< ELEMENT: quads per row; BLOCK: blocks per row; NM: NULL. */
    const uint16_t *index;     /**< BLOCK: group (tap / 4) per block; else NULL. */
    const uint8_t *offsets;    /**< ELEMENT: step from the previous kept tap; NM: offset from the quad's
                                    base; per kept weight. BLOCK: NULL. */
    const int8_t *values;      /**< Kept weights: ELEMENT, NM by quads (z0, z2, z1, z3); BLOCK 4 a block. */
} kws_sparse_filter;

/**
 * Sparse 2D convolution with per-channel requantisation; kws_convolve_s8()'s semantics.
 * @param[in, out] ctx           Scratch (kws_convolve_sparse_s8_get_buffer_size() bytes).
 * @param[in]      conv_params   Offsets, stride, padding, dilation, activation clamp.
 * @param[in]      quant_params  Per output channel multiplier and shift.
 * @param[in]      input_dims    [N, H_IN, W_IN, C_IN].
 * @param[in]      input         int8 input data.
 * @param[in]      filter_dims   [C_OUT, KH, KW, C_IN] of the dense filter.
 * @param[in]      filter        The pruned filter in a sparse format.
 * @param[in]      bias          int32 [C_OUT] or NULL.
 * @param[in]      output_dims   [N, H_OUT, W_OUT, C_OUT].
 * @param[out]     output        int8 output data.
 * @param[in]      order         Loop order.
 * @return KWS_NN_SUCCESS, or KWS_NN_ARG_ERROR for inconsistent dims, an unknown format or order, or
 *         too small a scratch buffer.
 */
kws_nn_status kws_convolve_sparse_s8(const kws_nn_context *ctx, const kws_nn_conv_params *conv_params,
                                     const kws_nn_per_channel_quant_params *quant_params,
                                     const kws_nn_dims *input_dims, const int8_t *input,
                                     const kws_nn_dims *filter_dims, const kws_sparse_filter *filter,
                                     const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output,
                                     kws_sparse_order order);

/** Scratch bytes of kws_convolve_sparse_s8(): requantisation table, two gathered fields, widened
 * columns (one pixel pair, or every pixel for weight-prioritised) and weight-prioritised sums. */
int32_t kws_convolve_sparse_s8_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims,
                                               const kws_nn_dims *output_dims, const kws_sparse_filter *filter,
                                               kws_sparse_order order);

/**
 * Sparse fully connected layer, one requantisation for the whole output; kws_fully_connected_s8()'s
 * semantics with filter_offset 0 (TFLite int8 weights). Batches play the role of pixels.
 * @param filter_dims [UNITS, 1, 1, DEPTH] of the dense filter; other arguments as the dense kernel.
 * @return KWS_NN_SUCCESS or KWS_NN_ARG_ERROR (also for a non-zero filter_offset).
 */
kws_nn_status kws_fully_connected_sparse_s8(const kws_nn_context *ctx, const kws_nn_fc_params *fc_params,
                                            const kws_nn_per_tensor_quant_params *quant_params,
                                            const kws_nn_dims *input_dims, const int8_t *input,
                                            const kws_nn_dims *filter_dims, const kws_sparse_filter *filter,
                                            const int32_t *bias, const kws_nn_dims *output_dims,
                                            int8_t *output, kws_sparse_order order);

/** Scratch bytes of kws_fully_connected_sparse_s8(). */
int32_t kws_fully_connected_sparse_s8_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims,
                                                      const kws_sparse_filter *filter, kws_sparse_order order);

#ifdef __cplusplus
}
#endif

#endif /* KWS_SPARSE_S8_H */
