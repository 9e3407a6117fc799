// 2-D convolution (forward, backward-data, backward-weights) on oneDNN, NHWC activations and
// HWIO filters as tfjs stores them. Primitives are created once per shape and cached.
#pragma once
#include <cstdint>

namespace tern {

/** Geometry of one convolution, in tfjs terms (computeConv2DInfo). */
struct ConvGeometry {
  int64_t batch, inHeight, inWidth, inChannels;
  int64_t outChannels, filterHeight, filterWidth, outHeight, outWidth;
  int64_t strideHeight, strideWidth, padTop, padLeft, padBottom, padRight;
  int64_t dilationHeight, dilationWidth;
};

/** y[N,OH,OW,OC] = conv(x[N,IH,IW,IC], w[KH,KW,IC,OC]). */
void conv2dForward(const ConvGeometry& g, const float* x, const float* w, float* y);
/** dx[N,IH,IW,IC] from dy[N,OH,OW,OC] and w. */
void conv2dBackwardData(const ConvGeometry& g, const float* dy, const float* w, float* dx);
/** dw[KH,KW,IC,OC] from x and dy. */
void conv2dBackwardWeights(const ConvGeometry& g, const float* x, const float* dy, float* dw);

}  // namespace tern
