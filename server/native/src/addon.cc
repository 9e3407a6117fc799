// N-API surface of the addon. Every function takes the tfjs cpu backend's Float32Arrays and
// writes its result into a Float32Array the caller allocated, so no tensor data is copied.
#include <napi.h>
#include <omp.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common.h"
#include "conv.h"
#include "elementwise.h"
#include "matmul.h"
#include "normalization.h"
#include "pooling.h"

namespace tern {

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

namespace {

float* floatData(const Napi::CallbackInfo& info, size_t index, size_t minLength) {
  Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(index) + " must be a Float32Array");
  }
  auto array = value.As<Napi::Float32Array>();
  if (array.ElementLength() < minLength) {
    throw Napi::RangeError::New(info.Env(), "argument " + std::to_string(index) + " has " +
                                                std::to_string(array.ElementLength()) +
                                                " elements, expected " + std::to_string(minLength));
  }
  return array.Data();
}

ConvGeometry convGeometry(const Napi::CallbackInfo& info, size_t index) {
  constexpr size_t count = sizeof(ConvGeometry) / sizeof(int64_t);
  Napi::Value value = info[index];
  if (!value.IsArray() || value.As<Napi::Array>().Length() != count) {
    throw Napi::TypeError::New(info.Env(), "convolution geometry must be an array of " + std::to_string(count) + " integers");
  }
  auto array = value.As<Napi::Array>();
  ConvGeometry g;
  int64_t* fields = &g.batch;
  for (uint32_t i = 0; i < count; ++i) fields[i] = array.Get(i).As<Napi::Number>().Int64Value();
  return g;
}

size_t inSize(const ConvGeometry& g) { return g.batch * g.inHeight * g.inWidth * g.inChannels; }
size_t outSize(const ConvGeometry& g) { return g.batch * g.outHeight * g.outWidth * g.outChannels; }
size_t filterSize(const ConvGeometry& g) {
  return g.filterHeight * g.filterWidth * g.inChannels * g.outChannels;
}

/** Runs `body`, turning oneDNN's exceptions into JS errors that name the operation. */
template <typename Body>
void guarded(const Napi::CallbackInfo& info, const char* what, Body body) {
  try {
    body();
  } catch (const dnnl::error& error) {
    throw Napi::Error::New(info.Env(), std::string("oneDNN ") + what + " failed: " + error.what() +
                                           " (status " + std::to_string(error.status) + ")");
  }
}

// conv2dForward(geometry, x, w, y)
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  ConvGeometry g = convGeometry(info, 0);
  const float* x = floatData(info, 1, inSize(g));
  const float* w = floatData(info, 2, filterSize(g));
  float* y = floatData(info, 3, outSize(g));
  guarded(info, "convolution forward", [&] { conv2dForward(g, x, w, y); });
  return info.Env().Undefined();
}

// conv2dBackwardData(geometry, dy, w, dx)
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  ConvGeometry g = convGeometry(info, 0);
  const float* dy = floatData(info, 1, outSize(g));
  const float* w = floatData(info, 2, filterSize(g));
  float* dx = floatData(info, 3, inSize(g));
  guarded(info, "convolution backward-data", [&] { conv2dBackwardData(g, dy, w, dx); });
  return info.Env().Undefined();
}

// conv2dBackwardWeights(geometry, x, dy, dw)
Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo& info) {
  ConvGeometry g = convGeometry(info, 0);
  const float* x = floatData(info, 1, inSize(g));
  const float* dy = floatData(info, 2, outSize(g));
  float* dw = floatData(info, 3, filterSize(g));
  guarded(info, "convolution backward-weights", [&] { conv2dBackwardWeights(g, x, dy, dw); });
  return info.Env().Undefined();
}

int64_t integer(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(index) + " must be a number");
  }
  return info[index].As<Napi::Number>().Int64Value();
}

std::vector<int64_t> integers(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsArray()) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(index) + " must be an array of integers");
  }
  auto array = info[index].As<Napi::Array>();
  std::vector<int64_t> values(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) values[i] = array.Get(i).As<Napi::Number>().Int64Value();
  return values;
}

/** Optional Float32Array argument: nullptr for null/undefined. */
const float* optionalFloatData(const Napi::CallbackInfo& info, size_t index, size_t minLength) {
  if (info[index].IsNull() || info[index].IsUndefined()) return nullptr;
  return floatData(info, index, minLength);
}

