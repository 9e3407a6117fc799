#include "matmul.h"

#include <oneapi/dnnl/dnnl.hpp>

namespace tern {

void batchMatMul(int64_t batch, int64_t m, int64_t n, int64_t k, bool transposeA, bool transposeB, const float* a,
                 int64_t aBatch, const float* b, int64_t bBatch, float* c) {
  const int64_t lda = transposeA ? m : k;
  const int64_t ldb = transposeB ? k : n;
  for (int64_t i = 0; i < batch; ++i) {
    const float* ai = a + (aBatch == 1 ? 0 : i * m * k);
    const float* bi = b + (bBatch == 1 ? 0 : i * k * n);
    dnnl::error::wrap_c_api(dnnl_sgemm(transposeA ? 'T' : 'N', transposeB ? 'T' : 'N', m, n, k, 1.f, ai, lda, bi, ldb,
                                       0.f, c + i * m * n, n),
                            "sgemm");
  }
}

}  // namespace tern
