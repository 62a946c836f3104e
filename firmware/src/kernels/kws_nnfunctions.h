/*
 * kws-nas int8 kernels: the API the firmware's model interpreter calls.
 *
 * Every kernel is bit-exact to TFLite Micro's reference int8 kernel for the same op (tested against
 * the TFLite Micro host interpreter in tests/firmware/). Naming follows CMSIS-NN: kws_<op>_<dtype>
 * is the plain reference, kws_<op>_<dtype>_opt the Cortex-M DSP-extension version (SMLAD/SXTB16),
 * which falls back to the reference where __ARM_FEATURE_DSP is absent and returns identical bytes.
 * Scratch needs per layer come from the matching *_get_buffer_size().
 *
 * Tensors are dense int8 in TFLite order [N, H, W, C]; filters are [C_OUT, KH, KW, C_IN] for
 * convolution, [1, KH, KW, C_OUT] for depthwise convolution and [UNITS, DEPTH] for fully connected;
 * biases are int32 [C_OUT] (may be NULL).
 */
#ifndef KWS_NNFUNCTIONS_H
#define KWS_NNFUNCTIONS_H

#include <stdint.h>

#include "kws_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- convolution */

/**
 * 2D convolution with per-channel requantisation (TFLite CONV_2D, int8).
 * @param[in, out] ctx           Scratch buffer (kws_convolve_s8_get_buffer_size() bytes).
 * @param[in]      conv_params   Offsets, stride, padding, dilation, activation clamp.
 * @param[in]      quant_params  Per output channel multiplier and shift.
 * @param[in]      input_dims    [N, H_IN, W_IN, C_IN].
 * @param[in]      input         int8 input data.
 * @param[in]      filter_dims   [C_OUT, KH, KW, C_IN].
 * @param[in]      filter        int8 weights, zero point 0.
 * @param[in]      bias          int32 [C_OUT] or NULL.
 * @param[in]      output_dims   [N, H_OUT, W_OUT, C_OUT].
 * @param[out]     output        int8 output data, values in [activation.min, activation.max].
 * @return KWS_NN_SUCCESS, or KWS_NN_ARG_ERROR for inconsistent dims or a missing scratch buffer.
 */
kws_nn_status kws_convolve_s8(const kws_nn_context *ctx, const kws_nn_conv_params *conv_params,
                              const kws_nn_per_channel_quant_params *quant_params,
                              const kws_nn_dims *input_dims, const int8_t *input,
                              const kws_nn_dims *filter_dims, const int8_t *filter,
                              const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output);
/** Scratch bytes kws_convolve_s8() needs (0). */
int32_t kws_convolve_s8_get_buffer_size(const kws_nn_dims *input_dims, const kws_nn_dims *filter_dims);

/** kws_convolve_s8() with the DSP extension; same arguments, identical output. */
kws_nn_status kws_convolve_s8_opt(const kws_nn_context *ctx, const kws_nn_conv_params *conv_params,
                                  const kws_nn_per_channel_quant_params *quant_params,
                                  const kws_nn_dims *input_dims, const int8_t *input,
                                  const kws_nn_dims *filter_dims, const int8_t *filter,
                                  const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output);
/** Scratch bytes kws_convolve_s8_opt() needs: two int16 im2col columns plus requantisation tables. */
int32_t kws_convolve_s8_opt_get_buffer_size(const kws_nn_dims *input_dims,
                                            const kws_nn_dims *filter_dims);

/* ---------------------------------------------------------------- depthwise convolution */

/**
 * Depthwise 2D convolution with per-channel requantisation (TFLite DEPTHWISE_CONV_2D, int8).
 * @param[in, out] ctx           Scratch buffer (kws_depthwise_conv_s8_get_buffer_size() bytes).
 * @param[in]      dw_params     Offsets, channel multiplier, stride, padding, dilation, clamp.
 * @param[in]      quant_params  Per output channel multiplier and shift.
 * @param[in]      input_dims    [N, H_IN, W_IN, C_IN].
 * @param[in]      input         int8 input data.
 * @param[in]      filter_dims   [1, KH, KW, C_OUT] with C_OUT = C_IN * ch_mult.
 * @param[in]      filter        int8 weights, zero point 0.
 * @param[in]      bias          int32 [C_OUT] or NULL.
 * @param[in]      output_dims   [N, H_OUT, W_OUT, C_OUT].
 * @param[out]     output        int8 output data.
 * @return KWS_NN_SUCCESS or KWS_NN_ARG_ERROR.
 */
