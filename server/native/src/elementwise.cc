#include "elementwise.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace tern {
namespace {

// Below this many elements a parallel region costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

int threadsFor(int64_t work) { return work < kParallelMin ? 1 : omp_get_max_threads(); }

/** The [begin, end) share of thread `t` of `threads` of `size` items, in multiples of `grain`. */
inline void share(int64_t size, int64_t grain, int t, int threads, int64_t& begin, int64_t& end) {
  int64_t blocks = (size + grain - 1) / grain;
  int64_t per = blocks / threads, extra = blocks % threads;
  int64_t first = t * per + std::min<int64_t>(t, extra);
  int64_t count = per + (t < extra ? 1 : 0);
  begin = std::min(size, first * grain);
  end = std::min(size, (first + count) * grain);
}

template <BinaryOp op>
inline auto apply(float x, float y) {
  if constexpr (op == BinaryOp::Add) return x + y;
  if constexpr (op == BinaryOp::Sub) return x - y;
  if constexpr (op == BinaryOp::Mul) return x * y;
  if constexpr (op == BinaryOp::Div) return x / y;
  if constexpr (op == BinaryOp::SquaredDifference) return (x - y) * (x - y);
  // NaN propagates as in tfjs (Math.max/min return NaN when either is NaN).
  if constexpr (op == BinaryOp::Maximum) return (x != x || y != y) ? NAN : (x > y ? x : y);
  if constexpr (op == BinaryOp::Minimum) return (x != x || y != y) ? NAN : (x < y ? x : y);
  if constexpr (op == BinaryOp::Less) return x < y;
  if constexpr (op == BinaryOp::LessEqual) return x <= y;
  if constexpr (op == BinaryOp::Greater) return x > y;
  if constexpr (op == BinaryOp::GreaterEqual) return x >= y;
  if constexpr (op == BinaryOp::Equal) return x == y;
  if constexpr (op == BinaryOp::NotEqual) return x != y;
}

/** One run: each input contiguous (stride 1) or constant (stride 0); templated to vectorise. */
template <BinaryOp op, bool aStep, bool bStep, typename Out>
inline void run(const float* __restrict a, const float* __restrict b, Out* __restrict out, int64_t n) {
  if constexpr (aStep && bStep) {
    for (int64_t k = 0; k < n; ++k) out[k] = apply<op>(a[k], b[k]);
  } else if constexpr (aStep) {
    const float y = *b;
    for (int64_t k = 0; k < n; ++k) out[k] = apply<op>(a[k], y);
  } else if constexpr (bStep) {
    const float x = *a;
    for (int64_t k = 0; k < n; ++k) out[k] = apply<op>(x, b[k]);
  } else {
    const Out v = apply<op>(*a, *b);
    for (int64_t k = 0; k < n; ++k) out[k] = v;
  }
}

/** Where output element k reads an input, and whether the input advances with k in a run. */
inline const float* locate(const float* base, Broadcast bc, int64_t k, bool& steps) {
  if (bc.repeat == 1) {
    steps = true;
    return base + k;
  }
  int64_t period = bc.repeat * bc.inner;
  steps = bc.inner > 1;
  return base + (k / period) * bc.inner + (k % bc.inner);
}

template <BinaryOp op, typename Out>
void binaryTyped(const float* a, Broadcast ba, const float* b, Broadcast bb, Out* out, int64_t size,
                 int64_t runLength) {
  const int threads = threadsFor(size);
#pragma omp parallel num_threads(threads)
  {
    int64_t begin, end;
    share(size, 1, omp_get_thread_num(), omp_get_num_threads(), begin, end);
    for (int64_t k = begin; k < end;) {
      int64_t stop = std::min(end, (k / runLength + 1) * runLength);
      bool aSteps, bSteps;
      const float* pa = locate(a, ba, k, aSteps);
      const float* pb = locate(b, bb, k, bSteps);
      int64_t n = stop - k;
      if (aSteps && bSteps) run<op, true, true, Out>(pa, pb, out + k, n);
      else if (aSteps) run<op, true, false, Out>(pa, pb, out + k, n);
      else if (bSteps) run<op, false, true, Out>(pa, pb, out + k, n);
      else run<op, false, false, Out>(pa, pb, out + k, n);
      k = stop;
    }
  }
}

template <UnaryOp op>
inline float applyUnary(float x, float alpha) {
  if constexpr (op == UnaryOp::Relu) return x < 0.f ? 0.f : x;  // NaN stays NaN, as in tfjs
  if constexpr (op == UnaryOp::Relu6) return x < 0.f ? 0.f : (x > 6.f ? 6.f : x);
  if constexpr (op == UnaryOp::Step) return x > 0.f ? 1.f : (x != x ? x : alpha);
  if constexpr (op == UnaryOp::Square) return x * x;
  if constexpr (op == UnaryOp::Neg) return -x;
  if constexpr (op == UnaryOp::Abs) return std::fabs(x);
  if constexpr (op == UnaryOp::Rsqrt) return 1.f / std::sqrt(x);
  if constexpr (op == UnaryOp::Sqrt) return std::sqrt(x);
  if constexpr (op == UnaryOp::Sign) return x > 0.f ? 1.f : (x < 0.f ? -1.f : (x == 0.f ? 0.f : x));
}

template <UnaryOp op>
void unaryTyped(const float* __restrict x, float* __restrict out, int64_t size, float alpha) {
#pragma omp parallel for num_threads(threadsFor(size)) schedule(static)
  for (int64_t k = 0; k < size; ++k) out[k] = applyUnary<op>(x[k], alpha);
}

}  // namespace

