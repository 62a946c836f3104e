/*
 * Argument structs of the kws-nas int8 kernels.
 *
 * The layout follows CMSIS-NN's arm_nn_types.h (facts: style_anchors.md §4): every kernel takes a
 * scratch context, op parameters, quantisation parameters and one dims struct per tensor, so a model
 * interpreter can fill them once per layer from a .tflite and the footprint estimator can ask each
 * kernel's *_get_buffer_size() for its scratch RAM.
 *
 * Quantisation follows TFLite's int8 spec: real = scale * (q - zero_point); weights are symmetric
 * (zero point 0), per output channel for conv / depthwise conv, per tensor or per channel for fully
 * connected; biases are int32 with scale input_scale * weight_scale.
 */
#ifndef KWS_NN_TYPES_H
#define KWS_NN_TYPES_H

#include <stdint.h>

/** Status returned by every kernel. */
typedef enum {
    KWS_NN_SUCCESS = 0,    /**< Output written. */
    KWS_NN_ARG_ERROR = -1, /**< Inconsistent dims / parameters or missing scratch buffer. */
} kws_nn_status;

/** Scratch memory handed to a kernel; size from the kernel's *_get_buffer_size(). */
typedef struct {
    void *buf;    /**< Word-aligned buffer, or NULL when the kernel needs none. */
    int32_t size; /**< Bytes available in buf. */
} kws_nn_context;

/** Tensor dimensions in TFLite order [N, H, W, C]. Unused dimensions are 1. */
typedef struct {
    int32_t n; /**< Batches (for filters: output channels). */
    int32_t h; /**< Height (time for KWS features). */
    int32_t w; /**< Width (frequency for KWS features). */
    int32_t c; /**< Channels (innermost, contiguous). */
} kws_nn_dims;

/** A (width, height) pair for strides, paddings and dilations. */
typedef struct {
    int32_t w;
    int32_t h;
} kws_nn_tile;

/** Fused activation as an output clamp in the quantised domain, e.g. ReLU = [zero_point, 127]. */
typedef struct {
    int32_t min;
    int32_t max;
} kws_nn_activation;

/**
 * Convolution parameters. Padding is the top/left padding as TFLite computes it (SAME: half of the
 * total, the odd pixel going to bottom/right; VALID: 0).
 */
typedef struct {
    int32_t input_offset;  /**< Minus the input zero point, in [-127, 128]. */
    int32_t output_offset; /**< The output zero point, in [-128, 127]. */
    kws_nn_tile stride;
    kws_nn_tile padding;
    kws_nn_tile dilation;
    kws_nn_activation activation;
} kws_nn_conv_params;

/** Depthwise convolution parameters: as kws_nn_conv_params plus the channel multiplier. */
typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    int32_t ch_mult; /**< Output channels per input channel (TFLite depth_multiplier). */
    kws_nn_tile stride;
    kws_nn_tile padding;
    kws_nn_tile dilation;
    kws_nn_activation activation;
} kws_nn_dw_conv_params;

/** Fully connected parameters. */
typedef struct {
    int32_t input_offset;  /**< Minus the input zero point. */
    int32_t filter_offset; /**< Minus the weight zero point (0 for TFLite int8 weights). */
    int32_t output_offset; /**< The output zero point. */
    kws_nn_activation activation;
} kws_nn_fc_params;

/** Pooling parameters; input and output share scale and zero point (TFLite requires it). */
typedef struct {
    kws_nn_tile stride;
    kws_nn_tile padding;
    kws_nn_activation activation;
} kws_nn_pool_params;

/**
 * Per-channel requantisation: real multiplier_c = input_scale * weight_scale_c / output_scale,
 * stored as a Q31 multiplier and a power-of-two shift (kws_quantize_multiplier()).
 */
typedef struct {
    const int32_t *multiplier; /**< One per output channel, in [2^30, 2^31) or 0. */
    const int32_t *shift;      /**< One per output channel; > 0 shifts left, < 0 shifts right. */
} kws_nn_per_channel_quant_params;

/** Per-tensor requantisation (one multiplier and shift for the whole output). */
typedef struct {
    int32_t multiplier;
    int32_t shift;
} kws_nn_per_tensor_quant_params;

/**
 * Softmax parameters as TFLite Micro derives them from beta and the input scale
 * (kws_softmax_s8_params()).
 */
typedef struct {
    int32_t input_multiplier; /**< Q31 multiplier of beta * input_scale * 2^(31 - 5). */
    int32_t input_left_shift; /**< Its left shift (>= 0). */
    int32_t diff_min;         /**< Inputs this far below the row maximum or more contribute 0. */
} kws_nn_softmax_params;

/**
 * ADD / SUB parameters (TFLite's quantised Add): both inputs are shifted left by left_shift (20 for
 * int8), rescaled to a common scale (2 * the larger input scale), summed, then rescaled to the output.
 */
typedef struct {
    int32_t input1_offset; /**< Minus input 1's zero point. */
    int32_t input2_offset; /**< Minus input 2's zero point. */
    int32_t output_offset; /**< The output zero point. */
    int32_t left_shift;
    int32_t input1_multiplier;
    int32_t input1_shift;
    int32_t input2_multiplier;
    int32_t input2_shift;
    int32_t output_multiplier;
    int32_t output_shift;
    kws_nn_activation activation;
} kws_nn_add_params;

/** MUL parameters: (x1 + offset1) * (x2 + offset2) requantised by scale1 * scale2 / output_scale. */
typedef struct {
    int32_t input1_offset;
    int32_t input2_offset;
    int32_t output_offset;
    int32_t output_multiplier;
    int32_t output_shift;
    kws_nn_activation activation;
} kws_nn_mul_params;

/**
 * LOGISTIC / TANH parameters: the input minus its zero point is rescaled to Q4.27; inputs at or
 * beyond the radius saturate. Output quantisation is fixed by TFLite (logistic: 1/256, -128;
 * tanh: 1/128, 0).
 */
typedef struct {
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} kws_nn_sigmoid_params;

#endif /* KWS_NN_TYPES_H */