kws_nn_status kws_depthwise_conv_s8(const kws_nn_context *ctx, const kws_nn_dw_conv_params *dw_params,
                                    const kws_nn_per_channel_quant_params *quant_params,
                                    const kws_nn_dims *input_dims, const int8_t *input,
                                    const kws_nn_dims *filter_dims, const int8_t *filter,
                                    const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output);
/** Scratch bytes kws_depthwise_conv_s8() needs (0). */
int32_t kws_depthwise_conv_s8_get_buffer_size(const kws_nn_dims *input_dims,
                                              const kws_nn_dims *filter_dims);

/** kws_depthwise_conv_s8() with the DSP extension; same arguments, identical output. */
kws_nn_status kws_depthwise_conv_s8_opt(const kws_nn_context *ctx,
                                        const kws_nn_dw_conv_params *dw_params,
                                        const kws_nn_per_channel_quant_params *quant_params,
                                        const kws_nn_dims *input_dims, const int8_t *input,
                                        const kws_nn_dims *filter_dims, const int8_t *filter,
                                        const int32_t *bias, const kws_nn_dims *output_dims,
                                        int8_t *output);
/** Scratch bytes kws_depthwise_conv_s8_opt() needs: one channel plane in int16 plus tables. */
int32_t kws_depthwise_conv_s8_opt_get_buffer_size(const kws_nn_dims *input_dims,
                                                  const kws_nn_dims *filter_dims);

/* ---------------------------------------------------------------- fully connected */

/**
 * Fully connected layer with one requantisation for the whole output (TFLite FULLY_CONNECTED, int8).
 * @param[in, out] ctx           Scratch buffer (kws_fully_connected_s8_get_buffer_size() bytes).
 * @param[in]      fc_params     Offsets and activation clamp.
 * @param[in]      quant_params  Output multiplier and shift.
 * @param[in]      input_dims    [N, H, W, C] with H * W * C = DEPTH (N rows are N batches).
 * @param[in]      input         int8 input data.
 * @param[in]      filter_dims   [UNITS, 1, 1, DEPTH].
 * @param[in]      filter        int8 weights.
 * @param[in]      bias          int32 [UNITS] or NULL.
 * @param[in]      output_dims   [N, 1, 1, UNITS].
 * @param[out]     output        int8 output data.
 * @return KWS_NN_SUCCESS or KWS_NN_ARG_ERROR.
 */
kws_nn_status kws_fully_connected_s8(const kws_nn_context *ctx, const kws_nn_fc_params *fc_params,
                                     const kws_nn_per_tensor_quant_params *quant_params,
                                     const kws_nn_dims *input_dims, const int8_t *input,
                                     const kws_nn_dims *filter_dims, const int8_t *filter,
                                     const int32_t *bias, const kws_nn_dims *output_dims, int8_t *output);
/** kws_fully_connected_s8() with a multiplier and shift per unit (per-channel quantised weights). */
kws_nn_status kws_fully_connected_per_channel_s8(const kws_nn_context *ctx,
                                                 const kws_nn_fc_params *fc_params,
                                                 const kws_nn_per_channel_quant_params *quant_params,
                                                 const kws_nn_dims *input_dims, const int8_t *input,
                                                 const kws_nn_dims *filter_dims, const int8_t *filter,
                                                 const int32_t *bias, const kws_nn_dims *output_dims,
                                                 int8_t *output);
/** Scratch bytes the reference fully connected kernels need (0). */
int32_t kws_fully_connected_s8_get_buffer_size(const kws_nn_dims *filter_dims);

/** kws_fully_connected_s8() with the DSP extension; same arguments, identical output. */
kws_nn_status kws_fully_connected_s8_opt(const kws_nn_context *ctx, const kws_nn_fc_params *fc_params,
                                         const kws_nn_per_tensor_quant_params *quant_params,
                                         const kws_nn_dims *input_dims, const int8_t *input,
                                         const kws_nn_dims *filter_dims, const int8_t *filter,
                                         const int32_t *bias, const kws_nn_dims *output_dims,
                                         int8_t *output);
/** Scratch bytes kws_fully_connected_s8_opt() needs: one input row in int16. */
int32_t kws_fully_connected_s8_opt_get_buffer_size(const kws_nn_dims *filter_dims);

/* ---------------------------------------------------------------- pooling, softmax, reshape */

