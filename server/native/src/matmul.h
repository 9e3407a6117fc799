// Matrix products for tfjs's BatchMatMul (dense layers and their gradients) on oneDNN's sgemm.
#pragma once
#include <cstdint>

namespace tern {

/**
 * For each of `batch` pairs: C[m×n] = op(A) · op(B), row-major, op = transpose when asked.
 * A is [k×m] when transposed, else [m×k]; B is [n×k] when transposed, else [k×n]. An input with
 * aBatch (bBatch) = 1 is shared by every pair.
 */
void batchMatMul(int64_t batch, int64_t m, int64_t n, int64_t k, bool transposeA, bool transposeB, const float* a,
                 int64_t aBatch, const float* b, int64_t bBatch, float* c);

}  // namespace tern
