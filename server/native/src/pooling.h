// Average pooling (forward and backward) on oneDNN, NHWC. tfjs's forward pass excludes padded
// cells from the average (pooling_avg_exclude_padding); its gradient divides by the whole window.
#pragma once
#include <cstdint>

namespace tern {

struct PoolGeometry {
  int64_t batch, inHeight, inWidth, channels, outHeight, outWidth;
  int64_t filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft, padBottom, padRight;
};

void avgPoolForward(const PoolGeometry& g, const float* x, float* y);
void avgPoolBackward(const PoolGeometry& g, const float* dy, float* dx);

}  // namespace tern