/**
 * Average pooling (TFLite AVERAGE_POOL_2D, int8): mean of the window's in-bounds elements, rounded
 * half away from zero; input and output share quantisation.
 * @param[in, out] ctx          Unused (kws_avgpool_s8_get_buffer_size() is 0).
 * @param[in]      pool_params  Stride, padding, activation clamp.
 * @param[in]      input_dims   [N, H_IN, W_IN, C].
 * @param[in]      input        int8 input data.
 * @param[in]      filter_dims  Window size in h and w.
 * @param[in]      output_dims  [N, H_OUT, W_OUT, C].
 * @param[out]     output       int8 output data.
 * @return KWS_NN_SUCCESS, or KWS_NN_ARG_ERROR for mismatched dims or a window entirely in padding.
 */
kws_nn_status kws_avgpool_s8(const kws_nn_context *ctx, const kws_nn_pool_params *pool_params,
                             const kws_nn_dims *input_dims, const int8_t *input,
                             const kws_nn_dims *filter_dims, const kws_nn_dims *output_dims,
                             int8_t *output);
/** Scratch bytes kws_avgpool_s8() needs (0). */
int32_t kws_avgpool_s8_get_buffer_size(const kws_nn_dims *output_dims);

/**
 * Derives softmax parameters exactly as TFLite Micro does from beta and the input scale.
 * @param[in]  beta         Softmax beta (1.0 for Keras softmax).
 * @param[in]  input_scale  The input tensor's scale (the float32 value widened to double).
 * @param[out] params       Multiplier, left shift and diff_min for kws_softmax_s8().
 */
void kws_softmax_s8_params(double beta, double input_scale, kws_nn_softmax_params *params);

/**
 * Softmax over the innermost dimension (TFLite SOFTMAX, int8 in, int8 out with scale 1/256 and zero
 * point -128).
 * @param[in]  input     int8 [num_rows, row_size].
 * @param[in]  num_rows  Number of rows (product of all but the last dimension).
 * @param[in]  row_size  Classes per row.
 * @param[in]  params    From kws_softmax_s8_params().
 * @param[out] output    int8 [num_rows, row_size].
 */
void kws_softmax_s8(const int8_t *input, int32_t num_rows, int32_t row_size,
                    const kws_nn_softmax_params *params, int8_t *output);
/** Scratch bytes kws_softmax_s8() needs (0). */
int32_t kws_softmax_s8_get_buffer_size(int32_t row_size);

/**
 * Reshape (TFLite RESHAPE, also SQUEEZE/EXPAND_DIMS): dense storage makes it a byte copy.
 * @param[in]  input       int8 data.
 * @param[out] output      int8 data; may alias input (then nothing is copied).
 * @param[in]  total_size  Number of elements.
 */
void kws_reshape_s8(const int8_t *input, int8_t *output, int32_t total_size);

/* ---------------------------------------------------------------- elementwise (recurrent cells) */

/**
 * Derives ADD / SUB parameters exactly as TFLite Micro does (double arithmetic, left shift 20).
 * @param[in]  input1_scale, input1_zero_point  First input's quantisation.
 * @param[in]  input2_scale, input2_zero_point  Second input's quantisation.
 * @param[in]  output_scale, output_zero_point  Output quantisation.
 * @param[in]  activation                       Output clamp.
 * @param[out] params                           Filled parameters.
 */
void kws_add_s8_params(double input1_scale, int32_t input1_zero_point, double input2_scale,
                       int32_t input2_zero_point, double output_scale, int32_t output_zero_point,
                       kws_nn_activation activation, kws_nn_add_params *params);

/**
 * Elementwise ADD (TFLite ADD, int8) with suffix broadcasting: element i of the output reads
 * input1[i % input1_size] and input2[i % input2_size], which covers [1, H] + [H] and scalars.
 * @param[in]  input1       int8 data, input1_size elements.
 * @param[in]  input1_size  Divides size.
 * @param[in]  input2       int8 data, input2_size elements.
 * @param[in]  input2_size  Divides size.
 * @param[in]  params       From kws_add_s8_params().
 * @param[in]  size         Output elements.
 * @param[out] output       int8 data.
 * @return KWS_NN_SUCCESS, or KWS_NN_ARG_ERROR when an input size does not divide size.
 */
kws_nn_status kws_add_s8(const int8_t *input1, int32_t input1_size, const int8_t *input2, int32_t input2_size,
                         const kws_nn_add_params *params, int32_t size, int8_t *output);

