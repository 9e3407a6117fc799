// N-API surface of the addon. Every function takes the tfjs cpu backend's Float32Arrays and
// writes its result into a Float32Array the caller allocated, so no tensor data is copied.
#include <napi.h>
#include <omp.h>

#include <string>

#include "common.h"
#include "conv.h"

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
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("version", Napi::Function::New(env, Version));
  return exports;
}

NODE_API_MODULE(ternary_onednn, InitAddon)