void binary(BinaryOp op, const float* a, Broadcast ba, const float* b, Broadcast bb, float* out,
            int64_t size, int64_t runLength) {
  switch (op) {
    case BinaryOp::Add: return binaryTyped<BinaryOp::Add>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::Sub: return binaryTyped<BinaryOp::Sub>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::Mul: return binaryTyped<BinaryOp::Mul>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::Div: return binaryTyped<BinaryOp::Div>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::SquaredDifference:
      return binaryTyped<BinaryOp::SquaredDifference>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::Maximum: return binaryTyped<BinaryOp::Maximum>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::Minimum: return binaryTyped<BinaryOp::Minimum>(a, ba, b, bb, out, size, runLength);
    default: return;  // comparisons go through compare()
  }
}

void compare(BinaryOp op, const float* a, Broadcast ba, const float* b, Broadcast bb, uint8_t* out,
             int64_t size, int64_t runLength) {
  switch (op) {
    case BinaryOp::Less: return binaryTyped<BinaryOp::Less>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::LessEqual: return binaryTyped<BinaryOp::LessEqual>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::Greater: return binaryTyped<BinaryOp::Greater>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::GreaterEqual: return binaryTyped<BinaryOp::GreaterEqual>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::Equal: return binaryTyped<BinaryOp::Equal>(a, ba, b, bb, out, size, runLength);
    case BinaryOp::NotEqual: return binaryTyped<BinaryOp::NotEqual>(a, ba, b, bb, out, size, runLength);
    default: return;
  }
}

void unary(UnaryOp op, const float* x, float* out, int64_t size, float alpha) {
  switch (op) {
    case UnaryOp::Relu: return unaryTyped<UnaryOp::Relu>(x, out, size, alpha);
    case UnaryOp::Relu6: return unaryTyped<UnaryOp::Relu6>(x, out, size, alpha);
    case UnaryOp::Step: return unaryTyped<UnaryOp::Step>(x, out, size, alpha);
    case UnaryOp::Square: return unaryTyped<UnaryOp::Square>(x, out, size, alpha);
    case UnaryOp::Neg: return unaryTyped<UnaryOp::Neg>(x, out, size, alpha);
    case UnaryOp::Abs: return unaryTyped<UnaryOp::Abs>(x, out, size, alpha);
    case UnaryOp::Rsqrt: return unaryTyped<UnaryOp::Rsqrt>(x, out, size, alpha);
    case UnaryOp::Sqrt: return unaryTyped<UnaryOp::Sqrt>(x, out, size, alpha);
    case UnaryOp::Sign: return unaryTyped<UnaryOp::Sign>(x, out, size, alpha);
  }
}

void reluBackward(const float* __restrict dy, const float* __restrict x, float* __restrict dx, int64_t size) {
  // dy · step(x) as tfjs computes it, so NaN inputs and 0 · ∞ behave the same.
#pragma omp parallel for num_threads(threadsFor(size)) schedule(static)
  for (int64_t k = 0; k < size; ++k) {
    // Written as selects, not branches, so that it vectorises (x is positive half the time).
    const float v = x[k];
    float step = v > 0.f ? 1.f : 0.f;
    step = v != v ? v : step;
    dx[k] = dy[k] * step;
  }
}

void sgdUpdate(const float* __restrict w, const float* __restrict g, const float* __restrict buf, float* __restrict wOut,
               float* __restrict bufOut, int64_t size, float lr, float momentum, bool nesterov, float weightDecay) {
  // Each product is rounded to float before the sum, as the tfjs ops do (the build has no FMA).
#pragma omp parallel for num_threads(threadsFor(size)) schedule(static)
  for (int64_t k = 0; k < size; ++k) {
    const float d = weightDecay != 0.f ? g[k] + w[k] * weightDecay : g[k];
    const float b = buf[k] * momentum + d;
    const float step = nesterov ? d + b * momentum : b;
    bufOut[k] = b;
    wOut[k] = w[k] - step * lr;
  }
}

