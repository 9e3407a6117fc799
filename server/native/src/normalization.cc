#include "normalization.h"

#include <memory>
#include <string>
#include <unordered_map>

#include "common.h"

namespace tern {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

const auto kFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

// [rows, channels] seen as an NHWC tensor of N = rows, H = W = 1: the same bytes, and the layout
// oneDNN's channels-last (nspc) batch-norm kernels take without any reorder.
memory::desc dataDesc(int64_t rows, int64_t channels) {
  return memory::desc({rows, channels, 1, 1}, dt::f32, tag::nhwc);
}

std::string keyOf(int64_t rows, int64_t channels, float epsilon) {
  return std::to_string(rows) + "," + std::to_string(channels) + "," + std::to_string(epsilon);
}

dnnl::batch_normalization_forward::primitive_desc forwardDesc(int64_t rows, int64_t channels, float epsilon) {
  dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_training, dataDesc(rows, channels), epsilon,
                                               kFlags);
  return dnnl::batch_normalization_forward::primitive_desc(desc, cpuEngine());
}

/** A cached primitive with its memory objects; the data handles are set per call. */
struct Entry {
  dnnl::primitive primitive;
  memory data, out, mean, variance, scale, shift, diffDst, dscale, dshift;
};

/** An unbound memory for one execution argument, described as the primitive expects it. */
memory unbound(const dnnl::primitive_desc_base& pd, int arg) {
  return memory(pd.query_md(dnnl::query::exec_arg_md, arg), cpuEngine(), DNNL_MEMORY_NONE);
}

template <typename T>
T* mutableData(const T* p) {
  return const_cast<T*>(p);
}

}  // namespace

void batchNormTrainForward(int64_t rows, int64_t channels, float epsilon, const float* x, const float* scale,
                           const float* shift, float* y, float* mean, float* variance) {
  static std::unordered_map<std::string, std::unique_ptr<Entry>> cache;
  auto& slot = cache[keyOf(rows, channels, epsilon)];
  if (!slot) {
    auto pd = forwardDesc(rows, channels, epsilon);
    slot = std::make_unique<Entry>();
    slot->primitive = dnnl::batch_normalization_forward(pd);
    slot->data = unbound(pd, DNNL_ARG_SRC);
    slot->out = unbound(pd, DNNL_ARG_DST);
    slot->mean = unbound(pd, DNNL_ARG_MEAN);
    slot->variance = unbound(pd, DNNL_ARG_VARIANCE);
    slot->scale = unbound(pd, DNNL_ARG_SCALE);
    slot->shift = unbound(pd, DNNL_ARG_SHIFT);
  }
  Entry& e = *slot;
  e.data.set_data_handle(mutableData(x));
  e.out.set_data_handle(y);
  e.mean.set_data_handle(mean);
  e.variance.set_data_handle(variance);
  e.scale.set_data_handle(mutableData(scale));
  e.shift.set_data_handle(mutableData(shift));
  e.primitive.execute(cpuStream(), {{DNNL_ARG_SRC, e.data},
                                    {DNNL_ARG_DST, e.out},
                                    {DNNL_ARG_MEAN, e.mean},
                                    {DNNL_ARG_VARIANCE, e.variance},
                                    {DNNL_ARG_SCALE, e.scale},
                                    {DNNL_ARG_SHIFT, e.shift}});
  cpuStream().wait();
}

void batchNormTrainBackward(int64_t rows, int64_t channels, float epsilon, const float* x, const float* dy,
                            const float* mean, const float* variance, const float* scale, const float* shift,
                            float* dx, float* dscale, float* dshift) {
  static std::unordered_map<std::string, std::unique_ptr<Entry>> cache;
  auto& slot = cache[keyOf(rows, channels, epsilon)];
  if (!slot) {
    auto hint = forwardDesc(rows, channels, epsilon);
    dnnl::batch_normalization_backward::desc desc(dnnl::prop_kind::backward, dataDesc(rows, channels),
                                                  dataDesc(rows, channels), epsilon, kFlags);
    dnnl::batch_normalization_backward::primitive_desc pd(desc, cpuEngine(), hint);
    slot = std::make_unique<Entry>();
    slot->primitive = dnnl::batch_normalization_backward(pd);
    slot->data = unbound(pd, DNNL_ARG_SRC);
    slot->out = unbound(pd, DNNL_ARG_DIFF_SRC);
    slot->mean = unbound(pd, DNNL_ARG_MEAN);
    slot->variance = unbound(pd, DNNL_ARG_VARIANCE);
    slot->scale = unbound(pd, DNNL_ARG_SCALE);
    slot->shift = unbound(pd, DNNL_ARG_SHIFT);
    slot->dscale = unbound(pd, DNNL_ARG_DIFF_SCALE);
    slot->dshift = unbound(pd, DNNL_ARG_DIFF_SHIFT);
    slot->diffDst = unbound(pd, DNNL_ARG_DIFF_DST);
  }
  Entry& e = *slot;
  e.data.set_data_handle(mutableData(x));
  e.diffDst.set_data_handle(mutableData(dy));
  e.mean.set_data_handle(mutableData(mean));
  e.variance.set_data_handle(mutableData(variance));
  e.scale.set_data_handle(mutableData(scale));
  e.shift.set_data_handle(mutableData(shift));
  e.out.set_data_handle(dx);
  e.dscale.set_data_handle(dscale);
  e.dshift.set_data_handle(dshift);
  e.primitive.execute(cpuStream(), {{DNNL_ARG_SRC, e.data},
                                    {DNNL_ARG_DIFF_DST, e.diffDst},
                                    {DNNL_ARG_MEAN, e.mean},
                                    {DNNL_ARG_VARIANCE, e.variance},
                                    {DNNL_ARG_SCALE, e.scale},
                                    {DNNL_ARG_SHIFT, e.shift},
                                    {DNNL_ARG_DIFF_SRC, e.out},
                                    {DNNL_ARG_DIFF_SCALE, e.dscale},
                                    {DNNL_ARG_DIFF_SHIFT, e.dshift}});
  cpuStream().wait();
}

}  // namespace tern