// binary(op, a, aRepeat, aInner, b, bRepeat, bInner, out, run)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  int64_t op = integer(info, 0);
  if (op < 0 || op > static_cast<int64_t>(BinaryOp::NotEqual)) throw Napi::RangeError::New(info.Env(), "unknown binary op");
  const bool comparison = op > static_cast<int64_t>(BinaryOp::Minimum);
  Broadcast ba{integer(info, 2), integer(info, 3)};
  Broadcast bb{integer(info, 5), integer(info, 6)};
  Napi::Value outValue = info[7];
  if (!outValue.IsTypedArray() || outValue.As<Napi::TypedArray>().TypedArrayType() != (comparison ? napi_uint8_array : napi_float32_array)) {
    throw Napi::TypeError::New(info.Env(), comparison ? "the output of a comparison must be a Uint8Array" : "argument 7 must be a Float32Array");
  }
  int64_t size = static_cast<int64_t>(outValue.As<Napi::TypedArray>().ElementLength());
  int64_t run = integer(info, 8);
  auto inputLength = [&](Broadcast bc) { return bc.repeat == 1 ? size : size / (bc.repeat * bc.inner) * bc.inner; };
  if (run < 1 || size % run != 0 || ba.repeat < 1 || ba.inner < 1 || bb.repeat < 1 || bb.inner < 1) {
    throw Napi::RangeError::New(info.Env(), "inconsistent broadcast geometry");
  }
  const float* a = floatData(info, 1, inputLength(ba));
  const float* b = floatData(info, 4, inputLength(bb));
  if (comparison) {
    compare(static_cast<BinaryOp>(op), a, ba, b, bb, outValue.As<Napi::Uint8Array>().Data(), size, run);
  } else {
    binary(static_cast<BinaryOp>(op), a, ba, b, bb, outValue.As<Napi::Float32Array>().Data(), size, run);
  }
  return info.Env().Undefined();
}

// unary(op, x, out, alpha)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  int64_t op = integer(info, 0);
  if (op < 0 || op > static_cast<int64_t>(UnaryOp::Sign)) throw Napi::RangeError::New(info.Env(), "unknown unary op");
  float* out = floatData(info, 2, 0);
  size_t size = info[2].As<Napi::Float32Array>().ElementLength();
  const float* x = floatData(info, 1, size);
  unary(static_cast<UnaryOp>(op), x, out, static_cast<int64_t>(size), info[3].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

// reduceSum(x, out, outer, reduced, inner, scale)
Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  int64_t outer = integer(info, 2), reduced = integer(info, 3), inner = integer(info, 4);
  const float* x = floatData(info, 0, outer * reduced * inner);
  float* out = floatData(info, 1, outer * inner);
  reduceSum(x, out, outer, reduced, inner, info[5].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

// batchNormForward(x, mean, variance, offset | null, scale | null, y, channels, epsilon)
Napi::Value BatchNormForward(const Napi::CallbackInfo& info) {
  int64_t channels = integer(info, 6);
  float* y = floatData(info, 5, 0);
  int64_t size = static_cast<int64_t>(info[5].As<Napi::Float32Array>().ElementLength());
  if (channels < 1 || size % channels != 0) throw Napi::RangeError::New(info.Env(), "channels must divide the size");
  const float* x = floatData(info, 0, size);
  batchNormForward(x, floatData(info, 1, channels), floatData(info, 2, channels), optionalFloatData(info, 3, channels),
                   optionalFloatData(info, 4, channels), y, size, channels, info[7].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

// reluBackward(dy, x, dx)
Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  float* dx = floatData(info, 2, 0);
  size_t size = info[2].As<Napi::Float32Array>().ElementLength();
  reluBackward(floatData(info, 0, size), floatData(info, 1, size), dx, static_cast<int64_t>(size));
  return info.Env().Undefined();
}

// batchNormTrainForward(rows, channels, epsilon, x, scale, shift, y, mean, variance)
Napi::Value BatchNormTrainForward(const Napi::CallbackInfo& info) {
  int64_t rows = integer(info, 0), channels = integer(info, 1);
  if (rows < 1 || channels < 1) throw Napi::RangeError::New(info.Env(), "batch norm: rows and channels must be positive");
  float epsilon = info[2].As<Napi::Number>().FloatValue();
  const float* x = floatData(info, 3, rows * channels);
  const float* scale = floatData(info, 4, channels);
  const float* shift = floatData(info, 5, channels);
  float* y = floatData(info, 6, rows * channels);
  float* mean = floatData(info, 7, channels);
  float* variance = floatData(info, 8, channels);
  guarded(info, "batch normalization forward", [&] {
    batchNormTrainForward(rows, channels, epsilon, x, scale, shift, y, mean, variance);
  });
  return info.Env().Undefined();
}

// batchNormTrainBackward(rows, channels, epsilon, x, dy, mean, variance, scale, shift, dx, dscale, dshift)
Napi::Value BatchNormTrainBackward(const Napi::CallbackInfo& info) {
  int64_t rows = integer(info, 0), channels = integer(info, 1);
  if (rows < 1 || channels < 1) throw Napi::RangeError::New(info.Env(), "batch norm: rows and channels must be positive");
  float epsilon = info[2].As<Napi::Number>().FloatValue();
  const float* x = floatData(info, 3, rows * channels);
  const float* dy = floatData(info, 4, rows * channels);
  const float* mean = floatData(info, 5, channels);
  const float* variance = floatData(info, 6, channels);
  const float* scale = floatData(info, 7, channels);
  const float* shift = floatData(info, 8, channels);
  float* dx = floatData(info, 9, rows * channels);
  float* dscale = floatData(info, 10, channels);
  float* dshift = floatData(info, 11, channels);
  guarded(info, "batch normalization backward", [&] {
    batchNormTrainBackward(rows, channels, epsilon, x, dy, mean, variance, scale, shift, dx, dscale, dshift);
  });
  return info.Env().Undefined();
}

// sgdUpdate(w, g, buf, wOut, bufOut, lr, momentum, nesterov, weightDecay)
Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  float* wOut = floatData(info, 3, 0);
  size_t size = info[3].As<Napi::Float32Array>().ElementLength();
  sgdUpdate(floatData(info, 0, size), floatData(info, 1, size), floatData(info, 2, size), wOut, floatData(info, 4, size),
            static_cast<int64_t>(size), info[5].As<Napi::Number>().FloatValue(), info[6].As<Napi::Number>().FloatValue(),
            info[7].ToBoolean(), info[8].As<Napi::Number>().FloatValue());
  return info.Env().Undefined();
}

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t d : v) p *= d;
  return p;
}

