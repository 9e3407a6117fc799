// Convolutions on oneDNN. The user's buffers (tfjs Float32Arrays) are wrapped without copying;
// activations are NHWC as tfjs has them, weights are reordered into the primitive's preferred
// (blocked) layout at its boundary.
#include "conv.h"

#include <memory>
#include <string>
#include <unordered_map>

#include "common.h"

namespace tern {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

/** One argument of a primitive: the user's buffer, and oneDNN's copy when layouts differ. */
struct Arg {
  memory user;
  memory prim;
  bool reordered = false;
  dnnl::reorder toPrim, toUser;

  void init(const memory::desc& userMd, const memory::desc& primMd, bool isInput) {
    auto& engine = cpuEngine();
    user = memory(userMd, engine, DNNL_MEMORY_NONE);
    reordered = userMd != primMd;
    if (!reordered) {
      prim = user;
      return;
    }
    prim = memory(primMd, engine);
    if (isInput) {
      toPrim = dnnl::reorder(user, prim);
    } else {
      toUser = dnnl::reorder(prim, user);
    }
  }
  void bindInput(const float* data) {
    user.set_data_handle(const_cast<float*>(data));
    if (reordered) toPrim.execute(cpuStream(), user, prim);
  }
  void bindOutput(float* data) { user.set_data_handle(data); }
  void finishOutput() {
    if (reordered) toUser.execute(cpuStream(), prim, user);
  }
};

struct Descs {
  memory::desc src, weights, dst;           // user layouts (NHWC, HWIO)
  memory::desc srcAny, weightsAny, dstAny;  // let oneDNN choose
  memory::dims strides, dilates, padL, padR;
};

Descs describe(const ConvGeometry& g) {
  Descs d;
  memory::dims src = {g.batch, g.inChannels, g.inHeight, g.inWidth};
  memory::dims weights = {g.outChannels, g.inChannels, g.filterHeight, g.filterWidth};
  memory::dims dst = {g.batch, g.outChannels, g.outHeight, g.outWidth};
  d.src = memory::desc(src, dt::f32, tag::nhwc);
  d.weights = memory::desc(weights, dt::f32, tag::hwio);
  d.dst = memory::desc(dst, dt::f32, tag::nhwc);
  // Activations stay NHWC (jit:avx2 runs channels-last directly); only the weights take the
  // primitive's blocked layout. Letting oneDNN pick blocked activations too cost two reorders
  // per call and measured 5–20 % slower per training step (BENCHMARKS.md, oneDNN section).
  d.srcAny = memory::desc(src, dt::f32, tag::nhwc);
  d.weightsAny = memory::desc(weights, dt::f32, tag::any);
  d.dstAny = memory::desc(dst, dt::f32, tag::nhwc);
  d.strides = {g.strideHeight, g.strideWidth};
  // oneDNN counts dilation from 0 (no dilation), tfjs from 1.
  d.dilates = {g.dilationHeight - 1, g.dilationWidth - 1};
  d.padL = {g.padTop, g.padLeft};
  d.padR = {g.padBottom, g.padRight};
  return d;
}

dnnl::convolution_forward::primitive_desc forwardDesc(const Descs& d, dnnl::prop_kind kind) {
  dnnl::convolution_forward::desc desc(kind, dnnl::algorithm::convolution_direct, d.srcAny,
                                       d.weightsAny, d.dstAny, d.strides, d.dilates, d.padL, d.padR);
  return dnnl::convolution_forward::primitive_desc(desc, cpuEngine());
}

std::string keyOf(char kind, const ConvGeometry& g) {
  std::string key(1, kind);
  const int64_t* values = &g.batch;
  for (size_t i = 0; i < sizeof(ConvGeometry) / sizeof(int64_t); ++i) {
    key += ',';
    key += std::to_string(values[i]);
  }
  return key;
}

struct ForwardEntry {
  dnnl::convolution_forward conv;
  Arg src, weights, dst;
};
struct BackwardDataEntry {
  dnnl::convolution_backward_data conv;
  Arg diffDst, weights, diffSrc;
};
struct BackwardWeightsEntry {
  dnnl::convolution_backward_weights conv;
  Arg src, diffDst, diffWeights;
};

template <typename Entry>
using Cache = std::unordered_map<std::string, std::unique_ptr<Entry>>;

}  // namespace