void reduceSum(const float* x, float* out, int64_t outer, int64_t reduced, int64_t inner, double scale) {
  const int64_t total = outer * reduced * inner;
  if (inner == 1) {
    // Contiguous rows: one sum per row (double accumulators, like the cpu backend's JS numbers).
#pragma omp parallel for num_threads(threadsFor(total)) schedule(static)
    for (int64_t o = 0; o < outer; ++o) {
      const float* row = x + o * reduced;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t r = 0;
      for (; r + 4 <= reduced; r += 4) {
        s0 += row[r];
        s1 += row[r + 1];
        s2 += row[r + 2];
        s3 += row[r + 3];
      }
      for (; r < reduced; ++r) s0 += row[r];
      out[o] = static_cast<float>((s0 + s1 + s2 + s3) * scale);
    }
    return;
  }
  if (outer >= omp_get_max_threads() * 4 || total < kParallelMin) {
    // Enough independent outputs: each thread owns whole [o, :] slices.
#pragma omp parallel num_threads(threadsFor(total))
    {
      std::vector<double> acc(inner);
#pragma omp for schedule(static)
      for (int64_t o = 0; o < outer; ++o) {
        std::fill(acc.begin(), acc.end(), 0.0);
        const float* block = x + o * reduced * inner;
        for (int64_t r = 0; r < reduced; ++r) {
          const float* row = block + r * inner;
          for (int64_t i = 0; i < inner; ++i) acc[i] += row[i];
        }
        for (int64_t i = 0; i < inner; ++i) out[o * inner + i] = static_cast<float>(acc[i] * scale);
      }
    }
    return;
  }
  // Few outputs (per-channel statistics of an NHWC batch): split the reduced axis across threads,
  // then add the per-thread partial sums in a fixed order (deterministic for a thread count).
  const int threads = threadsFor(total);
  std::vector<double> partial(static_cast<size_t>(threads) * outer * inner, 0.0);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    double* acc = partial.data() + static_cast<size_t>(t) * outer * inner;
    for (int64_t o = 0; o < outer; ++o) {
      int64_t begin, end;
      share(reduced, 1, t, omp_get_num_threads(), begin, end);
      double* accRow = acc + o * inner;
      for (int64_t r = begin; r < end; ++r) {
        const float* row = x + (o * reduced + r) * inner;
        for (int64_t i = 0; i < inner; ++i) accRow[i] += row[i];
      }
    }
  }
  for (int64_t j = 0; j < outer * inner; ++j) {
    double s = 0;
    for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * outer * inner + j];
    out[j] = static_cast<float>(s * scale);
  }
}

void batchNormForward(const float* x, const float* mean, const float* variance, const float* offset,
                      const float* scale, float* y, int64_t size, int64_t channels, float epsilon) {
  // Parameters are [channels] or [1] (broadcast); `nullptr` offset/scale mean 0/1.
  std::vector<float> mul(channels), add(channels), centre(channels);
  for (int64_t c = 0; c < channels; ++c) {
    float g = scale ? scale[c] : 1.f;
    mul[c] = g / std::sqrt(variance[c] + epsilon);
    add[c] = offset ? offset[c] : 0.f;
    centre[c] = mean[c];
  }
  const float* a = mul.data();
  const float* b = add.data();
  const float* m = centre.data();
  const int64_t rows = size / channels;
  // (x − μ)·a + β rather than x·a + (β − μ·a): no cancellation when |μ| ≫ σ.
#pragma omp parallel for num_threads(threadsFor(size)) schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * channels;
    float* yr = y + r * channels;
    for (int64_t c = 0; c < channels; ++c) yr[c] = (xr[c] - m[c]) * a[c] + b[c];
  }
}

void slice(const float* x, const int64_t* shape, const int64_t* begin, const int64_t* size, int rank,
           float* out) {
  // Copy runs along the last axis; the outer coordinates are enumerated per output row.
  int64_t rows = 1;
  for (int d = 0; d + 1 < rank; ++d) rows *= size[d];
  const int64_t runLength = size[rank - 1];
  std::vector<int64_t> strides(rank, 1);
  for (int d = rank - 2; d >= 0; --d) strides[d] = strides[d + 1] * shape[d + 1];
#pragma omp parallel for num_threads(threadsFor(rows * runLength)) schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rest = row, offset = begin[rank - 1];
    for (int d = rank - 2; d >= 0; --d) {
      offset += (rest % size[d] + begin[d]) * strides[d];
      rest /= size[d];
    }
    std::copy(x + offset, x + offset + runLength, out + row * runLength);
  }
}

void pad(const float* x, const int64_t* shape, const int64_t* before, const int64_t* outShape, int rank,
         float value, float* out) {
  int64_t outSize = 1, rows = 1;
  for (int d = 0; d < rank; ++d) outSize *= outShape[d];
  for (int d = 0; d + 1 < rank; ++d) rows *= shape[d];
  std::fill(out, out + outSize, value);
  const int64_t runLength = shape[rank - 1];
  std::vector<int64_t> outStrides(rank, 1);
  for (int d = rank - 2; d >= 0; --d) outStrides[d] = outStrides[d + 1] * outShape[d + 1];
#pragma omp parallel for num_threads(threadsFor(rows * runLength)) schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    int64_t rest = row, offset = before[rank - 1];
    for (int d = rank - 2; d >= 0; --d) {
      offset += (rest % shape[d] + before[d]) * outStrides[d];
      rest /= shape[d];
    }
    std::copy(x + row * runLength, x + (row + 1) * runLength, out + offset);
  }
}

}  // namespace tern
