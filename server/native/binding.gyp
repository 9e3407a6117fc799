{
  "targets": [
    {
      "target_name": "ternary_onednn",
      "sources": ["src/addon.cc", "src/conv.cc", "src/elementwise.cc", "src/matmul.cc", "src/normalization.cc", "src/pooling.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
