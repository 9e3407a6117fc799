// Average and max pooling (forward and backward) on oneDNN, NHWC. tfjs's average excludes padded
// cells (pooling_avg_exclude_padding); its gradient divides by the whole window.
#pragma once
#include <cstdint>

namespace tern {

struct PoolGeometry {
  int64_t batch, inHeight, inWidth, channels, outHeight, outWidth;
  int64_t filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft, padBottom, padRight;
};

void avgPoolForward(const PoolGeometry& g, const float* x, float* y);
void avgPoolBackward(const PoolGeometry& g, const float* dy, float* dx);
void maxPoolForward(const PoolGeometry& g, const float* x, float* y);
/**
 * dx for max pooling: dy goes to the (first) maximum of each window of x. tfjs's MaxPoolGrad gets
 * x, not the positions, so the forward pass is rerun to fill oneDNN's workspace (one cheap pass).
 */
void maxPoolBackward(const PoolGeometry& g, const float* x, const float* dy, float* dx);

}  // namespace tern