// slice(x, shape, begin, size, out)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  auto shape = integers(info, 1), begin = integers(info, 2), size = integers(info, 3);
  if (shape.empty() || begin.size() != shape.size() || size.size() != shape.size()) {
    throw Napi::RangeError::New(info.Env(), "slice: shape, begin and size must have the same rank (≥ 1)");
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    if (begin[d] < 0 || size[d] < 0 || begin[d] + size[d] > shape[d]) throw Napi::RangeError::New(info.Env(), "slice out of bounds");
  }
  slice(floatData(info, 0, product(shape)), shape.data(), begin.data(), size.data(), static_cast<int>(shape.size()),
        floatData(info, 4, product(size)));
  return info.Env().Undefined();
}

// pad(x, shape, before, outShape, value, out)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  auto shape = integers(info, 1), before = integers(info, 2), outShape = integers(info, 3);
  if (shape.empty() || before.size() != shape.size() || outShape.size() != shape.size()) {
    throw Napi::RangeError::New(info.Env(), "pad: shape, before and outShape must have the same rank (≥ 1)");
  }
  for (size_t d = 0; d < shape.size(); ++d) {
    if (before[d] < 0 || before[d] + shape[d] > outShape[d]) throw Napi::RangeError::New(info.Env(), "pad: negative padding");
  }
  pad(floatData(info, 0, product(shape)), shape.data(), before.data(), outShape.data(), static_cast<int>(shape.size()),
      info[4].As<Napi::Number>().FloatValue(), floatData(info, 5, product(outShape)));
  return info.Env().Undefined();
}

PoolGeometry poolGeometry(const Napi::CallbackInfo& info, size_t index) {
  auto values = integers(info, index);
  constexpr size_t count = sizeof(PoolGeometry) / sizeof(int64_t);
  if (values.size() != count) throw Napi::TypeError::New(info.Env(), "pooling geometry must have " + std::to_string(count) + " integers");
  PoolGeometry g;
  std::copy(values.begin(), values.end(), &g.batch);
  return g;
}