void conv2dForward(const ConvGeometry& g, const float* x, const float* w, float* y) {
  static Cache<ForwardEntry> cache;
  auto& slot = cache[keyOf('f', g)];
  if (!slot) {
    Descs d = describe(g);
    auto pd = forwardDesc(d, dnnl::prop_kind::forward_training);
    slot = std::make_unique<ForwardEntry>();
    slot->conv = dnnl::convolution_forward(pd);
    slot->src.init(d.src, pd.src_desc(), true);
    slot->weights.init(d.weights, pd.weights_desc(), true);
    slot->dst.init(d.dst, pd.dst_desc(), false);
  }
  ForwardEntry& e = *slot;
  e.src.bindInput(x);
  e.weights.bindInput(w);
  e.dst.bindOutput(y);
  e.conv.execute(cpuStream(), {{DNNL_ARG_SRC, e.src.prim},
                               {DNNL_ARG_WEIGHTS, e.weights.prim},
                               {DNNL_ARG_DST, e.dst.prim}});
  e.dst.finishOutput();
  cpuStream().wait();
}

void conv2dBackwardData(const ConvGeometry& g, const float* dy, const float* w, float* dx) {
  static Cache<BackwardDataEntry> cache;
  auto& slot = cache[keyOf('d', g)];
  if (!slot) {
    Descs d = describe(g);
    auto hint = forwardDesc(d, dnnl::prop_kind::forward_training);
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.srcAny,
                                               d.weightsAny, d.dstAny, d.strides, d.dilates,
                                               d.padL, d.padR);
    dnnl::convolution_backward_data::primitive_desc pd(desc, cpuEngine(), hint);
    slot = std::make_unique<BackwardDataEntry>();
    slot->conv = dnnl::convolution_backward_data(pd);
    slot->diffDst.init(d.dst, pd.diff_dst_desc(), true);
    slot->weights.init(d.weights, pd.weights_desc(), true);
    slot->diffSrc.init(d.src, pd.diff_src_desc(), false);
  }
  BackwardDataEntry& e = *slot;
  e.diffDst.bindInput(dy);
  e.weights.bindInput(w);
  e.diffSrc.bindOutput(dx);
  e.conv.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, e.diffDst.prim},
                               {DNNL_ARG_WEIGHTS, e.weights.prim},
                               {DNNL_ARG_DIFF_SRC, e.diffSrc.prim}});
  e.diffSrc.finishOutput();
  cpuStream().wait();
}

void conv2dBackwardWeights(const ConvGeometry& g, const float* x, const float* dy, float* dw) {
  static Cache<BackwardWeightsEntry> cache;
  auto& slot = cache[keyOf('w', g)];
  if (!slot) {
    Descs d = describe(g);
    auto hint = forwardDesc(d, dnnl::prop_kind::forward_training);
    dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.srcAny,
                                                  d.weightsAny, d.dstAny, d.strides, d.dilates,
                                                  d.padL, d.padR);
    dnnl::convolution_backward_weights::primitive_desc pd(desc, cpuEngine(), hint);
    slot = std::make_unique<BackwardWeightsEntry>();
    slot->conv = dnnl::convolution_backward_weights(pd);
    slot->src.init(d.src, pd.src_desc(), true);
    slot->diffDst.init(d.dst, pd.diff_dst_desc(), true);
    slot->diffWeights.init(d.weights, pd.diff_weights_desc(), false);
  }
  BackwardWeightsEntry& e = *slot;
  e.src.bindInput(x);
  e.diffDst.bindInput(dy);
  e.diffWeights.bindOutput(dw);
  e.conv.execute(cpuStream(), {{DNNL_ARG_SRC, e.src.prim},
                               {DNNL_ARG_DIFF_DST, e.diffDst.prim},
                               {DNNL_ARG_DIFF_WEIGHTS, e.diffWeights.prim}});
  e.diffWeights.finishOutput();
  cpuStream().wait();
}

}  // namespace tern
