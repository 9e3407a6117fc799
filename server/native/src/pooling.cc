#include "pooling.h"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>

#include "common.h"

namespace tern {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct PoolDescs {
  memory::desc src, dst;
  memory::dims strides, kernel, padL, padR;
};

PoolDescs describe(const PoolGeometry& g) {
  return {memory::desc({g.batch, g.channels, g.inHeight, g.inWidth}, dt::f32, tag::nhwc),
          memory::desc({g.batch, g.channels, g.outHeight, g.outWidth}, dt::f32, tag::nhwc),
          {g.strideHeight, g.strideWidth},
          {g.filterHeight, g.filterWidth},
          {g.padTop, g.padLeft},
          {g.padBottom, g.padRight}};
}

std::string keyOf(const PoolGeometry& g) {
  std::string key;
  const int64_t* values = &g.batch;
  for (size_t i = 0; i < sizeof(PoolGeometry) / sizeof(int64_t); ++i) key += std::to_string(values[i]) + ",";
  return key;
}

dnnl::pooling_forward::primitive_desc forwardDesc(const PoolDescs& d, dnnl::algorithm algorithm) {
  dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_training, algorithm,
                                   d.src, d.dst, d.strides, d.kernel, d.padL, d.padR);
  return dnnl::pooling_forward::primitive_desc(desc, cpuEngine());
}

struct Entry {
  dnnl::primitive primitive;
  memory in, out;
};

/** Max-pooling gradient: the forward pass that records the argmax, then the backward pass. */
struct MaxBackwardEntry {
  dnnl::primitive forward, backward;
  memory src, dst, workspace, diffDst, diffSrc;
};

/** A forward pooling pass without workspace (the gradients rerun their own), cached per shape. */
void poolForward(const PoolGeometry& g, dnnl::algorithm algorithm, const float* x, float* y) {
  static std::unordered_map<std::string, std::unique_ptr<Entry>> cache;
  auto& slot = cache[std::to_string(static_cast<int>(algorithm)) + ":" + keyOf(g)];
  if (!slot) {
    PoolDescs d = describe(g);
    dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, d.src, d.dst, d.strides, d.kernel,
                                     d.padL, d.padR);
    slot = std::make_unique<Entry>();
    slot->primitive = dnnl::pooling_forward(dnnl::pooling_forward::primitive_desc(desc, cpuEngine()));
    slot->in = memory(d.src, cpuEngine(), DNNL_MEMORY_NONE);
    slot->out = memory(d.dst, cpuEngine(), DNNL_MEMORY_NONE);
  }
  slot->in.set_data_handle(const_cast<float*>(x));
  slot->out.set_data_handle(y);
  slot->primitive.execute(cpuStream(), {{DNNL_ARG_SRC, slot->in}, {DNNL_ARG_DST, slot->out}});
  cpuStream().wait();
}

}  // namespace

void avgPoolForward(const PoolGeometry& g, const float* x, float* y) {
  poolForward(g, dnnl::algorithm::pooling_avg_exclude_padding, x, y);
}

void avgPoolBackward(const PoolGeometry& g, const float* dy, float* dx) {
  static std::unordered_map<std::string, std::unique_ptr<Entry>> cache;
  auto& slot = cache[keyOf(g)];
  if (!slot) {
    PoolDescs d = describe(g);
    // tfjs's AvgPoolGrad divides by the whole window (padding included), unlike its forward pass.
    const auto algorithm = dnnl::algorithm::pooling_avg_include_padding;
    dnnl::pooling_backward::desc desc(algorithm, d.src, d.dst, d.strides, d.kernel, d.padL, d.padR);
    dnnl::pooling_backward::primitive_desc pd(desc, cpuEngine(), forwardDesc(d, algorithm));
    slot = std::make_unique<Entry>();
    slot->primitive = dnnl::pooling_backward(pd);
    slot->in = memory(d.dst, cpuEngine(), DNNL_MEMORY_NONE);
    slot->out = memory(d.src, cpuEngine(), DNNL_MEMORY_NONE);
  }
  slot->in.set_data_handle(const_cast<float*>(dy));
  slot->out.set_data_handle(dx);
  slot->primitive.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, slot->in}, {DNNL_ARG_DIFF_SRC, slot->out}});
  cpuStream().wait();
}

void maxPoolForward(const PoolGeometry& g, const float* x, float* y) {
  poolForward(g, dnnl::algorithm::pooling_max, x, y);
}

