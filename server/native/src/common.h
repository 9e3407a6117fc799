// Shared state of the addon: one oneDNN CPU engine and stream, used from the JS thread only.
#pragma once
#include <oneapi/dnnl/dnnl.hpp>

namespace tern {

dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

}  // namespace tern