// avgPool(geometry, x, y) / avgPoolGrad(geometry, dy, dx)
Napi::Value AvgPool(const Napi::CallbackInfo& info) {
  PoolGeometry g = poolGeometry(info, 0);
  const float* x = floatData(info, 1, g.batch * g.inHeight * g.inWidth * g.channels);
  float* y = floatData(info, 2, g.batch * g.outHeight * g.outWidth * g.channels);
  guarded(info, "average pooling", [&] { avgPoolForward(g, x, y); });
  return info.Env().Undefined();
}

Napi::Value AvgPoolGrad(const Napi::CallbackInfo& info) {
  PoolGeometry g = poolGeometry(info, 0);
  const float* dy = floatData(info, 1, g.batch * g.outHeight * g.outWidth * g.channels);
  float* dx = floatData(info, 2, g.batch * g.inHeight * g.inWidth * g.channels);
  guarded(info, "average pooling backward", [&] { avgPoolBackward(g, dy, dx); });
  return info.Env().Undefined();
}

// maxPool(geometry, x, y) / maxPoolGrad(geometry, x, dy, dx)
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  PoolGeometry g = poolGeometry(info, 0);
  const float* x = floatData(info, 1, g.batch * g.inHeight * g.inWidth * g.channels);
  float* y = floatData(info, 2, g.batch * g.outHeight * g.outWidth * g.channels);
  guarded(info, "max pooling", [&] { maxPoolForward(g, x, y); });
  return info.Env().Undefined();
}

Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  PoolGeometry g = poolGeometry(info, 0);
  const float* x = floatData(info, 1, g.batch * g.inHeight * g.inWidth * g.channels);
  const float* dy = floatData(info, 2, g.batch * g.outHeight * g.outWidth * g.channels);
  float* dx = floatData(info, 3, g.batch * g.inHeight * g.inWidth * g.channels);
  guarded(info, "max pooling backward", [&] { maxPoolBackward(g, x, dy, dx); });
  return info.Env().Undefined();
}

// batchMatMul(batch, m, n, k, transposeA, transposeB, a, aBatch, b, bBatch, c)
Napi::Value BatchMatMul(const Napi::CallbackInfo& info) {
  int64_t batch = integer(info, 0), m = integer(info, 1), n = integer(info, 2), k = integer(info, 3);
  int64_t aBatch = integer(info, 7), bBatch = integer(info, 9);
  if (batch < 1 || m < 1 || n < 1 || k < 1 || (aBatch != 1 && aBatch != batch) || (bBatch != 1 && bBatch != batch)) {
    throw Napi::RangeError::New(info.Env(), "batchMatMul: inconsistent sizes");
  }
  const float* a = floatData(info, 6, aBatch * m * k);
  const float* b = floatData(info, 8, bBatch * k * n);
  float* c = floatData(info, 10, batch * m * n);
  guarded(info, "matmul", [&] {
    batchMatMul(batch, m, n, k, info[4].ToBoolean(), info[5].ToBoolean(), a, aBatch, b, bBatch, c);
  });
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int threads = info[0].As<Napi::Number>().Int32Value();
  if (threads < 1) throw Napi::RangeError::New(info.Env(), "threads must be at least 1");
  omp_set_num_threads(threads);
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  const dnnl_version_t* v = dnnl_version();
  return Napi::String::New(info.Env(), std::to_string(v->major) + "." + std::to_string(v->minor) +
                                           "." + std::to_string(v->patch));
}

}  // namespace
}  // namespace tern

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  using namespace tern;
  exports.Set("conv2dForward", Napi::Function::New(env, Conv2dForward));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, Conv2dBackwardData));
  exports.Set("conv2dBackwardWeights", Napi::Function::New(env, Conv2dBackwardWeights));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("reduceSum", Napi::Function::New(env, ReduceSum));
  exports.Set("batchNormForward", Napi::Function::New(env, BatchNormForward));
  exports.Set("batchNormTrainForward", Napi::Function::New(env, BatchNormTrainForward));
  exports.Set("batchNormTrainBackward", Napi::Function::New(env, BatchNormTrainBackward));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate));
  exports.Set("slice", Napi::Function::New(env, Slice));
  exports.Set("pad", Napi::Function::New(env, Pad));
  exports.Set("avgPool", Napi::Function::New(env, AvgPool));
  exports.Set("avgPoolGrad", Napi::Function::New(env, AvgPoolGrad));
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("batchMatMul", Napi::Function::New(env, BatchMatMul));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

NODE_API_MODULE(ternary_onednn, InitAddon)