namespace {

/**
 * Windows that tile the input without overlap or padding (stride = window, the usual 2×2 / 2):
 * one pass that writes every dx element once, dy at each window's first maximum and 0 elsewhere
 * (including rows and columns no window covers). oneDNN's path reruns the forward pass, zeroes dx
 * and scatters: about 5× slower on fmnist-cnn's 128×28×28×32.
 */
bool tiles(const PoolGeometry& g) {
  return g.strideHeight == g.filterHeight && g.strideWidth == g.filterWidth && g.padTop == 0 && g.padLeft == 0 &&
         g.padBottom == 0 && g.padRight == 0 && g.outHeight * g.strideHeight <= g.inHeight &&
         g.outWidth * g.strideWidth <= g.inWidth;
}

void maxPoolBackwardTiled(const PoolGeometry& g, const float* x, const float* dy, float* dx) {
  const int64_t C = g.channels, rowSize = g.inWidth * C;
  const int64_t rows = g.batch * g.inHeight;
  const int threads = rows * rowSize < (1 << 15) ? 1 : omp_get_max_threads();
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t row = 0; row < g.batch * g.outHeight; ++row) {
    const int64_t n = row / g.outHeight, oy = row % g.outHeight;
    const int64_t y0 = oy * g.filterHeight;
    const float* dyRow = dy + (n * g.outHeight + oy) * g.outWidth * C;
    float* dxBand = dx + (n * g.inHeight + y0) * rowSize;
    const float* xBand = x + (n * g.inHeight + y0) * rowSize;
    std::fill(dxBand, dxBand + g.filterHeight * rowSize, 0.f);
    for (int64_t ox = 0; ox < g.outWidth; ++ox) {
      for (int64_t c = 0; c < C; ++c) {
        // The first maximum in row-major window order, as tfjs's maxPoolPositions picks it.
        int64_t best = ox * g.filterWidth * C + c;
        float bestValue = xBand[best];
        for (int64_t ky = 0; ky < g.filterHeight; ++ky) {
          for (int64_t kx = 0; kx < g.filterWidth; ++kx) {
            const int64_t at = ky * rowSize + (ox * g.filterWidth + kx) * C + c;
            if (xBand[at] > bestValue) {
              bestValue = xBand[at];
              best = at;
            }
          }
        }
        dxBand[best] = dyRow[ox * C + c];
      }
    }
  }
  // Rows below the last window band get no gradient.
  for (int64_t n = 0; n < g.batch; ++n) {
    float* tail = dx + (n * g.inHeight + g.outHeight * g.filterHeight) * rowSize;
    std::fill(tail, tail + (g.inHeight - g.outHeight * g.filterHeight) * rowSize, 0.f);
  }
}

}  // namespace

void maxPoolBackward(const PoolGeometry& g, const float* x, const float* dy, float* dx) {
  if (tiles(g)) return maxPoolBackwardTiled(g, x, dy, dx);
  static std::unordered_map<std::string, std::unique_ptr<MaxBackwardEntry>> cache;
  auto& slot = cache[keyOf(g)];
  if (!slot) {
    PoolDescs d = describe(g);
    auto forward = forwardDesc(d, dnnl::algorithm::pooling_max);
    dnnl::pooling_backward::desc desc(dnnl::algorithm::pooling_max, d.src, d.dst, d.strides, d.kernel, d.padL, d.padR);
    dnnl::pooling_backward::primitive_desc backward(desc, cpuEngine(), forward);
    slot = std::make_unique<MaxBackwardEntry>();
    slot->forward = dnnl::pooling_forward(forward);
    slot->backward = dnnl::pooling_backward(backward);
    slot->src = memory(d.src, cpuEngine(), DNNL_MEMORY_NONE);
    // The forward output is not needed, only the workspace: both are the entry's own buffers.
    slot->dst = memory(forward.dst_desc(), cpuEngine());
    slot->workspace = memory(forward.workspace_desc(), cpuEngine());
    slot->diffDst = memory(d.dst, cpuEngine(), DNNL_MEMORY_NONE);
    slot->diffSrc = memory(d.src, cpuEngine(), DNNL_MEMORY_NONE);
  }
  MaxBackwardEntry& e = *slot;
  e.src.set_data_handle(const_cast<float*>(x));
  e.diffDst.set_data_handle(const_cast<float*>(dy));
  e.diffSrc.set_data_handle(dx);
  e.forward.execute(cpuStream(), {{DNNL_ARG_SRC, e.src}, {DNNL_ARG_DST, e.dst}, {DNNL_ARG_WORKSPACE, e.workspace}});
  e.backward.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, e.diffDst}, {DNNL_ARG_WORKSPACE, e.workspace}, {DNNL_ARG_DIFF_SRC, e.diffSrc}});
  cpuStream().wait();
}

}  // namespace tern