/** Elementwise SUB (TFLite SUB, int8): input1 - input2, same parameters and broadcasting as ADD. */
kws_nn_status kws_sub_s8(const int8_t *input1, int32_t input1_size, const int8_t *input2, int32_t input2_size,
                         const kws_nn_add_params *params, int32_t size, int8_t *output);

/** Derives MUL parameters exactly as TFLite Micro does (real multiplier s1 * s2 / s_out in double). */
void kws_mul_s8_params(double input1_scale, int32_t input1_zero_point, double input2_scale,
                       int32_t input2_zero_point, double output_scale, int32_t output_zero_point,
                       kws_nn_activation activation, kws_nn_mul_params *params);

/** Elementwise MUL (TFLite MUL, int8), broadcasting as kws_add_s8(). */
kws_nn_status kws_mul_s8(const int8_t *input1, int32_t input1_size, const int8_t *input2, int32_t input2_size,
                         const kws_nn_mul_params *params, int32_t size, int8_t *output);

/** Derives LOGISTIC parameters as TFLite Micro does from the input scale and zero point. */
void kws_logistic_s8_params(double input_scale, int32_t input_zero_point, kws_nn_sigmoid_params *params);

/**
 * LOGISTIC (TFLite, int8 in; int8 out with scale 1/256, zero point -128), gemmlowp fixed point.
 * @param[in]  input   int8 data.
 * @param[in]  params  From kws_logistic_s8_params().
 * @param[in]  size    Elements.
 * @param[out] output  int8 data (may alias input).
 */
void kws_logistic_s8(const int8_t *input, const kws_nn_sigmoid_params *params, int32_t size, int8_t *output);

/** Derives TANH parameters as TFLite Micro does from the input scale and zero point. */
void kws_tanh_s8_params(double input_scale, int32_t input_zero_point, kws_nn_sigmoid_params *params);

/** TANH (TFLite, int8 in; int8 out with scale 1/128, zero point 0), gemmlowp fixed point. */
void kws_tanh_s8(const int8_t *input, const kws_nn_sigmoid_params *params, int32_t size, int8_t *output);

/**
 * The table of an int8 → int8 op: table[x + 128] = op(x) for every int8 x, computed by the op itself,
 * so that kws_lookup_s8() returns its bytes exactly. (The fixed-point functions take more steps for
 * some inputs than for others; a lookup takes the same time for every input.)
 * @param[in]  op      kws_logistic_s8 or kws_tanh_s8.
 * @param[in]  params  The op's parameters.
 * @param[out] table   256 entries.
 */
void kws_lookup_table_s8(void (*op)(const int8_t *, const kws_nn_sigmoid_params *, int32_t, int8_t *),
                         const kws_nn_sigmoid_params *params, int8_t table[256]);

/** output[i] = table[input[i] + 128] (output may alias input). */
void kws_lookup_s8(const int8_t *input, const int8_t table[256], int32_t size, int8_t *output);

/* ---------------------------------------------------------------- data movement */

/**
 * PAD (TFLite PAD, int8): copies [N, H, W, C] into a larger tensor, filling with pad_value (TFLite
 * uses the output zero point).
 * @param[in]  input        int8 data.
 * @param[in]  input_dims   [N, H, W, C].
 * @param[in]  pad_before   Elements added before each of N, H, W, C.
 * @param[in]  pad_after    Elements added after each of N, H, W, C.
 * @param[in]  pad_value    Fill value.
 * @param[out] output       int8 [N + pads, H + pads, W + pads, C + pads].
 */
void kws_pad_s8(const int8_t *input, const kws_nn_dims *input_dims, const kws_nn_dims *pad_before,
                const kws_nn_dims *pad_after, int8_t pad_value, int8_t *output);

/**
 * UNPACK (TFLite UNPACK, int8): splits [outer, count, inner] into count tensors [outer, inner].
 * @param[in]  input    int8 data.
 * @param[in]  outer    Product of the dimensions before the axis.
 * @param[in]  count    Size of the unpacked axis.
 * @param[in]  inner    Product of the dimensions after the axis.
 * @param[out] outputs  count pointers to int8 [outer, inner].
 */
void kws_unpack_s8(const int8_t *input, int32_t outer, int32_t count, int32_t inner, int8_t *const *outputs);

/** PACK (TFLite PACK, int8): the inverse of kws_unpack_s8(); count inputs [outer, inner]. */
void kws_pack_s8(const int8_t *const *inputs, int32_t outer, int32_t count, int32_t inner, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* KWS_NNFUNCTIONS_H */
