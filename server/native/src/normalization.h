// Batch normalization in training mode on oneDNN: statistics, normalization, scale and shift in
// one primitive forward, and the whole input / scale / shift gradient in one primitive backward.
// Through tfjs ops the same layer costs about twenty full passes over the activation.
#pragma once
#include <cstdint>

namespace tern {

/**
 * x is [rows, channels] row-major (NHWC activations with rows = N·H·W). Writes y, the batch mean
 * and the biased batch variance (what tfjs's moments() returns) per channel.
 */
void batchNormTrainForward(int64_t rows, int64_t channels, float epsilon, const float* x, const float* scale,
                           const float* shift, float* y, float* mean, float* variance);

/**
 * The gradient of batchNormTrainForward's y for the given mean and variance (its outputs):
 * dx, dscale, dshift. The mean and variance outputs themselves carry no gradient. (oneDNN's
 * backward primitive takes the shift as an argument too, although the gradient does not depend on it.)
 */
void batchNormTrainBackward(int64_t rows, int64_t channels, float epsilon, const float* x, const float* dy,
                            const float* mean, const float* variance, const float* scale, const float* shift,
                            float* dx, float* dscale, float* dshift);

}  // namespace tern
